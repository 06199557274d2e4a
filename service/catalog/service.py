"""Programmes, centres and targets: seeded reference data that admins extend."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from service.catalog import repository
from service.catalog.schemas import CentreCreate, ProgrammeCreate, TargetCreate
from service.core.errors import Conflict, ValidationFailed
from service.core.i18n import msg
from service.core.pagination import PageParams
from service.models import Centre, Programme, Target


class CodeTaken(Conflict):
    title, slug = "Code already in use", "code-taken"


async def list_programmes(
    session: AsyncSession, page: PageParams
) -> tuple[Sequence[Programme], str | None]:
    return await repository.programmes_page(session, page)


async def list_centres(
    session: AsyncSession, page: PageParams
) -> tuple[Sequence[Centre], str | None]:
    return await repository.centres_page(session, page)


async def list_targets(
    session: AsyncSession, page: PageParams
) -> tuple[Sequence[Target], str | None]:
    return await repository.targets_page(session, page)


async def create_programme(session: AsyncSession, data: ProgrammeCreate) -> Programme:
    if await repository.programme_by_code(session, data.code):
        raise CodeTaken(
            msg("programme.code_taken", "A programme with code '{code}' exists.", code=data.code)
        )
    programme = Programme(**data.model_dump())
    session.add(programme)
    await session.flush()
    return programme


async def create_centre(session: AsyncSession, data: CentreCreate) -> Centre:
    if await repository.centre_by_code(session, data.code):
        raise CodeTaken(
            msg("centre.code_taken", "A centre with code '{code}' exists.", code=data.code)
        )
    centre = Centre(**data.model_dump())
    session.add(centre)
    await session.flush()
    return centre


async def create_target(session: AsyncSession, data: TargetCreate) -> Target:
    if await repository.target_by_code(session, data.code):
        raise CodeTaken(
            msg("target.code_taken", "A target with code '{code}' exists.", code=data.code)
        )
    found = await repository.programmes_by_code(session, data.programmes)
    missing = [code for code in data.programmes if code not in found]
    if missing:
        unknown = msg("programme.unknown", "Unknown programme: {codes}.", codes=", ".join(missing))
        raise ValidationFailed({"programmes": unknown})
    target = Target(
        code=data.code,
        name=data.name,
        goal=data.goal,
        metric=data.metric.value,
        deadline=data.deadline,
        programmes=[found[code] for code in data.programmes],
    )
    session.add(target)
    await session.flush()
    return target
