"""Attendance rules: sessions within the cohort's dates, marks of enrolled trainees only,
one percent (``percent.py``) everywhere, and an at-risk warning once per crossing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance import mark_repository, percent, repository, summary
from service.attendance.mark_repository import Marked, MarkingContext, Target
from service.attendance.rows import MarkRow
from service.attendance.schemas import (
    AttendanceReport,
    AttendanceReportRow,
    EnrollmentAttendance,
    MarkResult,
    Roster,
    SessionCreate,
    SessionMark,
    SessionRead,
)
from service.core.auth import Actor
from service.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.core.i18n import msg
from service.core.pagination import PageParams, decode_cursor, encode_cursor
from service.core.scope import centre_in_scope, enrollments_visible_to
from service.core.sql import AnyRow
from service.events.emit import emit
from service.models import AttendanceSession, Cohort
from service.models.enums import EnrollmentStatus, Role
from service.seats import service as seats


class SessionMarked(Conflict):
    title, slug = "Session has marks", "session-marked"


class FutureSession(Conflict):
    title, slug = "Session in the future", "session-in-future"

    def __init__(self, day: date, today: date) -> None:
        super().__init__(
            msg(
                "session.future",
                "The session is on {date}; it can be marked from that day (today is {today} UTC).",
                date=day.isoformat(),
                today=today.isoformat(),
            ),
            extra={"date": day.isoformat()},
        )


def session_not_found() -> NotFound:
    return NotFound(msg("session.not_found", "No session with this id."))


def _read(found: AttendanceSession, marked: int | None) -> SessionRead:
    return SessionRead(
        id=found.id,
        cohort_id=found.cohort_id,
        date=found.date,
        topic=found.topic,
        marked=int(marked or 0),
        created_at=found.created_at,
    )


async def _cohort_in_scope(session: AsyncSession, actor: Actor, cohort_id: str) -> Cohort:
    cohort = await repository.cohort(session, cohort_id)
    if cohort is None:
        raise seats.cohort_not_found()
    seats.check_centre(actor, cohort.centre_id)
    return cohort


# --- sessions -----------------------------------------------------------------------


async def create_sessions(
    session: AsyncSession,
    actor: Actor,
    cohort_id: str,
    items: Sequence[SessionCreate],
    *,
    bulk: bool,
) -> list[SessionRead]:
    """Sessions dated within the cohort's dates (422 naming ``date`` otherwise)."""
    cohort = await _cohort_in_scope(session, actor, cohort_id)
    errors = [
        FieldError(
            field="date" if not bulk else f"sessions.{i}.date",
            message=msg(
                "session.outside_cohort",
                "The date must be within the cohort's dates, {start} to {end}.",
                start=cohort.start_date.isoformat(),
                end=cohort.end_date.isoformat(),
            ),
        )
        for i, item in enumerate(items)
        if not cohort.start_date <= item.date <= cohort.end_date
    ]
    if errors:
        raise ValidationFailed(errors)
    created = await repository.add_sessions(
        session, cohort.id, [(i.date, i.topic or None) for i in items], actor.key_id
    )
    return [_read(s, 0) for s in created]


async def list_sessions(session: AsyncSession, actor: Actor, cohort_id: str) -> list[SessionRead]:
    cohort = await _cohort_in_scope(session, actor, cohort_id)
    return [_read(*r) for r in await repository.sessions_of(session, cohort.id)]


async def _session_in_scope(session: AsyncSession, actor: Actor, session_id: str) -> Cohort:
    found = await repository.find_session(session, session_id)
    if found is None:
        raise session_not_found()
    return await _cohort_in_scope(session, actor, found.cohort_id)


async def get_session(session: AsyncSession, actor: Actor, session_id: str) -> SessionRead:
    await _session_in_scope(session, actor, session_id)
    row = await repository.session_row(session, session_id)
    if row is None:
        raise session_not_found()
    return _read(*row)


async def delete_session(session: AsyncSession, actor: Actor, session_id: str) -> None:
    """Delete a session nobody is marked at (409 once marked: the marks are history)."""
    cohort = await _session_in_scope(session, actor, session_id)
    await repository.cohort(session, cohort.id, lock=True)  # no marking meanwhile
    if not await repository.delete_unmarked(session, session_id):
        raise SessionMarked(
            msg("session.marked", "Marks were recorded at this session; it cannot be deleted.")
        )


# --- marks --------------------------------------------------------------------------


