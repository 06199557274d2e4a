"""The attendance percent, in SQL, for a whole roster in one statement.

percent = (present + late) / (sessions dated today or earlier − excused) × 100,
rounded half up to 2 decimals; a held session without a mark counts as absent;
``null`` before the first session or when every held session is excused.

The figure is computed in integer hundredths so SQLite and PostgreSQL round
identically: ``(attended × 20000 + d) // (2 × d)`` with ``d = held − excused``
is ``round_half_up(attended / d × 10000)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.core.sql import AnySelect
from service.models import AttendanceMark, AttendanceSession, Enrollment
from service.models.enums import AttendanceStatus, EnrollmentStatus

ATTENDED = (AttendanceStatus.present.value, AttendanceStatus.late.value)
# Sessions held before an at-risk warning means anything.
AT_RISK_MIN_HELD = 3


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


def _counts() -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[int]]:
    held = func.count(AttendanceSession.id)
    attended = func.count(case((AttendanceMark.status.in_(ATTENDED), literal(1))))
    excused = func.count(case((AttendanceMark.status == AttendanceStatus.excused.value, 1)))
    return held, attended, excused


def hundredths() -> ColumnElement[int | None]:
    """The percent × 100 as an integer (rounded half up), or NULL: for a grouped statement."""
    held, attended, excused = _counts()
    counted = held - excused
    return case((counted > 0, (attended * 20000 + counted) // (2 * counted)), else_=None)


def figures_statement(today: date, *, pending_session_id: str | None = None) -> AnySelect:
    """Every enrollment with its counts and percent; add a WHERE on ``Enrollment``.

    ``pending_session_id``: the figure as it stood before that session was marked,
    the session counting only for enrollments already marked at it.
    """
    held, attended, excused = _counts()
    session_held = AttendanceSession.date <= today
    if pending_session_id is not None:
        earlier = aliased(AttendanceMark)
        already = (
            select(earlier.id)
            .where(earlier.session_id == pending_session_id, earlier.enrollment_id == Enrollment.id)
            .correlate(Enrollment)
            .exists()
        )
        session_held = and_(session_held, or_(AttendanceSession.id != pending_session_id, already))
    return (
        select(
            Enrollment.id.label("enrollment_id"),
            Enrollment.applicant_id,
            held.label("held"),
            attended.label("attended"),
            excused.label("excused"),
            hundredths().label("hundredths"),
        )
        .select_from(Enrollment)
        .outerjoin(
            AttendanceSession,
            and_(AttendanceSession.cohort_id == Enrollment.cohort_id, session_held),
        )
        .outerjoin(
            AttendanceMark,
            and_(
                AttendanceMark.session_id == AttendanceSession.id,
                AttendanceMark.enrollment_id == Enrollment.id,
            ),
        )
        .group_by(Enrollment.id, Enrollment.applicant_id)
    )


def to_percent(value: int | None) -> float | None:
    return None if value is None else int(value) / 100


async def figures(
    session: AsyncSession,
    today: date,
    *,
    cohort_id: str | None = None,
    enrollment_ids: list[str] | None = None,
    enrolled_only: bool = True,
    pending_session_id: str | None = None,
) -> dict[str, Figure]:
    """The figures of a cohort's roster (or of some enrollments), in one statement."""
    stmt = figures_statement(today, pending_session_id=pending_session_id)
    if cohort_id is not None:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    if enrollment_ids is not None:
        stmt = stmt.where(Enrollment.id.in_(enrollment_ids))
    if enrolled_only:
        stmt = stmt.where(Enrollment.status == EnrollmentStatus.enrolled.value)
    rows = (await session.execute(stmt)).all()
    return {r.enrollment_id: _figure(r) for r in rows}


async def percent_of(session: AsyncSession, enrollment_id: str, today: date) -> Figure | None:
    found = await figures(session, today, enrollment_ids=[enrollment_id], enrolled_only=False)
    return found.get(enrollment_id)


async def cohort_has_sessions(session: AsyncSession, cohort_id: str) -> bool:
    found = await session.scalar(
        select(AttendanceSession.id).where(AttendanceSession.cohort_id == cohort_id).limit(1)
    )
    return found is not None


def _figure(r: object) -> Figure:
    return Figure(
        r.enrollment_id,  # type: ignore[attr-defined]
        r.applicant_id,  # type: ignore[attr-defined]
        int(r.held),  # type: ignore[attr-defined]
        int(r.attended),  # type: ignore[attr-defined]
        int(r.excused),  # type: ignore[attr-defined]
        to_percent(r.hundredths),  # type: ignore[attr-defined]
    )


async def roster_page(
    session: AsyncSession,
    today: date,
    cohort_id: str,
    *,
    after: str | None,
    limit: int,
    below: float | None = None,
) -> list[Figure]:
    """A page of a cohort's enrolled roster by enrollment id; ``below``: percent < below."""
    stmt = figures_statement(today).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.enrolled.value
    )
    if after is not None:
        stmt = stmt.where(Enrollment.id > after)
    if below is not None:
        stmt = stmt.having(hundredths() < below * 100)
    rows = (await session.execute(stmt.order_by(Enrollment.id).limit(limit))).all()
    return [_figure(r) for r in rows]
