"""Outcome reports: completers whose window has opened and their outcomes, by one dimension.

On PostgreSQL both sum trigger-maintained cubes by completion day:
``report_breakdown_counts`` (metric ``completions``) for completers and
``report_outcome_counts`` for responses, over the days whose window for the
follow-up has opened (a few thousand rows whatever the number of
completions). SQLite, and the reconciliation tests, group the base rows.
The ``employed`` target metric counts distinct applicants over the base rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.sql import AnySelect
from service.models import (
    Applicant,
    Centre,
    Certificate,
    Cohort,
    Enrollment,
    Outcome,
    Programme,
    ReportBreakdownCount,
    ReportOutcomeCount,
)
from service.models.enums import EMPLOYED_STATUSES
from service.outcomes.windows import day_start
from service.reports.repository.breakdown import _breakdown_key
from service.reports.repository.expressions import band_sql, completion_time

_ONE_DAY = timedelta(days=1)
EMPLOYED = tuple(s.value for s in EMPLOYED_STATUSES)


@dataclass(frozen=True, slots=True)
class OutcomeQuery:
    """Follow-up, grouping, filters, and the last completion day whose window has opened."""

    follow_up: str
    dimension: str
    last_day: date
    programme_id: str | None = None
    centre_ids: frozenset[str] | None = None  # a scoped staff key's centres


@dataclass
class OutcomeCounts:
    completers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    bands: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )


async def outcome_counts(session: AsyncSession, dialect: str, query: OutcomeQuery) -> OutcomeCounts:
    if dialect == "postgresql":
        return await counts_from_cubes(session, query)
    return await counts_from_rows(session, dialect, query)


def _filters(stmt: AnySelect, query: OutcomeQuery) -> AnySelect:
    if query.programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == query.programme_id)
    if query.centre_ids is not None:
        stmt = stmt.where(Cohort.centre_id.in_(sorted(query.centre_ids)))
    return stmt


def _collect(counts: OutcomeCounts, rows: Sequence[Any]) -> None:
    for key, status, band, n in rows:
        counts.statuses[str(key)][status] += int(n)
        if band:
            counts.bands[str(key)][band] += int(n)


async def counts_from_rows(
    session: AsyncSession, dialect: str, query: OutcomeQuery
) -> OutcomeCounts:
    """GROUP BYs over the base rows (what the cubes must always agree with)."""
    when = completion_time()
    if query.dimension == "programme":
        key: ColumnElement[Any] = Programme.code.expression
    else:
        key = _breakdown_key(query.dimension, dialect, when)
    key = key.label("key")
    base = (
        select()
        .select_from(Enrollment)
        .join(
            Certificate,
            and_(Certificate.enrollment_id == Enrollment.id, Certificate.revoked_at.is_(None)),
        )
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Programme, Programme.id == Cohort.programme_id)
        .join(Centre, Centre.id == Cohort.centre_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(
            Enrollment.status == "completed",
            when < day_start(query.last_day + _ONE_DAY),
        )
    )
    base = _filters(base, query)
    counts = OutcomeCounts()
    completers = await session.execute(base.add_columns(key, func.count()).group_by(key))
    for k, n in completers:
        counts.completers[str(k)] += int(n)
    responses = (
        base.join(Outcome, Outcome.enrollment_id == Enrollment.id)
        .where(Outcome.follow_up == query.follow_up)
        .add_columns(key, Outcome.status, Outcome.income_band, func.count())
        .group_by(key, Outcome.status, Outcome.income_band)
    )
    _collect(counts, (await session.execute(responses)).all())
    return counts


def _cube_key(dimension: str, table: Any) -> ColumnElement[Any]:
    keys: dict[str, ColumnElement[Any]] = {
        "programme": Programme.code.expression,
        "province": table.province,
        "district": table.district,
        "gender": table.gender,
        "age_band": band_sql(table.age),
        "track": Cohort.track.expression,
        "centre": Centre.code.expression,
        "cohort": Cohort.code.expression,
        "month": func.to_char(table.day, "YYYY-MM"),
    }
    return keys[dimension].label("key")


def _cube_joins(stmt: AnySelect, table: Any, query: OutcomeQuery) -> AnySelect:
    if query.dimension in ("programme", "track", "centre", "cohort") or (
        query.programme_id is not None or query.centre_ids is not None
    ):
        stmt = stmt.join(Cohort, Cohort.id == table.cohort_id)
    if query.dimension == "programme":
        stmt = stmt.join(Programme, Programme.id == Cohort.programme_id)
    if query.dimension == "centre":
        stmt = stmt.join(Centre, Centre.id == Cohort.centre_id)
    return _filters(stmt, query)


async def counts_from_cubes(session: AsyncSession, query: OutcomeQuery) -> OutcomeCounts:
    counts = OutcomeCounts()
    cube = ReportBreakdownCount
    key = _cube_key(query.dimension, cube)
    stmt = select(key, func.sum(cube.n)).where(
        cube.metric == "completions", cube.day <= query.last_day
    )
    for k, n in await session.execute(_cube_joins(stmt, cube, query).group_by(key)):
        counts.completers[str(k)] += int(n or 0)
    oc = ReportOutcomeCount
    key = _cube_key(query.dimension, oc)
    stmt = select(key, oc.status, oc.income_band, func.sum(oc.n)).where(
        oc.follow_up == query.follow_up, oc.day <= query.last_day
    )
    stmt = _cube_joins(stmt, oc, query).group_by(key, oc.status, oc.income_band)
    _collect(counts, [r for r in (await session.execute(stmt)).all() if r[3]])
    return counts


# --- the ``employed`` target metric ---------------------------------------------------


async def employed_trainees(
    session: AsyncSession, programme_ids: Sequence[str], *, recorded_before: datetime | None = None
) -> int:
    """Distinct applicants with a live completion in these programmes and a 6m employed outcome."""
    if not programme_ids:
        return 0
    stmt = (
        select(func.count(func.distinct(Enrollment.applicant_id)))
        .select_from(Outcome)
        .join(Enrollment, Enrollment.id == Outcome.enrollment_id)
        .join(
            Certificate,
            and_(Certificate.enrollment_id == Enrollment.id, Certificate.revoked_at.is_(None)),
        )
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(
            Outcome.follow_up == "6m",
            Outcome.status.in_(EMPLOYED),
            Enrollment.status == "completed",
            Cohort.programme_id.in_(sorted(programme_ids)),
        )
    )
    if recorded_before is not None:
        stmt = stmt.where(Outcome.created_at < recorded_before)
    return int(await session.scalar(stmt) or 0)


async def programme_by_code(session: AsyncSession, code: str) -> Programme | None:
    found: Programme | None = await session.scalar(select(Programme).where(Programme.code == code))
    return found


async def exports(
    session: AsyncSession, programme_id: str, centre_ids: frozenset[str] | None
) -> list[tuple[str, int, int, int, int, float]]:
    """Per follow-up: responses, online stores, exporters, export orders, export value (USD)."""
    exporter = Outcome.export_orders > 0
    stmt: AnySelect = (
        select(
            Outcome.follow_up,
            func.count(),
            func.count().filter(Outcome.online_store.is_(True)),
            func.count().filter(exporter),
            func.coalesce(func.sum(Outcome.export_orders), 0),
            func.coalesce(func.sum(Outcome.export_value_usd), 0),
        )
        .select_from(Outcome)
        .join(Enrollment, Enrollment.id == Outcome.enrollment_id)
        .join(
            Certificate,
            and_(Certificate.enrollment_id == Enrollment.id, Certificate.revoked_at.is_(None)),
        )
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(Enrollment.status == "completed")
        .group_by(Outcome.follow_up)
    )
    stmt = _filters(stmt, OutcomeQuery("", "", date.min, programme_id, centre_ids))
    rows = (await session.execute(stmt)).all()
    return [(f, int(r), int(s), int(x), int(o), float(v)) for f, r, s, x, o, v in rows]
