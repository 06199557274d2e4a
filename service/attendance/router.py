"""HTTP for attendance: sessions of a cohort, marks of a session, percents."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from service.attendance import service
from service.attendance.rows import OPENAPI_BODY, MarkCsvRowsDep, MarkRowsDep
from service.attendance.schemas import (
    AttendanceReport,
    EnrollmentAttendance,
    MarkResults,
    Roster,
    SessionBatch,
    SessionList,
    SessionRead,
    SessionsCreate,
)
from service.core.auth import RegistrarActor, ReportActor, StaffActor
from service.core.clock import ClockDep
from service.core.db import ReportingSessionDep, SessionDep
from service.core.errors import problem_responses
from service.core.idempotency import IdempotencyDep
from service.core.pagination import PageDep
from service.core.routing import CheckedRoute

router = APIRouter(prefix="/api/v1", tags=["attendance"], route_class=CheckedRoute)

_CREATED_HEADERS = {
    "Location": {
        "description": "For one session: `/api/v1/sessions/{id}`.",
        "schema": {"type": "string"},
    }
}


@router.post(
    "/cohorts/{cohort_id}/sessions",
    status_code=201,
    response_model=SessionRead | SessionBatch,
    responses={
        201: {"description": "The session, or {items} for many.", "headers": _CREATED_HEADERS},
        **problem_responses(401, 403, 404, 413, 422),
    },
)
async def create_sessions(
    cohort_id: str,
    body: SessionsCreate,
    session: SessionDep,
    actor: StaffActor,
    idem: IdempotencyDep,
) -> object:
    """Add one session (date, topic) or many (sessions) to a cohort, within its dates."""
    bulk = body.sessions is not None
    created = await service.create_sessions(session, actor, cohort_id, body.items(), bulk=bulk)
    if bulk:
        return await idem.respond(201, SessionBatch(items=created))
    response = await idem.respond(201, created[0])
    response.headers["Location"] = f"/api/v1/sessions/{created[0].id}"
    return response


@router.get("/cohorts/{cohort_id}/sessions", responses=problem_responses(401, 403, 404))
async def list_sessions(cohort_id: str, session: SessionDep, actor: StaffActor) -> SessionList:
    """A cohort's sessions by date, each with how many trainees are marked."""
    return SessionList(items=await service.list_sessions(session, actor, cohort_id))


@router.get("/sessions/{session_id}", responses=problem_responses(401, 403, 404))
async def get_session(session_id: str, session: SessionDep, actor: StaffActor) -> SessionRead:
    """One session."""
    return await service.get_session(session, actor, session_id)


@router.delete(
    "/sessions/{session_id}", status_code=204, responses=problem_responses(401, 403, 404, 409)
)
async def delete_session(session_id: str, session: SessionDep, actor: StaffActor) -> Response:
    """Delete a session while nobody is marked at it (409 after)."""
    await service.delete_session(session, actor, session_id)
    return Response(status_code=204)


@router.put(
    "/sessions/{session_id}/attendance",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra=OPENAPI_BODY,
)
async def mark_session(
    session_id: str, session: SessionDep, actor: StaffActor, rows: MarkRowsDep, clock: ClockDep
) -> MarkResults:
    """Mark a session's roster (JSON or CSV); one result per row, in order."""
    results = await service.mark(session, actor, session_id, rows, now=clock.now())
    return MarkResults(results=results)


@router.put(
    "/sessions/{session_id}/attendance/import",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def mark_session_csv(
    session_id: str, session: SessionDep, actor: StaffActor, clock: ClockDep, rows: MarkCsvRowsDep
) -> MarkResults:
    """Mark a session's roster from a CSV file; one result per line, in order."""
    results = await service.mark(session, actor, session_id, rows, now=clock.now())
    return MarkResults(results=results)


@router.get("/enrollments/{enrollment_id}/attendance", responses=problem_responses(401, 403, 404))
async def get_enrollment_attendance(
    enrollment_id: str, session: SessionDep, actor: RegistrarActor, clock: ClockDep
) -> EnrollmentAttendance:
    """An enrollment's attendance percent and its mark at every session held so far."""
    return await service.enrollment_attendance(
        session, actor, enrollment_id, today=clock.now().date()
    )


@router.get("/cohorts/{cohort_id}/attendance", responses=problem_responses(401, 403, 404, 422))
async def get_cohort_attendance(
    cohort_id: str,
    session: SessionDep,
    actor: StaffActor,
    clock: ClockDep,
    page: PageDep,
    below: Annotated[
        float | None,
        Query(ge=0, le=100, allow_inf_nan=False, description="Only percents below this."),
    ] = None,
) -> Roster:
    """Each enrolled trainee's percent (``below=75``: the at-risk list)."""
    return await service.roster(
        session, actor, cohort_id, page, today=clock.now().date(), below=below
    )


@router.get("/reports/attendance", tags=["reports"], responses=problem_responses(401, 403, 422))
async def get_attendance_report(
    session: ReportingSessionDep,
    actor: ReportActor,
    clock: ClockDep,
    group: Annotated[
        Literal["cohort", "centre"], Query(description="What to group by.")
    ] = "cohort",
) -> AttendanceReport:
    """Average attendance and at-risk count by cohort or centre ("<5" rules as breakdowns)."""
    return await service.report(session, actor, group, today=clock.now().date())
