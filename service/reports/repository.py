"""Every SQL statement the reports run.

Progress reads only the trigger-maintained counter tables (a few hundred rows
whatever the number of enrollments); breakdowns, the feed and the CSV export
are set-based queries over the base tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import KeyedColumnElement

from service.models import (
    Applicant,
    Centre,
    Certificate,
    Cohort,
    Enrollment,
    Programme,
    ReportBreakdownCount,
    ReportFeedEntry,
    ReportProgrammeCount,
    ReportProgrammeDaily,
    ReportTargetCount,
    ReportTargetDaily,
    Target,
    target_programmes,
)
from service.models.base import UTCDateTime
from service.models.enums import SEAT_HOLDING_STATUSES

SEATED = tuple(s.value for s in SEAT_HOLDING_STATUSES)


# --- progress: counters --------------------------------------------------------


@dataclass
class Counters:
    """Sums over shards: programme_id -> metric -> n, and per-target trainees."""

    programme: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    programme_window: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    target_trainees: dict[str, int] = field(default_factory=dict)
    target_window: dict[str, int] = field(default_factory=dict)


async def programmes(session: AsyncSession) -> Sequence[Programme]:
    return (await session.scalars(select(Programme).order_by(Programme.code))).all()


async def targets(session: AsyncSession) -> list[tuple[Target, list[str]]]:
    """Each target (oldest first: the seeded commitment leads) with its programme ids."""
    rows = (await session.scalars(select(Target).order_by(Target.id))).all()
    links = (await session.execute(select(target_programmes))).all()
    by_target: dict[str, list[str]] = defaultdict(list)
    for target_id, programme_id in links:
        by_target[target_id].append(programme_id)
    return [(t, by_target[t.id]) for t in rows]


async def counters(session: AsyncSession, window_start: date) -> Counters:
    """Every counter the progress report needs, in one round trip (UNION ALL of four sums)."""
    p_all = select(
        literal("programme").label("kind"),
        ReportProgrammeCount.programme_id.label("owner"),
        ReportProgrammeCount.metric.label("metric"),
        func.sum(ReportProgrammeCount.n).label("n"),
    ).group_by(ReportProgrammeCount.programme_id, ReportProgrammeCount.metric)
    p_window = (
        select(
            literal("programme_window"),
            ReportProgrammeDaily.programme_id,
            ReportProgrammeDaily.metric,
            func.sum(ReportProgrammeDaily.n),
        )
        .where(ReportProgrammeDaily.day >= window_start)
        .group_by(ReportProgrammeDaily.programme_id, ReportProgrammeDaily.metric)
    )
    t_all = select(
        literal("target"), ReportTargetCount.target_id, literal(""), func.sum(ReportTargetCount.n)
    ).group_by(ReportTargetCount.target_id)
    t_window = (
        select(
            literal("target_window"),
            ReportTargetDaily.target_id,
            literal(""),
            func.sum(ReportTargetDaily.n),
        )
        .where(ReportTargetDaily.day >= window_start)
        .group_by(ReportTargetDaily.target_id)
    )
    out = Counters()
    rows = await session.execute(union_all(p_all, p_window, t_all, t_window))
    for kind, owner, metric, n in rows:
        value = int(n or 0)
        if kind == "programme":
            out.programme[owner][metric] = value
        elif kind == "programme_window":
            out.programme_window[owner][metric] = value
        elif kind == "target":
            out.target_trainees[owner] = value
        else:
            out.target_window[owner] = value
    return out


# --- shared expressions ----------------------------------------------------------


def age_at_start(dialect: str) -> ColumnElement[Any]:
    """Whole years between the applicant's birth and the cohort's start."""
    if dialect == "postgresql":
        return cast(
            func.date_part("year", func.age(Cohort.start_date, Applicant.date_of_birth)), Integer
        )
    return literal_column(
        "(CAST(strftime('%Y', cohorts.start_date) AS INTEGER)"
        " - CAST(strftime('%Y', applicants.date_of_birth) AS INTEGER)"
        " - (strftime('%m-%d', cohorts.start_date) < strftime('%m-%d', applicants.date_of_birth)))"
    )


AGE_BANDS: list[tuple[int, int | None, str]] = [
    (15, 17, "15-17"),
    (18, 24, "18-24"),
    (25, 29, "25-29"),
    (30, 35, "30-35"),
    (36, None, "36+"),
]


def age_band(age: int) -> str:
    for low, high, label in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return "under-15"


def band_sql(age: ColumnElement[int]) -> ColumnElement[str]:
    whens: list[tuple[ColumnElement[bool], str]] = []
    for low, high, label in AGE_BANDS:
        cond = age >= low if high is None else and_(age >= low, age <= high)
        whens.append((cond, label))
    return case(*whens, else_="under-15")


def age_band_sql(dialect: str) -> ColumnElement[Any]:
    return band_sql(age_at_start(dialect))


def month_sql(dialect: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def completion_time() -> ColumnElement[Any]:
    return func.coalesce(Enrollment.completed_at, Certificate.issued_at, type_=UTCDateTime())


# --- breakdown ---------------------------------------------------------------------


def _breakdown_key(dimension: str, dialect: str, when: ColumnElement[Any]) -> ColumnElement[Any]:
    keys: dict[str, ColumnElement[Any] | InstrumentedAttribute[Any]] = {
        "province": Applicant.province,
        "district": Applicant.district,
        "gender": Applicant.gender,
        "track": Cohort.track,
        "centre": Centre.code,
        "cohort": Cohort.code,
    }
    if dimension == "age_band":
        return age_band_sql(dialect)
    if dimension == "month":
        return month_sql(dialect, when)
    return keys[dimension].expression


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
    SQLite group the base rows.
    """
    if dialect == "postgresql" and query.metric in ("enrollments", "completions"):
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