@dataclass(slots=True)
class _Planned:
    row: MarkRow
    target: Target | None = None
    error: str | None = None


def _plan(cohort_id: str, rows: Sequence[MarkRow], found: Sequence[Target]) -> list[_Planned]:
    by_id = {t.id: t for t in found}
    by_cnic: dict[str, list[Target]] = {}
    for t in found:
        if t.cohort_id == cohort_id:
            by_cnic.setdefault(t.cnic, []).append(t)
    first_row: dict[str, int] = {}
    plans: list[_Planned] = []
    for row in rows:
        plan = _Planned(row)
        plans.append(plan)
        if row.error is not None:
            plan.error = row.error
            continue
        if row.cnic is not None:
            options = by_cnic.get(row.cnic, [])
            enrolled = [t for t in options if t.status == EnrollmentStatus.enrolled]
            target = (
                enrolled[0] if enrolled else max(options, key=lambda t: t.queue_no, default=None)
            )
            if target is None:
                plan.error = "no enrollment in this cohort for this CNIC"
                continue
        else:
            target = by_id.get(row.enrollment_id or "")
            if target is None or target.cohort_id != cohort_id:
                plan.error = "no enrollment with this id in this cohort"
                continue
        plan.target = target
        if target.id in first_row:
            plan.error = f"the same enrollment is already in row {first_row[target.id]}"
            continue
        first_row[target.id] = row.row
        if target.status != EnrollmentStatus.enrolled:
            plan.error = f"the enrollment is {target.status}, not enrolled"
    return plans


async def mark(
    session: AsyncSession, actor: Actor, session_id: str, rows: Sequence[MarkRow], *, now: datetime
) -> list[MarkResult]:
    """Mark a held session's roster; a re-mark replaces (last write wins) and is recorded.

    Few round trips, one short lock: the session and its cohort (one query), the rows'
    enrollments (one query), then the cohort's marking lock
    (``mark_repository.lock_for_marking``) and one statement that writes every mark and its
    history and returns each trainee's previous mark and figures before and after
    (``percent.change_statement``), then the commit. Markings of one cohort are
    serialised from the lock to the commit, so each sees the marks of the one before:
    the last write wins per trainee, both are recorded, and each crossing below the
    threshold is seen by exactly one of them. The rows' enrollment statuses are read
    before the lock; an enrollment that stopped being enrolled meanwhile is left out
    by that statement (it reads them again) and reported as that row's error.
    """
    context = await mark_repository.marking_context(session, session_id)
    if context is None:
        raise session_not_found()
    seats.check_centre(actor, context.centre_id)
    today = now.date()
    if context.date > today:
        raise FutureSession(context.date, today)

    ids = sorted({r.enrollment_id for r in rows if r.error is None and r.enrollment_id})
    cnics = sorted({r.cnic for r in rows if r.error is None and r.cnic})
    found = await mark_repository.targets(session, context.cohort_id, ids, cnics)
    plans = _plan(context.cohort_id, rows, found)
    good = [p for p in plans if p.error is None and p.target is not None]
    previous: dict[str, str | None] = {}
    if good:
        min_attendance = await mark_repository.lock_for_marking(session, context.cohort_id)
        if min_attendance is None:
            raise seats.cohort_not_found()
        if not await mark_repository.session_still_there(session, session_id):
            raise session_not_found()
        marks = [Marked(p.target.id, p.row.status or "") for p in good if p.target is not None]
        written = await mark_repository.write_marks(
            session,
            session_id,
            context.cohort_id,
            marks,
            today=today,
            at=now,
            key_id=actor.key_id,
            actor=actor.name,
        )
        previous = {r.enrollment_id: r.previous for r in written}
        _warn_at_risk(session, context, min_attendance, written, now)
        for p in good:
            if p.target is not None and p.target.id not in previous:
                p.error = "the enrollment is no longer enrolled"
    return [
        MarkResult(
            row=p.row.row,
            status=p.row.status if p.error is None else "error",  # type: ignore[arg-type]
            enrollment_id=p.target.id if p.target else p.row.enrollment_id,
            previous=previous.get(p.target.id) if p.error is None and p.target else None,  # type: ignore[arg-type]
            error=p.error,
        )
        for p in plans
    ]


