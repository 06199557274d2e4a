"""The attendance percent, in SQL, for a whole roster in one statement.

percent = (present + late) / (sessions dated today or earlier − excused) × 100,
rounded half up to 2 decimals; a held session without a mark counts as absent;
``null`` before the first session or when every held session is excused.

The figure is computed in integer hundredths so SQLite and PostgreSQL round
identically: ``(attended × 20000 + d) // (2 × d)`` with ``d = held − excused``
is ``round_half_up(attended / d × 10000)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    FromClause,
    Integer,
    String,
    bindparam,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from service.core.db import execute_standalone
from service.core.sql import AnySelect
from service.models import AttendanceMark, AttendanceSession, Enrollment
from service.models.enums import AttendanceStatus, EnrollmentStatus

ATTENDED = (AttendanceStatus.present.value, AttendanceStatus.late.value)
# Sessions held before an at-risk warning means anything.
AT_RISK_MIN_HELD = 3
# A value, or a bound parameter of a statement built once.
DateArg = date | ColumnElement[date]
StrArg = str | ColumnElement[str] | InstrumentedAttribute[str]


@dataclass(frozen=True, slots=True)
class Figure:
    """One enrollment's attendance as the contract defines it."""

    enrollment_id: str
    applicant_id: str
    held: int
    attended: int
    excused: int
    percent: float | None

    def below(self, threshold: float) -> bool:
        return self.percent is not None and self.percent < threshold

    def at_risk(self, min_attendance: float) -> bool:
        return self.held >= AT_RISK_MIN_HELD and self.below(min_attendance)


