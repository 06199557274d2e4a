"""Every SQL statement about districts, their aliases and applicants' district text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Applicant, District, DistrictAlias, PlacesVersion
from service.places.matcher import Place


async def all_places(session: AsyncSession) -> list[Place]:
    aliases: dict[str, list[str]] = {}
    for code, alias in await session.execute(
        select(DistrictAlias.district_code, DistrictAlias.alias).order_by(
            DistrictAlias.district_code, DistrictAlias.alias
        )
    ):
        aliases.setdefault(code, []).append(alias)
    rows = await session.scalars(select(District).order_by(District.code))
    return [
        Place(
            code=d.code,
            name=d.name,
            name_ur=d.name_ur,
            province=d.province,
            aliases=tuple(aliases.get(d.code, ())),
        )
        for d in rows
    ]


async def version_token(session: AsyncSession) -> str | None:
    return await session.scalar(select(PlacesVersion.token).where(PlacesVersion.id == 1))


async def bump_version(session: AsyncSession, token: str, now: datetime) -> None:
    """Change the version row; on PostgreSQL this also serialises concurrent list changes."""
    await session.execute(
        update(PlacesVersion).where(PlacesVersion.id == 1).values(token=token, changed_at=now)
    )


async def page(
    session: AsyncSession, *, province: str | None, after: str | None, limit: int
) -> Sequence[District]:
    stmt = select(District)
    if province is not None:
        stmt = stmt.where(District.province == province)
    if after is not None:
        stmt = stmt.where(District.code > after)
    return (await session.scalars(stmt.order_by(District.code).limit(limit))).all()


async def aliases_of(session: AsyncSession, codes: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {code: [] for code in codes}
    if not codes:
        return found
    rows = await session.execute(
        select(DistrictAlias.district_code, DistrictAlias.alias)
        .where(DistrictAlias.district_code.in_(codes))
        .order_by(DistrictAlias.district_code, DistrictAlias.created_at, DistrictAlias.alias)
    )
    for code, alias in rows:
        found[code].append(alias)
    return found


async def get(session: AsyncSession, code: str) -> District | None:
    return await session.get(District, code)


async def add(session: AsyncSession, district: District, aliases: Sequence[str]) -> None:
    session.add(district)
    await session.flush()
    await add_aliases(session, district.code, aliases)


async def add_aliases(session: AsyncSession, code: str, aliases: Sequence[str]) -> None:
    session.add_all(DistrictAlias(district_code=code, alias=a) for a in aliases)
    await session.flush()


async def unmatched(session: AsyncSession) -> list[tuple[str, int]]:
    """Applicants' district text that is not the canonical name of a district of their province."""
    known = select(District.name, District.province)
    count = func.count()
    rows = await session.execute(
        select(Applicant.district, count)
        .where(tuple_(Applicant.district, Applicant.province).not_in(known))
        .group_by(Applicant.district)
        .order_by(count.desc(), Applicant.district)
    )
    return [(text, int(n)) for text, n in rows]


async def count_with_text(session: AsyncSession, text: str) -> dict[str, int]:
    """How many applicants have exactly this district text, per province."""
    rows = await session.execute(
        select(Applicant.province, func.count())
        .where(Applicant.district == text)
        .group_by(Applicant.province)
    )
    return {province: int(n) for province, n in rows}


async def rename_district_text(
    session: AsyncSession, *, text: str, province: str, name: str, now: datetime
) -> int:
    """Store ``name`` for every applicant of ``province`` whose district text is ``text``.

    An UPDATE of ``applicants.district``: the breakdown cube's trigger moves each
    applicant's counts from the old text to the new one in the same transaction.
    """
    result = await session.execute(
        update(Applicant)
        .where(and_(Applicant.district == text, Applicant.province == province))
        .values(district=name, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
