"""Attendance aggregated by cohort or centre, from the one percent (``percent.py``):
the report (``/api/v1/reports/attendance``) and the dashboard's attendance panel.

Both are set-based: the per-enrollment figures are a grouped subquery, and the
average and at-risk count are aggregated over it in the same statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.attendance.percent import AT_RISK_MIN_HELD, figures_statement
from service.models import AttendanceMark, AttendanceSession, Centre, Cohort, Enrollment
from service.models.enums import CohortStatus, EnrollmentStatus

Group = Literal["cohort", "centre"]
# Trainees whose attendance a report averages: those who held a seat in training.
COUNTED = (
    EnrollmentStatus.enrolled.value,
    EnrollmentStatus.completed.value,
    EnrollmentStatus.failed.value,
)


@dataclass(frozen=True, slots=True)
class GroupFigures:
    key: str
    trainees: int
    average: float | None
    at_risk: int


def _figures(today: date, centres: ColumnElement[bool]) -> object:
    any_session = aliased(AttendanceSession)
    has_sessions = (
        select(any_session.id).where(any_session.cohort_id == Cohort.id).correlate(Cohort).exists()
    )
    per_enrollment = (
        figures_statement(today)
        .add_columns(Enrollment.cohort_id, Enrollment.status)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(Enrollment.status.in_(COUNTED), centres)
        .where(has_sessions)
    )
    return per_enrollment.subquery("figures")


def _aggregates(
    figures: object,
) -> tuple[ColumnElement[int], ColumnElement[float], ColumnElement[int]]:
    f = figures.c  # type: ignore[attr-defined]
    trainees = func.count(f.enrollment_id)
    average = func.avg(f.hundredths)
    at_risk = func.count(
        case(
            (
                and_(
                    f.status == EnrollmentStatus.enrolled.value,
                    f.held >= AT_RISK_MIN_HELD,
                    f.hundredths < Cohort.min_attendance * 100,
                ),
                1,
            )
        )
    )
    return trainees, average, at_risk


def _average(value: object) -> float | None:
    return None if value is None else round(float(value) / 100, 2)  # type: ignore[arg-type]


async def by_group(
    session: AsyncSession, today: date, group: Group, centres: ColumnElement[bool]
) -> list[GroupFigures]:
    """Trainees, their average percent and how many are at risk, per cohort or centre."""
    figures = _figures(today, centres)
    f = figures.c  # type: ignore[attr-defined]
    trainees, average, at_risk = _aggregates(figures)
    key = Cohort.code if group == "cohort" else Centre.code
    stmt = (
        select(key.label("key"), trainees, average, at_risk)
        .select_from(figures)  # type: ignore[arg-type]
        .join(Cohort, Cohort.id == f.cohort_id)
        .join(Centre, Centre.id == Cohort.centre_id)
        .group_by(key)
        .order_by(key)
    )
    rows = (await session.execute(stmt)).all()
    return [GroupFigures(r[0], int(r[1]), _average(r[2]), int(r[3] or 0)) for r in rows]


@dataclass(frozen=True, slots=True)
class CohortToday:
    cohort_id: str
    code: str
    name: str
    centre: str
    enrolled: int
    average: float | None
    at_risk: int
    sessions_today: int
    marked_today: int  # of today's sessions, how many have marks


async def in_progress(
    session: AsyncSession, today: date, centres: ColumnElement[bool]
) -> list[CohortToday]:
    """Cohorts in progress: today's sessions (marked or not) and the at-risk count."""
    figures = _figures(today, and_(centres, Cohort.status == CohortStatus.in_progress.value))
    f = figures.c  # type: ignore[attr-defined]
    _, average, at_risk = _aggregates(figures)
    enrolled = func.count(case((f.status == EnrollmentStatus.enrolled.value, 1)))
    risk = (
        select(
            f.cohort_id,
            enrolled.label("enrolled"),
            average.label("average"),
            at_risk.label("at_risk"),
        )
        .select_from(figures)  # type: ignore[arg-type]
        .join(Cohort, Cohort.id == f.cohort_id)
        .group_by(f.cohort_id)
        .subquery("risk")
    )
    marked = (
        select(AttendanceMark.id).where(AttendanceMark.session_id == AttendanceSession.id).exists()
    )
    today_sessions = (
        select(
            AttendanceSession.cohort_id,
            func.count(AttendanceSession.id).label("sessions"),
            func.count(case((marked, 1))).label("marked"),
        )
        .where(AttendanceSession.date == today)
        .group_by(AttendanceSession.cohort_id)
        .subquery("today")
    )
    stmt = (
        select(
            Cohort.id,
            Cohort.code,
            Cohort.name,
            Centre.code,
            func.coalesce(risk.c.enrolled, 0),
            risk.c.average,
            func.coalesce(risk.c.at_risk, 0),
            func.coalesce(today_sessions.c.sessions, 0),
            func.coalesce(today_sessions.c.marked, 0),
        )
        .join(Centre, Centre.id == Cohort.centre_id)
        .outerjoin(risk, risk.c.cohort_id == Cohort.id)
        .outerjoin(today_sessions, today_sessions.c.cohort_id == Cohort.id)
        .where(Cohort.status == CohortStatus.in_progress.value, centres)
        .order_by(Centre.code, Cohort.code)
    )
    rows: Sequence[Any] = (await session.execute(stmt)).all()
    return [
        CohortToday(
            r[0], r[1], r[2], r[3], int(r[4]), _average(r[5]), int(r[6]), int(r[7]), int(r[8])
        )
        for r in rows
    ]
