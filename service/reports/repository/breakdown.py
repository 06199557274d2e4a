"""Breakdowns: counts grouped by one dimension.

On PostgreSQL enrollments and completions sum the trigger-maintained cube
(``report_breakdown_counts``); trainees and SQLite group the base rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from service.models import (
    Applicant,
    Centre,
    Certificate,
    Cohort,
    Enrollment,
    Programme,
    ReportBreakdownCount,
)
from service.reports.repository.expressions import (
    SEATED,
    age_band_sql,
    band_sql,
    completion_time,
    month_sql,
)


def _breakdown_key(dimension: str, dialect: str, when: ColumnElement[Any]) -> ColumnElement[Any]:
    keys: dict[str, ColumnElement[Any] | InstrumentedAttribute[Any]] = {
        "province": Applicant.province,
        "district": Applicant.district,
        "gender": Applicant.gender,
        "track": Cohort.track,
        "centre": Centre.code,
        "cohort": Cohort.code,
    }
    if dimension == "pool":
        # Reserved-seat pool codes; open seats under the key "open".
        return func.coalesce(Enrollment.pool, OPEN_SEAT)
    if dimension == "age_band":
        return age_band_sql(dialect)
    if dimension == "month":
        return month_sql(dialect, when)
    return keys[dimension].expression


OPEN_SEAT = "open"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BreakdownQuery:
    """What a breakdown counts: ``metric`` grouped by ``dimension``, optionally filtered."""

    dimension: str
    metric: str
    programme_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None


async def breakdown(
    session: AsyncSession, dialect: str, query: BreakdownQuery
) -> list[tuple[str, int]]:
    """(key, count) per value of the query's dimension.

    On PostgreSQL, enrollments and completions sum the trigger-maintained
    ``report_breakdown_counts``; trainees (distinct people, not additive) and
    SQLite (and the ``pool`` dimension) group the base rows.
    """
    # The cube has no pool column: pools group the base rows (one indexed scan of seats).
    cube = query.dimension != "pool"
    if dialect == "postgresql" and cube and query.metric in ("enrollments", "completions"):
        return await breakdown_from_counts(session, query)
    return await breakdown_from_rows(session, dialect, query)


async def breakdown_from_rows(
    session: AsyncSession, dialect: str, query: BreakdownQuery
) -> list[tuple[str, int]]:
    """One GROUP BY over the base rows (what the counts must always agree with)."""
    dimension, metric = query.dimension, query.metric
    if metric == "enrollments":
        when: ColumnElement[Any] = Enrollment.created_at.expression
        stmt: Select[Any] = select().select_from(Enrollment).where(Enrollment.status.in_(SEATED))
    else:
        when = completion_time()
        stmt = (
            select()
            .select_from(Enrollment)
            .join(
                Certificate,
                and_(Certificate.enrollment_id == Enrollment.id, Certificate.revoked_at.is_(None)),
            )
            .where(Enrollment.status == "completed")
        )
    key = _breakdown_key(dimension, dialect, when).label("key")
    count = (
        func.count(func.distinct(Enrollment.applicant_id))
        if metric == "trainees"
        else func.count(Enrollment.id)
    )
    stmt = stmt.join(Cohort, Cohort.id == Enrollment.cohort_id).add_columns(key, count)
    if dimension in ("province", "district", "gender", "age_band"):
        stmt = stmt.join(Applicant, Applicant.id == Enrollment.applicant_id)
    if dimension == "centre":
        stmt = stmt.join(Centre, Centre.id == Cohort.centre_id)
    if query.programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == query.programme_id)
    if query.date_from is not None:
        stmt = stmt.where(when >= _day_start(query.date_from))
    if query.date_to is not None:
        stmt = stmt.where(when < _day_start(query.date_to + timedelta(days=1)))
    stmt = stmt.group_by(key)
    rows = (await session.execute(stmt)).all()
    return sorted(((str(k), int(n)) for k, n in rows if n), key=lambda r: r[0])


async def breakdown_from_counts(
    session: AsyncSession, query: BreakdownQuery
) -> list[tuple[str, int]]:
    counts = ReportBreakdownCount
    keys: dict[str, ColumnElement[Any]] = {
        "province": counts.province.expression,
        "district": counts.district.expression,
        "gender": counts.gender.expression,
        "age_band": band_sql(counts.age.expression),
        "track": Cohort.track.expression,
        "centre": Centre.code.expression,
        "cohort": Cohort.code.expression,
        "month": func.to_char(counts.day, "YYYY-MM"),
    }
    key = keys[query.dimension].label("key")
    stmt = select(key, func.sum(counts.n)).where(counts.metric == query.metric)
    if query.dimension in ("track", "centre", "cohort") or query.programme_id is not None:
        stmt = stmt.join(Cohort, Cohort.id == counts.cohort_id)
    if query.dimension == "centre":
        stmt = stmt.join(Centre, Centre.id == Cohort.centre_id)
    if query.programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == query.programme_id)
    if query.date_from is not None:
        stmt = stmt.where(counts.day >= query.date_from)
    if query.date_to is not None:
        stmt = stmt.where(counts.day <= query.date_to)
    rows = (await session.execute(stmt.group_by(key))).all()
    return sorted(((str(k), int(n)) for k, n in rows if n), key=lambda r: r[0])


async def programme_by_code(session: AsyncSession, code: str) -> Programme | None:
    found: Programme | None = await session.scalar(select(Programme).where(Programme.code == code))
    return found
