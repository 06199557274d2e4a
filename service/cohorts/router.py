from typing import Annotated

from fastapi import APIRouter, Query

from service.cohorts import service
from service.cohorts.schemas import CohortCreate, CohortRead, CohortUpdate
from service.core.auth import RegistrarActor, StaffActor
from service.core.db import SessionDep
from service.core.errors import problem_responses
from service.core.idempotency import IdempotencyDep
from service.core.pagination import Page, PageDep
from service.core.routing import CheckedRoute
from service.models.enums import CohortStatus

router = APIRouter(prefix="/api/v1/cohorts", tags=["cohorts"], route_class=CheckedRoute)

ACTION_ERRORS = problem_responses(401, 403, 404, 409)


@router.post(
    "",
    status_code=201,
    response_model=CohortRead,
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_cohort(
    body: CohortCreate, session: SessionDep, actor: StaffActor, idem: IdempotencyDep
) -> object:
    """Create a cohort (staff of its centre, admin); it starts open."""
    cohort = await service.create(session, actor, body)
    return await idem.respond(201, cohort)


@router.get("", responses=problem_responses(401, 403, 422))
async def list_cohorts(
    session: SessionDep,
    _actor: RegistrarActor,
    page: PageDep,
    programme: Annotated[str | None, Query(max_length=64, description="Programme code.")] = None,
    centre: Annotated[str | None, Query(max_length=64, description="Centre code.")] = None,
    status: Annotated[CohortStatus | None, Query()] = None,
) -> Page[CohortRead]:
    """List cohorts, optionally by programme, centre and status."""
    items, cursor = await service.list_cohorts(
        session, page, programme=programme, centre=centre, status=status
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/{cohort_id}", responses=problem_responses(401, 403, 404))
async def get_cohort(cohort_id: str, session: SessionDep, _actor: RegistrarActor) -> CohortRead:
    """Read one cohort with its seat and waitlist counters."""
    return await service.get(session, cohort_id)


@router.patch("/{cohort_id}", responses=problem_responses(401, 403, 404, 409, 422))
async def update_cohort(
    cohort_id: str, body: CohortUpdate, session: SessionDep, actor: StaffActor
) -> CohortRead:
    """Change a cohort; raising capacity promotes waitlisted enrollments at once (FIFO)."""
    return await service.update(session, actor, cohort_id, body)


@router.post("/{cohort_id}/start", responses=ACTION_ERRORS)
async def start_cohort(cohort_id: str, session: SessionDep, actor: StaffActor) -> CohortRead:
    """open → in_progress (allowed before start_date)."""
    return await service.transition(session, actor, cohort_id, "start")


@router.post("/{cohort_id}/complete", responses=ACTION_ERRORS)
async def complete_cohort(cohort_id: str, session: SessionDep, actor: StaffActor) -> CohortRead:
    """in_progress → completed; leftover waitlisted enrollments are cancelled."""
    return await service.transition(session, actor, cohort_id, "complete")


@router.post("/{cohort_id}/cancel", responses=ACTION_ERRORS)
async def cancel_cohort(cohort_id: str, session: SessionDep, actor: StaffActor) -> CohortRead:
    """open|in_progress → cancelled; every live enrollment is cancelled."""
    return await service.transition(session, actor, cohort_id, "cancel")
