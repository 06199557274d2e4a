"""SQL for programmes, centres and targets."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.core.pagination import PageParams, paginate
from service.models import Centre, Programme, Target


async def programmes_page(
    session: AsyncSession, page: PageParams
) -> tuple[Sequence[Programme], str | None]:
    return await paginate(session, select(Programme), Programme.id, page)


async def centres_page(
    session: AsyncSession, page: PageParams
) -> tuple[Sequence[Centre], str | None]:
    return await paginate(session, select(Centre), Centre.id, page)


async def targets_page(
    session: AsyncSession, page: PageParams
) -> tuple[Sequence[Target], str | None]:
    targets = select(Target).options(selectinload(Target.programmes))
    return await paginate(session, targets, Target.id, page)


async def programmes_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, Programme]:
    rows = await session.scalars(select(Programme).where(Programme.code.in_(codes)))
    return {p.code: p for p in rows}


async def programme_by_code(session: AsyncSession, code: str) -> Programme | None:
    return await session.scalar(select(Programme).where(Programme.code == code))


async def centre_by_code(session: AsyncSession, code: str) -> Centre | None:
    return await session.scalar(select(Centre).where(Centre.code == code))


async def centres_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, Centre]:
    rows = await session.scalars(select(Centre).where(Centre.code.in_(codes)))
    return {c.code: c for c in rows}


async def target_by_code(session: AsyncSession, code: str) -> Target | None:
    return await session.scalar(
        select(Target).where(Target.code == code).options(selectinload(Target.programmes))
    )
