from typing import Annotated

from fastapi import APIRouter, Query

from service.applicants.schemas import ImportReport
from service.core.auth import RegistrarActor
from service.core.csvimport import CsvUpload, DryRun
from service.core.db import SessionDep
from service.core.errors import problem_responses
from service.core.idempotency import IdempotencyDep
from service.core.pagination import Page, PageDep
from service.core.routing import CheckedRoute
from service.models.enums import FollowUp
from service.outcomes import due, importer, service
from service.outcomes.schemas import DueItem, OutcomeCreate, OutcomeList, OutcomeRead, OutcomeUpdate

router = APIRouter(prefix="/api/v1", tags=["outcomes"], route_class=CheckedRoute)


@router.post(
    "/enrollments/{enrollment_id}/outcomes",
    status_code=201,
    response_model=OutcomeRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def record_outcome(
    enrollment_id: str,
    body: OutcomeCreate,
    session: SessionDep,
    actor: RegistrarActor,
    idem: IdempotencyDep,
) -> object:
    """Record a completed enrollment's 3m, 6m or 12m follow-up (one per follow-up)."""
    outcome = await service.record(session, actor, enrollment_id, body)
    return await idem.respond(201, outcome)


@router.get("/enrollments/{enrollment_id}/outcomes", responses=problem_responses(401, 403, 404))
async def list_outcomes(
    enrollment_id: str, session: SessionDep, actor: RegistrarActor
) -> OutcomeList:
    """The enrollment's recorded outcomes, with their corrections."""
    return await service.list_for_enrollment(session, actor, enrollment_id)


@router.get("/outcomes/due", responses=problem_responses(401, 403, 422))
async def list_due(
    session: SessionDep,
    actor: RegistrarActor,
    page: PageDep,
    follow_up: Annotated[FollowUp | None, Query(description="Only this follow-up.")] = None,
    centre: Annotated[str | None, Query(max_length=64, description="Centre code.")] = None,
    programme: Annotated[str | None, Query(max_length=64, description="Programme code.")] = None,
) -> Page[DueItem]:
    """Completed enrollments whose follow-up window is open now and lacks an outcome."""
    items, cursor = await due.due(
        session,
        actor,
        page,
        follow_up=follow_up.value if follow_up else None,
        centre=centre,
        programme=programme,
    )
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/outcomes/import",
    response_model=ImportReport,
    responses=problem_responses(400, 401, 403, 413, 422),
)
async def import_outcomes(
    session: SessionDep,
    actor: RegistrarActor,
    file: CsvUpload,
    dry_run: DryRun = False,
) -> ImportReport:
    """Record or correct outcomes from a CSV file (per-row errors, re-upload safe)."""
    return await importer.import_csv(session, actor, file.file, dry_run=dry_run)


@router.get("/outcomes/{outcome_id}", responses=problem_responses(401, 403, 404))
async def get_outcome(outcome_id: str, session: SessionDep, actor: RegistrarActor) -> OutcomeRead:
    """Read one outcome, with its corrections."""
    return await service.get(session, actor, outcome_id)


@router.patch("/outcomes/{outcome_id}", responses=problem_responses(401, 403, 404, 413, 422))
async def correct_outcome(
    outcome_id: str, body: OutcomeUpdate, session: SessionDep, actor: RegistrarActor
) -> OutcomeRead:
    """Correct an outcome; each change is kept (who, when, old → new)."""
    return await service.correct(session, actor, outcome_id, body)
