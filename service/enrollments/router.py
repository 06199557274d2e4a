from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from service.core.auth import RegistrarActor, StaffActor
from service.core.db import SessionDep
from service.core.errors import problem_responses
from service.core.idempotency import IdempotencyDep
from service.core.pagination import Page, PageDep
from service.core.ratelimit import rate_limit
from service.core.routing import CheckedRoute
from service.enrollments import offers, service
from service.enrollments.schemas import EnrollmentCreate, EnrollmentRead, EventList, ReasonBody
from service.models.enums import EnrollmentStatus

router = APIRouter(prefix="/api/v1", tags=["enrollments"], route_class=CheckedRoute)

StatusFilter = Annotated[EnrollmentStatus | None, Query(description="Only this status.")]


async def _reason(body: Annotated[ReasonBody | None, Body()] = None) -> str | None:
    """The optional ``{"reason"}`` body of a status change."""
    return body.reason if body else None


Reason = Annotated[str | None, Depends(_reason)]


@router.post(
    "/cohorts/{cohort_id}/enrollments",
    status_code=201,
    response_model=EnrollmentRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422, 429),
    dependencies=[rate_limit("enroll")],
)
async def enroll(
    cohort_id: str,
    body: EnrollmentCreate,
    session: SessionDep,
    actor: RegistrarActor,
    idem: IdempotencyDep,
) -> object:
    """Enrol an applicant: enrolled while seats remain, else waitlisted (FIFO)."""
    enrollment = await service.enroll(session, actor, cohort_id, body.applicant_id)
    return await idem.respond(201, enrollment)


@router.get("/cohorts/{cohort_id}/enrollments", responses=problem_responses(401, 403, 404, 422))
async def list_cohort_enrollments(
    cohort_id: str,
    session: SessionDep,
    actor: RegistrarActor,
    page: PageDep,
    status: StatusFilter = None,
) -> Page[EnrollmentRead]:
    """List a cohort's enrollments (a client sees only its own applicants')."""
    items, cursor = await service.list_for_cohort(session, actor, cohort_id, page, status=status)
    return Page(items=items, next_cursor=cursor)


@router.get("/applicants/{applicant_id}/enrollments", responses=problem_responses(401, 403, 404))
async def list_applicant_enrollments(
    applicant_id: str,
    session: SessionDep,
    actor: RegistrarActor,
    page: PageDep,
    status: StatusFilter = None,
) -> Page[EnrollmentRead]:
    """List an applicant's enrollments."""
    items, cursor = await service.list_for_applicant(
        session, actor, applicant_id, page, status=status
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/enrollments/{enrollment_id}", responses=problem_responses(401, 403, 404))
async def get_enrollment(
    enrollment_id: str, session: SessionDep, actor: RegistrarActor
) -> EnrollmentRead:
    """Read one enrollment, with its waitlist position and certificate code."""
    return await service.get(session, actor, enrollment_id)


@router.get("/enrollments/{enrollment_id}/events", responses=problem_responses(401, 403, 404))
async def list_events(enrollment_id: str, session: SessionDep, actor: RegistrarActor) -> EventList:
    """The enrollment's status changes, oldest first."""
    return await service.events(session, actor, enrollment_id)


@router.post(
    "/enrollments/{enrollment_id}/withdraw", responses=problem_responses(401, 403, 404, 409, 422)
)
async def withdraw(
    enrollment_id: str,
    session: SessionDep,
    actor: RegistrarActor,
    reason: Reason,
) -> EnrollmentRead:
    """Withdraw an enrolled or waitlisted enrollment; the waitlist moves up."""
    return await service.withdraw(session, actor, enrollment_id, reason=reason)


@router.post(
    "/enrollments/{enrollment_id}/drop", responses=problem_responses(401, 403, 404, 409, 422)
)
async def drop(
    enrollment_id: str,
    session: SessionDep,
    actor: StaffActor,
    reason: Reason,
) -> EnrollmentRead:
    """Drop an enrolled enrollment (staff of the centre, admin); the waitlist moves up."""
    return await service.drop(session, actor, enrollment_id, reason=reason)


@router.post("/enrollments/{enrollment_id}/accept", responses=problem_responses(401, 403, 404, 409))
async def accept(enrollment_id: str, session: SessionDep, actor: RegistrarActor) -> EnrollmentRead:
    """Accept a seat offer before it expires: offered → enrolled."""
    return await offers.accept(session, actor, enrollment_id)


@router.post(
    "/enrollments/{enrollment_id}/decline", responses=problem_responses(401, 403, 404, 409, 422)
)
async def decline(
    enrollment_id: str,
    session: SessionDep,
    actor: RegistrarActor,
    reason: Reason,
) -> EnrollmentRead:
    """Decline a seat offer: offered → declined; the seat is offered to the next in line."""
    return await offers.decline(session, actor, enrollment_id, reason=reason)


@router.post(
    "/enrollments/{enrollment_id}/no-show", responses=problem_responses(401, 403, 404, 409, 422)
)
async def no_show(
    enrollment_id: str,
    session: SessionDep,
    actor: StaffActor,
    reason: Reason,
) -> EnrollmentRead:
    """Mark an enrolled applicant a no-show (staff of the centre, admin); the seat frees."""
    return await offers.no_show(session, actor, enrollment_id, reason=reason)
