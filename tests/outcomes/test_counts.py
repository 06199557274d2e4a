"""The outcome report's counts agree with the base rows after random histories.

On PostgreSQL the report sums trigger-maintained cubes; every kind of write that
moves a count (outcomes recorded, corrected, deleted; certificates revoked and
restored; completions re-dated, moved or undone; applicants' attributes and
cohorts' start dates changed) is applied at random, and the cube, the base-row
GROUP BY and a recount in Python must all agree.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.normalise import age_on
from service.models import Applicant, Certificate, Cohort, Enrollment, Outcome, Programme
from service.models.base import utcnow
from service.models.enums import IncomeBand, OutcomeStatus, values
from service.outcomes.windows import last_completion_day_opened
from service.reports.repository import outcomes as repository
from service.reports.repository.expressions import age_band
from tests.outcomes.helpers import cohort, completer

DIMENSIONS = ("programme", "province", "age_band", "month", "cohort")
FOLLOW_UPS = ("3m", "6m", "12m")
STATUSES = values(OutcomeStatus)
BANDS = (None, *values(IncomeBand))
KINDS = [
    "record", "record", "record", "correct", "delete", "revoke", "restore",
    "redate", "move", "undo", "redo", "applicant", "start_date",
]  # fmt: skip
step = st.tuples(st.sampled_from(KINDS), st.integers(0, 1000), st.integers(0, 1000))


async def expected(session: AsyncSession, follow_up: str, dimension: str) -> dict[str, Any]:
    """The report's counts recomputed in Python from the base rows."""
    last_day = last_completion_day_opened(follow_up, utcnow().date())
    rows = (
        await session.execute(
            select(Enrollment, Cohort, Applicant, Certificate.issued_at, Programme.code)
            .join(Cohort, Cohort.id == Enrollment.cohort_id)
            .join(Programme, Programme.id == Cohort.programme_id)
            .join(Applicant, Applicant.id == Enrollment.applicant_id)
            .join(Certificate, Certificate.enrollment_id == Enrollment.id)
            .where(Enrollment.status == "completed", Certificate.revoked_at.is_(None))
            .execution_options(populate_existing=True)
        )
    ).all()
    outcomes = (
        await session.scalars(
            select(Outcome)
            .where(Outcome.follow_up == follow_up)
            .execution_options(populate_existing=True)
        )
    ).all()
    by_enrollment = {o.enrollment_id: o for o in outcomes}
    completers: dict[str, int] = defaultdict(int)
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    bands: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e, c, a, issued, programme in rows:
        day: date = (e.completed_at or issued).astimezone(UTC).date()
        if day > last_day:
            continue
        key = {
            "programme": programme,
            "province": a.province,
            "age_band": age_band(age_on(a.date_of_birth, c.start_date)),
            "month": day.strftime("%Y-%m"),
            "cohort": c.code,
        }[dimension]
        completers[key] += 1
        found = by_enrollment.get(e.id)
        if found is not None:
            statuses[key][found.status] += 1
            if found.income_band:
                bands[key][found.income_band] += 1
    return _plain(completers, statuses, bands)


def _plain(completers: Any, statuses: Any, bands: Any) -> dict[str, Any]:
    return {
        "completers": {k: v for k, v in completers.items() if v},
        "statuses": {k: {s: n for s, n in v.items() if n} for k, v in statuses.items()},
        "bands": {k: {b: n for b, n in v.items() if n} for k, v in bands.items()},
    }


def counted(counts: repository.OutcomeCounts) -> dict[str, Any]:
    plain = _plain(counts.completers, counts.statuses, counts.bands)
    plain["statuses"] = {k: v for k, v in plain["statuses"].items() if v}
    plain["bands"] = {k: v for k, v in plain["bands"].items() if v}
    return plain