def _warn_at_risk(
    session: AsyncSession,
    context: MarkingContext,
    min_attendance: int,
    written: Sequence[AnyRow],
    now: datetime,
) -> None:
    """``attendance.at_risk`` for each enrollment this marking took below the threshold."""
    for row in written:
        before, after = percent.change_figures(row)
        if not after.at_risk(min_attendance) or before.at_risk(min_attendance):
            continue
        emit(
            session,
            "attendance.at_risk",
            {
                "enrollment_id": after.enrollment_id,
                "applicant_id": after.applicant_id,
                "cohort_id": context.cohort_id,
                "cohort": context.cohort_code,
                "programme": context.programme_code,
                "centre": context.centre_code,
                "percent": after.percent,
                "reason": f"attendance {after.percent}% is below the cohort's minimum "
                f"{min_attendance}% after {after.held} sessions",
            },
            centre_id=context.centre_id,
            at=now,
        )


# --- percents -----------------------------------------------------------------------


async def enrollment_attendance(
    session: AsyncSession, actor: Actor, enrollment_id: str, *, today: date
) -> EnrollmentAttendance:
    enrollment = await repository.visible_enrollment(
        session, enrollment_id, enrollments_visible_to(actor)
    )
    if enrollment is None:
        raise NotFound(msg("enrollment.not_found", "No enrollment with this id."))
    figure = await percent.percent_of(session, enrollment.id, today)
    assert figure is not None  # noqa: S101 - the enrollment exists
    marks = await repository.enrollment_marks(session, enrollment.id, enrollment.cohort_id, today)
    return EnrollmentAttendance(
        enrollment_id=enrollment.id,
        cohort_id=enrollment.cohort_id,
        percent=figure.percent,
        sessions_held=figure.held,
        attended=figure.attended,
        excused=figure.excused,
        sessions=[SessionMark(session_id=m.id, date=m.date, status=m.status) for m in marks],
    )


async def roster(
    session: AsyncSession,
    actor: Actor,
    cohort_id: str,
    page: PageParams,
    *,
    today: date,
    below: float | None = None,
) -> Roster:
    """One row per enrolled enrollment with its percent; ``below``: the at-risk list.

    Two reads (the cohort with its held count, then the page with every percent in one
    statement); the response is validated from plain dicts in one call (pydantic's core
    does it for all the rows at once, faster than building each row in Python)."""
    head = await repository.roster_head(session, cohort_id, today)
    if head is None:
        raise seats.cohort_not_found()
    seats.check_centre(actor, head.centre_id)
    after = decode_cursor(page.cursor) if page.cursor else None
    found = await percent.roster_page(
        session, today, cohort_id, after=after, limit=page.limit + 1, below=below
    )
    more = len(found) > page.limit
    found = found[: page.limit]
    return Roster.model_validate(
        {
            "cohort_id": cohort_id,
            "min_attendance": head.min_attendance,
            "sessions_held": head.held,
            "items": [
                {
                    "enrollment_id": f.enrollment_id,
                    "applicant_id": f.applicant_id,
                    "percent": f.percent,
                    "sessions_held": f.held,
                    "attended": f.attended,
                    "excused": f.excused,
                    "at_risk": f.at_risk(head.min_attendance),
                }
                for f in found
            ],
            "next_cursor": encode_cursor(found[-1].enrollment_id) if more and found else None,
        }
    )


async def computed_percent(
    session: AsyncSession, enrollment_id: str, cohort_id: str, today: date
) -> float | None:
    """For completion: the computed percent, or None when the cohort has no sessions."""
    if not await percent.cohort_has_sessions(session, cohort_id):
        return None
    figure = await percent.percent_of(session, enrollment_id, today)
    return figure.percent if figure else None


# --- reports ------------------------------------------------------------------------

SUPPRESS_BELOW = 5  # as the breakdowns: a reporter reads counts under 5 as "<5"


async def report(
    session: AsyncSession, actor: Actor, group: summary.Group, *, today: date
) -> AttendanceReport:
    """Average attendance and at-risk count by cohort or centre (staff: its centres)."""
    rows = await summary.by_group(session, today, group, centre_in_scope(actor, Cohort.centre_id))
    hide = actor.role is Role.reporter

    def count(n: int) -> int | Literal["<5"]:
        return "<5" if hide and n < SUPPRESS_BELOW else n

    return AttendanceReport(
        group=group,
        rows=[
            AttendanceReportRow(
                key=r.key,
                trainees=count(r.trainees),
                average_percent=None if hide and r.trainees < SUPPRESS_BELOW else r.average,
                at_risk=count(r.at_risk),
            )
            for r in rows
        ],
    )
