from fastapi import APIRouter

from service.catalog import service
from service.catalog.schemas import (
    CentreCreate,
    CentreRead,
    ProgrammeCreate,
    ProgrammeRead,
    TargetCreate,
    TargetRead,
)
from service.core.auth import AdminActor, AnyActor
from service.core.db import SessionDep
from service.core.errors import problem_responses
from service.core.idempotency import IdempotencyDep
from service.core.pagination import Page, PageDep
from service.core.routing import CheckedRoute
from service.models import Target

router = APIRouter(
    prefix="/api/v1", tags=["programmes, centres and targets"], route_class=CheckedRoute
)

READ_ERRORS = problem_responses(401, 422)
CREATE_ERRORS = problem_responses(401, 403, 409, 413, 422)


def target_read(target: Target) -> TargetRead:
    return TargetRead(
        id=target.id,
        code=target.code,
        name=target.name,
        goal=target.goal,
        metric=target.metric,
        programmes=sorted(p.code for p in target.programmes),
        deadline=target.deadline,
        created_at=target.created_at,
    )


@router.get("/programmes", responses=READ_ERRORS)
async def list_programmes(
    session: SessionDep, _actor: AnyActor, page: PageDep
) -> Page[ProgrammeRead]:
    """List the training programmes."""
    rows, cursor = await service.list_programmes(session, page)
    return Page(items=[ProgrammeRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.post("/programmes", status_code=201, response_model=ProgrammeRead, responses=CREATE_ERRORS)
async def create_programme(
    body: ProgrammeCreate, session: SessionDep, _actor: AdminActor, idem: IdempotencyDep
) -> object:
    """Create a programme (admin)."""
    programme = await service.create_programme(session, body)
    return await idem.respond(201, ProgrammeRead.model_validate(programme))


@router.get("/centres", responses=READ_ERRORS)
async def list_centres(session: SessionDep, _actor: AnyActor, page: PageDep) -> Page[CentreRead]:
    """List the training centres."""
    rows, cursor = await service.list_centres(session, page)
    return Page(items=[CentreRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.post("/centres", status_code=201, response_model=CentreRead, responses=CREATE_ERRORS)
async def create_centre(
    body: CentreCreate, session: SessionDep, _actor: AdminActor, idem: IdempotencyDep
) -> object:
    """Create a centre (admin)."""
    centre = await service.create_centre(session, body)
    return await idem.respond(201, CentreRead.model_validate(centre))


@router.get("/targets", responses=READ_ERRORS)
async def list_targets(session: SessionDep, _actor: AnyActor, page: PageDep) -> Page[TargetRead]:
    """List the targets, the 100,000-trainee commitment first among them."""
    rows, cursor = await service.list_targets(session, page)
    return Page(items=[target_read(r) for r in rows], next_cursor=cursor)


@router.post("/targets", status_code=201, response_model=TargetRead, responses=CREATE_ERRORS)
async def create_target(
    body: TargetCreate, session: SessionDep, _actor: AdminActor, idem: IdempotencyDep
) -> object:
    """Create a target over one or more programmes (admin)."""
    target = await service.create_target(session, body)
    return await idem.respond(201, target_read(target))
