"""Property test with reserved-seat pools: random enrolments of mixed eligibility,
withdrawals, drops, offers, capacity changes, clock steps across the pools' release
instants, the release job and the offer sweep keep every invariant: each pool's taken
matches its rows and stays within its seats, seats held ≤ capacity, the counters match
the rows, positions are 1..n, and (once releases are materialised) nobody waits for a
seat they could take; what reads show at the current instant is exact too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.cohorts import service as cohorts
from service.core.auth import Actor
from service.core.db import Database
from service.models import Applicant, Cohort, CohortPool, Enrollment
from service.models.base import utcnow
from service.models.enums import Role
from service.seats import pools
from service.seats.sweep import release_pools
from tests.enrollments.helpers import assert_cohort_consistent
from tests.enrollments.test_pools import assert_pools_consistent
from tests.enrollments.test_properties import KINDS, T0, replay_events, run_step
from tests.factories import make_applicant, make_cohort, make_key

PLACES = [("female", "Lahore"), ("female", "Quetta"), ("male", "Lahore"), ("male", "Quetta")]
RULES = [
    ("women", {"gender": ["female"]}),
    ("lahore", {"district": ["Lahore"]}),
]
operation = st.tuples(st.sampled_from([*KINDS, "release", "start", "cancel"]), st.integers(0, 20))


async def assert_fill_invariant(session: AsyncSession, cohort: Cohort) -> None:
    """Once every due release is materialised: no waiting applicant could take a free
    seat (an open seat, or a seat of an unreleased pool matching them)."""
    await session.refresh(cohort)
    if cohort.status not in ("open", "in_progress") or not cohort.waitlist_length:
        return
    now = utcnow()
    rows = (
        await session.scalars(
            select(CohortPool)
            .where(CohortPool.cohort_id == cohort.id)
            .execution_options(populate_existing=True)
        )
    ).all()

    def released(pool: CohortPool) -> bool:
        return pools.released(pool, start_date=cohort.start_date, status=cohort.status, now=now)

    if any(p.released_at is None and released(p) for p in rows):
        return  # a release due but not materialised: the next lock or the job does it
    free = {p.code: p.seats - p.taken for p in rows if not released(p)}
    assert cohort.capacity - cohort.seats_taken - sum(free.values()) <= 0
    waiting = await session.execute(
        select(Applicant.gender, Applicant.province, Applicant.district)
        .join(Enrollment, Enrollment.applicant_id == Applicant.id)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == "waitlisted")
    )
    for gender, province, district in waiting:
        place = (str(gender), str(province), district)
        for pool in rows:
            if free.get(pool.code, 0) > 0:
                assert not pools.matches(pools.rule_of(pool), place)


async def assert_reads_exact(session: AsyncSession, cohort_id: str) -> None:
    read = await cohorts.get(session, cohort_id)
    assert read.seats_taken <= read.capacity
    assert all(0 <= p.taken <= p.seats for p in read.pools)
    reserved_free = sum(p.available for p in read.pools)
    assert read.seats_available == max(read.capacity - read.seats_taken - reserved_free, 0)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    capacity=st.integers(2, 4),
    mode=st.sampled_from(["offer", "auto"]),
    release_days=st.lists(st.integers(1, 12), min_size=2, max_size=2),
    ops=st.lists(operation, min_size=8, max_size=30),
)
async def test_random_operations_with_pools_keep_invariants(
    session: AsyncSession,
    database: Database,
    capacity: int,
    mode: str,
    release_days: list[int],
    ops: list[tuple[str, int]],
) -> None:
    savepoint = await session.begin_nested()
    try:
        with time_machine.travel(T0, tick=False) as clock:
            await _run(session, database, clock, capacity, mode, release_days, ops)
    finally:
        await savepoint.rollback()


async def _run(
    session: AsyncSession,
    database: Database,
    clock: Any,
    capacity: int,
    mode: str,
    release_days: list[int],
    ops: list[tuple[str, int]],
) -> None:
    token = await make_key(session, "admin")
    actor = Actor(key_id=token.id, name=token.name, role=Role.admin)
    cohort = await make_cohort(
        session,
        capacity=capacity,
        waitlist_mode=mode,
        offer_hours=24,
        start_date=T0.date() + timedelta(days=10),
        pool_count=len(RULES),
    )
    await pools.create(
        session,
        cohort.id,
        [
            pools.PoolSpec(code, 1, rule, T0.date() + timedelta(days=days))
            for (code, rule), days in zip(RULES, release_days, strict=True)
        ],
    )
    applicant_ids = []
    for i in range(8):
        gender, district = PLACES[i % len(PLACES)]
        province = "punjab" if district == "Lahore" else "balochistan"
        applicant = await make_applicant(
            session, gender=gender, district=district, province=province
        )
        applicant_ids.append(applicant.id)
    for op in ops:
        if op[0] == "release":
            await release_pools(database, utcnow())
        else:
            await run_step(
                session, actor, cohort, applicant_ids, op, database=database, clock=clock
            )
        await session.flush()
        await assert_cohort_consistent(session, cohort.id)
        await assert_pools_consistent(session, cohort.id)
        await assert_reads_exact(session, cohort.id)
        await replay_events(session, cohort.id)
        await assert_fill_invariant(session, cohort)