# --- the feed and the export -------------------------------------------------------


def _completion_columns() -> list[KeyedColumnElement[Any]]:
    return [
        Enrollment.id.label("enrollment_id"),
        Enrollment.applicant_id.label("applicant_id"),
        Applicant.cnic.label("cnic"),
        Programme.code.label("programme"),
        Cohort.code.label("cohort"),
        Cohort.track.label("track"),
        Centre.code.label("centre"),
        Applicant.province.label("province"),
        Applicant.district.label("district"),
        Applicant.gender.label("gender"),
        Applicant.date_of_birth.label("date_of_birth"),
        Cohort.start_date.label("start_date"),
        Enrollment.score.label("score"),
        Enrollment.attendance.label("attendance"),
        completion_time().label("completed_at"),
        Certificate.code.label("certificate_code"),
    ]


def _joined(stmt: Select[Any]) -> Select[Any]:
    return (
        stmt.join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Programme, Programme.id == Cohort.programme_id)
        .join(Centre, Centre.id == Cohort.centre_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
    )


async def feed_page(session: AsyncSession, *, after: int, limit: int) -> Sequence[Any]:
    stmt = (
        select(
            ReportFeedEntry.position,
            ReportFeedEntry.kind,
            ReportFeedEntry.at,
            Certificate.revoked_at,
            Certificate.revoked_reason,
            *_completion_columns(),
        )
        .select_from(ReportFeedEntry)
        .join(Certificate, Certificate.id == ReportFeedEntry.certificate_id)
        .join(Enrollment, Enrollment.id == ReportFeedEntry.enrollment_id)
    )
    stmt = (
        _joined(stmt)
        .where(ReportFeedEntry.position > after)
        .order_by(ReportFeedEntry.position)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


def _contact_columns() -> list[KeyedColumnElement[Any]]:
    return [
        Applicant.full_name.label("full_name"),
        Applicant.email.label("email"),
        Applicant.phone.label("phone"),
    ]


def _live_completions(columns: Sequence[ColumnElement[Any]]) -> Select[Any]:
    """``columns`` for every live completion, oldest enrollment first (both CSV exports)."""
    stmt = (
        select(*columns)
        .select_from(Enrollment)
        .join(
            Certificate,
            and_(Certificate.enrollment_id == Enrollment.id, Certificate.revoked_at.is_(None)),
        )
        .where(Enrollment.status == "completed")
    )
    return _joined(stmt).order_by(Enrollment.id)


def completions_export(full: bool) -> Select[Any]:
    """Every live completion, oldest enrollment first, for the streamed CSV."""
    return _live_completions(_completion_columns() + (_contact_columns() if full else []))


def completions_export_text(*, full: bool, masked: bool) -> str:
    """The export as one PostgreSQL query whose columns are already the CSV's text.

    For ``COPY (...) TO STDOUT``: the database formats every field exactly as the
    Python export does (masked CNIC, age band, ``87``/``87.5`` numbers, ISO
    timestamps in UTC with ``Z`` and microseconds only when non-zero).
    """
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    completed = func.timezone("UTC", completion_time())
    stamp = (
        func.to_char(completed, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'"))
        + case(
            (func.date_trunc("second", completed) == completed, ""),
            else_=func.to_char(completed, literal_column("'.US'")),
        )
        + "Z"
    )
    cnic: ColumnElement[Any] = Applicant.cnic.expression
    if masked:
        cnic = "*****-*******-" + func.right(Applicant.cnic, 1)
    columns: list[ColumnElement[Any]] = [
        Enrollment.id.label("enrollment_id"),
        Enrollment.applicant_id.label("applicant_id"),
        cnic.label("cnic"),
        Programme.code.label("programme"),
        Cohort.code.label("cohort"),
        Cohort.track.label("track"),
        Centre.code.label("centre"),
        Applicant.province.label("province"),
        Applicant.district.label("district"),
        Applicant.gender.label("gender"),
        age_band_sql("postgresql").label("age_band"),
        Enrollment.score.label("score"),
        Enrollment.attendance.label("attendance"),
        stamp.label("completed_at"),
        Certificate.code.label("certificate_code"),
    ]
    if full:
        columns += _contact_columns()
    compiled = _live_completions(columns).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)