async def check(session: AsyncSession, dimensions: tuple[str, ...] = DIMENSIONS) -> None:
    await session.flush()
    dialect = session.get_bind().dialect.name
    for follow_up in FOLLOW_UPS:
        for dimension in dimensions:
            query = repository.OutcomeQuery(
                follow_up=follow_up,
                dimension=dimension,
                last_day=last_completion_day_opened(follow_up, utcnow().date()),
            )
            want = await expected(session, follow_up, dimension)
            got = counted(await repository.outcome_counts(session, dialect, query))
            assert got == want, (follow_up, dimension)
            if dialect == "postgresql":
                rows = counted(await repository.counts_from_rows(session, dialect, query))
                assert rows == want, (follow_up, dimension)


async def apply(session: AsyncSession, ids: list[str], people: list[str], op: Any) -> None:
    kind, a, b = op
    target = ids[a % len(ids)]
    follow_up = FOLLOW_UPS[b % 3]
    if kind == "record":
        exists = await session.scalar(
            select(Outcome.id).where(
                Outcome.enrollment_id == target, Outcome.follow_up == follow_up
            )
        )
        if exists is None:
            session.add(
                Outcome(
                    enrollment_id=target,
                    follow_up=follow_up,
                    status=STATUSES[b % len(STATUSES)],
                    income_band=BANDS[a % len(BANDS)],
                    source="phone",
                    recorded_on=utcnow().date(),
                )
            )
    elif kind == "correct":
        await session.execute(
            update(Outcome)
            .where(Outcome.enrollment_id == target)
            .values(status=STATUSES[a % len(STATUSES)], income_band=BANDS[b % len(BANDS)])
        )
    elif kind == "delete":
        await session.execute(delete(Outcome).where(Outcome.enrollment_id == target))
    elif kind in ("revoke", "restore"):
        await session.execute(
            update(Certificate)
            .where(Certificate.enrollment_id == target)
            .values(revoked_at=utcnow() if kind == "revoke" else None)
        )
    elif kind == "redate":
        await session.execute(
            update(Enrollment)
            .where(Enrollment.id == target)
            .values(completed_at=utcnow() - timedelta(days=b % 420))
        )
    elif kind == "move":
        other = ids[b % len(ids)]
        where = await session.scalar(select(Enrollment.cohort_id).where(Enrollment.id == other))
        await session.execute(
            update(Enrollment).where(Enrollment.id == target).values(cohort_id=where)
        )
    elif kind in ("undo", "redo"):
        await session.execute(
            update(Enrollment)
            .where(Enrollment.id == target)
            .values(status="failed" if kind == "undo" else "completed")
        )
    elif kind == "applicant":
        await session.execute(
            update(Applicant)
            .where(Applicant.id == people[a % len(people)])
            .values(
                province=("sindh", "kp", "punjab")[b % 3],
                date_of_birth=date(1995 + b % 8, 1 + a % 12, 1 + b % 28),
            )
        )
    else:
        where = await session.scalar(select(Enrollment.cohort_id).where(Enrollment.id == target))
        await session.execute(
            update(Cohort)
            .where(Cohort.id == where)
            .values(start_date=date(2025, 1 + a % 12, 1 + b % 28))
        )
    await session.flush()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ages=st.lists(st.integers(0, 420), min_size=4, max_size=8),
    ops=st.lists(step, min_size=5, max_size=20),
)
async def test_counts_reconcile_after_random_histories(
    session: AsyncSession, ages: list[int], ops: list[Any]
) -> None:
    savepoint = await session.begin_nested()
    try:
        cohorts = [
            await cohort(session),
            await cohort(session, programme_code="alibaba-ecommerce", centre_code="online"),
        ]
        done = [
            await completer(session, days_ago=age, in_cohort=cohorts[i % 2])
            for i, age in enumerate(ages)
        ]
        ids = [e.id for e in done]
        people = [e.applicant_id for e in done]
        for i, op in enumerate(ops):
            await apply(session, ids, people, op)
            if i % 8 == 7:
                await check(session, ("programme", "age_band"))
        await check(session)
    finally:
        await savepoint.rollback()