def _hundredths(
    held: ColumnElement[int], attended: ColumnElement[int], excused: ColumnElement[int]
) -> ColumnElement[int | None]:
    """The percent × 100 as an integer (rounded half up), or NULL."""
    counted = held - excused
    return case((counted > 0, (attended * 20000 + counted) // (2 * counted)), else_=None)


def held_count(today: DateArg, cohort_id: StrArg) -> ColumnElement[int]:
    """The number of the cohort's sessions held by ``today`` (a scalar subquery)."""
    return (
        select(func.count(AttendanceSession.id))
        .where(AttendanceSession.cohort_id == cohort_id, AttendanceSession.date <= today)
        .scalar_subquery()
    )


def figures_statement(
    today: DateArg,
    *,
    cohort_id: StrArg | None = None,
    enrollment_ids: list[str] | AnySelect | None = None,
    without_session_id: StrArg | None = None,
) -> AnySelect:
    """Every enrollment with its counts and percent; add a WHERE on ``Enrollment``.

    Sessions held per cohort and attended / excused marks per enrollment (marks of
    sessions held by ``today``), joined to the enrollments as grouped subqueries.
    ``cohort_id``: that cohort's enrollments only (its held count is then one scalar
    subquery, computed once whatever the planner thinks of the row counts);
    ``enrollment_ids`` narrows the marks subquery (and should be given whenever the
    caller narrows the enrollments the same way). ``today`` and ``cohort_id`` may be
    bound parameters (``roster_page`` builds its statement once).

    ``without_session_id``: the marks at that session are left out of the counts
    (the session still counts as held): ``change_statement`` adds them back.
    """
    marks_q = (
        select(
            AttendanceMark.enrollment_id,
            func.count(case((AttendanceMark.status.in_(ATTENDED), literal(1)))).label("attended"),
            func.count(case((AttendanceMark.status == AttendanceStatus.excused.value, 1))).label(
                "excused"
            ),
        )
        .join(AttendanceSession, AttendanceSession.id == AttendanceMark.session_id)
        .where(AttendanceSession.date <= today)
    )
    if cohort_id is not None:
        marks_q = marks_q.where(AttendanceSession.cohort_id == cohort_id)
    if enrollment_ids is not None:
        marks_q = marks_q.where(AttendanceMark.enrollment_id.in_(enrollment_ids))
    if without_session_id is not None:
        marks_q = marks_q.where(AttendanceMark.session_id != without_session_id)
    marks_sub = marks_q.group_by(AttendanceMark.enrollment_id).subquery("marked")
    held: ColumnElement[int]
    if cohort_id is not None:
        held = held_count(today, cohort_id)
    else:
        held_sub = (
            select(AttendanceSession.cohort_id, func.count(AttendanceSession.id).label("n"))
            .where(AttendanceSession.date <= today)
            .group_by(AttendanceSession.cohort_id)
            .subquery("held")
        )
        held = func.coalesce(held_sub.c.n, 0)
    attended: ColumnElement[int] = func.coalesce(marks_sub.c.attended, 0)
    excused: ColumnElement[int] = func.coalesce(marks_sub.c.excused, 0)
    stmt = select(
        Enrollment.id.label("enrollment_id"),
        Enrollment.applicant_id,
        held.label("held"),
        attended.label("attended"),
        excused.label("excused"),
        _hundredths(held, attended, excused).label("hundredths"),
    ).select_from(Enrollment)
    if cohort_id is not None:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    else:
        stmt = stmt.outerjoin(held_sub, held_sub.c.cohort_id == Enrollment.cohort_id)
    return stmt.outerjoin(marks_sub, marks_sub.c.enrollment_id == Enrollment.id)


def to_percent(value: int | None) -> float | None:
    return None if value is None else int(value) / 100


async def figures(
    session: AsyncSession,
    today: date,
    *,
    cohort_id: str | None = None,
    enrollment_ids: list[str] | None = None,
    enrolled_only: bool = True,
) -> dict[str, Figure]:
    """The figures of a cohort's roster (or of some enrollments), in one statement."""
    stmt = figures_statement(today, cohort_id=cohort_id, enrollment_ids=enrollment_ids)
    if cohort_id is not None:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    if enrollment_ids is not None:
        stmt = stmt.where(Enrollment.id.in_(enrollment_ids))
    if enrolled_only:
        stmt = stmt.where(Enrollment.status == EnrollmentStatus.enrolled.value)
    rows: Sequence[Any] = (await session.execute(stmt)).all()
    return {
        eid: Figure(eid, applicant, int(held), int(attended), int(excused), to_percent(hundredths))
        for eid, applicant, held, attended, excused, hundredths in rows
    }


async def percent_of(session: AsyncSession, enrollment_id: str, today: date) -> Figure | None:
    found = await figures(session, today, enrollment_ids=[enrollment_id], enrolled_only=False)
    return found.get(enrollment_id)


async def cohort_has_sessions(session: AsyncSession, cohort_id: str) -> bool:
    found = await session.scalar(
        select(AttendanceSession.id).where(AttendanceSession.cohort_id == cohort_id).limit(1)
    )
    return found is not None


@cache
def _roster_statement(after: bool, below: bool) -> AnySelect:
    """A page of a cohort's enrolled roster, built once per shape (bound parameters:
    ``cohort_id``, ``today``, ``limit`` and, by shape, ``after`` and ``below``)."""
    cohort_id = bindparam("cohort_id", type_=String)
    stmt = figures_statement(bindparam("today", type_=Date), cohort_id=cohort_id).where(
        Enrollment.status == EnrollmentStatus.enrolled.value
    )
    if after:
        stmt = stmt.where(Enrollment.id > bindparam("after", type_=String))
    roster = stmt.subquery("roster")
    page = select(roster)
    if below:
        page = page.where(roster.c.hundredths < bindparam("below", type_=Float))
    return page.order_by(roster.c.enrollment_id).limit(bindparam("limit", type_=Integer))


async def roster_page(
    session: AsyncSession,
    today: date,
    cohort_id: str,
    *,
    after: str | None,
    limit: int,
    below: float | None = None,
) -> list[Figure]:
    """A page of a cohort's enrolled roster by enrollment id; ``below``: percent < below.

    One read, outside any transaction on PostgreSQL (``execute_standalone``)."""
    params: dict[str, object] = {"cohort_id": cohort_id, "today": today, "limit": limit}
    if after is not None:
        params["after"] = after
    if below is not None:
        params["below"] = below * 100
    stmt = _roster_statement(after is not None, below is not None)
    rows: Sequence[Any] = (await execute_standalone(session, stmt, params)).all()
    return [
        Figure(eid, applicant, int(held), int(attended), int(excused), to_percent(hundredths))
        for eid, applicant, held, attended, excused, hundredths in rows
    ]


# --- a marking: the figure before and after it ---------------------------------------


def _attended(status: ColumnElement[str | None]) -> ColumnElement[int]:
    return case((status.in_(ATTENDED), 1), else_=0)


def _excused(status: ColumnElement[str | None]) -> ColumnElement[int]:
    return case((status == AttendanceStatus.excused.value, 1), else_=0)


def change_statement(
    today: DateArg, cohort_id: StrArg, session_id: StrArg, new: FromClause
) -> AnySelect:
    """For a marking of the held session ``session_id``: each marked enrollment still
    enrolled in the cohort, its current mark there (``previous``) and its figure before
    (``before_*``) and after (``held``, ``after_*``) the marking, in one statement.

    ``new`` has the columns ``enrollment_id``, ``status`` and ``ord`` (request order).
    The counts are ``figures_statement`` without that session's marks, plus the old
    mark (before) or the new one (after). "Before" is the figure as the marks stood:
    the session counts as held only where it was marked already, so a session that
    became due today and is marked now is a change this marking makes.
    The arguments may be bound parameters (``mark_repository.write_marks`` builds the
    PostgreSQL statement once).
    """
    fig = (
        figures_statement(
            today,
            cohort_id=cohort_id,
            enrollment_ids=select(new.c.enrollment_id),
            without_session_id=session_id,
        )
        .join(new, new.c.enrollment_id == Enrollment.id)
        .add_columns(new.c.status.label("status"), new.c.ord.label("ord"))
        .where(Enrollment.status == EnrollmentStatus.enrolled.value)
        .subquery("fig")
    )
    old = aliased(AttendanceMark)
    eid = fig.c.enrollment_id
    previous: ColumnElement[str | None] = old.status  # type: ignore[assignment] # NULL: unmarked
    before_held = fig.c.held - case((previous.is_(None), 1), else_=0)
    before_attended = fig.c.attended + _attended(previous)
    before_excused = fig.c.excused + _excused(previous)
    after_attended = fig.c.attended + _attended(fig.c.status)
    after_excused = fig.c.excused + _excused(fig.c.status)
    return select(
        fig.c.ord,
        fig.c.enrollment_id,
        fig.c.applicant_id,
        fig.c.status,
        previous.label("previous"),
        before_held.label("before_held"),
        before_attended.label("before_attended"),
        before_excused.label("before_excused"),
        _hundredths(before_held, before_attended, before_excused).label("before_hundredths"),
        fig.c.held,
        after_attended.label("after_attended"),
        after_excused.label("after_excused"),
        _hundredths(fig.c.held, after_attended, after_excused).label("after_hundredths"),
    ).select_from(fig.outerjoin(old, (old.session_id == session_id) & (old.enrollment_id == eid)))


def change_figures(r: object) -> tuple[Figure, Figure]:
    """The (before, after) figures of one row of ``change_statement``."""
    eid, applicant = r.enrollment_id, r.applicant_id  # type: ignore[attr-defined]
    before = Figure(
        eid,
        applicant,
        int(r.before_held),  # type: ignore[attr-defined]
        int(r.before_attended),  # type: ignore[attr-defined]
        int(r.before_excused),  # type: ignore[attr-defined]
        to_percent(r.before_hundredths),  # type: ignore[attr-defined]
    )
    after = Figure(
        eid,
        applicant,
        int(r.held),  # type: ignore[attr-defined]
        int(r.after_attended),  # type: ignore[attr-defined]
        int(r.after_excused),  # type: ignore[attr-defined]
        to_percent(r.after_hundredths),  # type: ignore[attr-defined]
    )
    return before, after
