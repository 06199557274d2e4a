"""Property test: random sequences of enrollment and cohort operations keep every invariant.

Drives the service functions directly inside the test's transaction (each example in
its own savepoint, each operation in a nested one, as a request's unit of work would
be rolled back on error) and checks after every step: seats held ≤ capacity, the
counters match the rows, waitlist positions are 1..n, no applicant is live twice in
the cohort, nobody waits while a seat is free, and replaying each enrollment's events
gives its current status. Cohorts run in either waitlist mode; offers are accepted,
declined and left to expire as the (time-machine) clock steps forward, and the
sweep materialises expiries at random moments, so the request path and the
sweep path interleave; what every read shows at the current instant (offers
due then count as expired) is checked against the rows too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.cohorts import service as cohorts
from service.cohorts.schemas import CohortUpdate
from service.core.auth import Actor
from service.core.db import Database
from service.core.errors import ServiceError
from service.enrollments import offers
from service.enrollments import service as enrollments
from service.models import Cohort, Enrollment, EnrollmentEvent
from service.models.base import utcnow
from service.models.enums import Role
from service.seats import service as seats
from service.seats.sweep import expire_offers
from tests.enrollments.helpers import assert_cohort_consistent
from tests.factories import make_applicant, make_cohort, make_key

APPLICANTS = 6

# Enrolments weigh most, so that cohorts fill up and waitlists form; lifecycle moves least.
KINDS = ["enrol"] * 10 + ["withdraw"] * 4 + ["drop"] * 2 + ["capacity"] * 2
KINDS += ["accept"] * 3 + ["decline"] * 2 + ["no_show"] * 2 + ["clock"] * 3 + ["sweep"]
operation = st.tuples(st.sampled_from([*KINDS, "start", "complete", "cancel"]), st.integers(0, 20))
OFFER_HOURS = 24
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def replay_events(session: AsyncSession, cohort_id: str) -> None:
    enrollments_ = (
        await session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort_id)
            .execution_options(populate_existing=True)
        )
    ).all()
    for enrollment in enrollments_:
        events = (
            await session.scalars(
                select(EnrollmentEvent)
                .where(EnrollmentEvent.enrollment_id == enrollment.id)
                .order_by(EnrollmentEvent.id)
            )
        ).all()
        state: str | None = None
        for event in events:
            assert event.from_status == state
            state = event.to_status
        assert state == enrollment.status


async def assert_reads_exact(session: AsyncSession, cohort_id: str) -> None:
    """The cohort as read now: due offers count as expired, held seats ≤ capacity."""
    now = utcnow()
    read = await cohorts.get(session, cohort_id)
    rows = (
        await session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort_id)
            .execution_options(populate_existing=True)
        )
    ).all()
    pending = [
        e for e in rows if e.status == "offered" and not seats.offer_due(e.offer_expires_at, now)
    ]
    held = [e for e in rows if e.status in ("enrolled", "completed", "failed")]
    assert read.offers_pending == len(pending)
    assert read.seats_taken == len(held) + len(pending) <= read.capacity
    assert read.seats_available == read.capacity - read.seats_taken


async def run_step(
    session: AsyncSession,
    actor: Actor,
    cohort: Cohort,
    applicant_ids: list[str],
    op: tuple[str, int],
    *,
    database: Database,
    clock: Any,
) -> None:
    kind, arg = op
    if kind == "clock":
        # Steps of 6 h to 5 days: offers of 24 h expire now and then, several at once.
        clock.shift(timedelta(hours=6 * (arg % 20 + 1)))
        return
    if kind == "sweep":
        await expire_offers(database, utcnow())
        return
    ids = list(
        await session.scalars(
            select(Enrollment.id)
            .where(Enrollment.cohort_id == cohort.id)
            .order_by(Enrollment.queue_no)
        )
    )
    calls: dict[str, Any] = {
        "enrol": lambda: enrollments.enroll(
            session, actor, cohort.id, applicant_ids[arg % len(applicant_ids)]
        ),
        "withdraw": lambda: enrollments.withdraw(session, actor, ids[arg % len(ids)]),
        "drop": lambda: enrollments.drop(session, actor, ids[arg % len(ids)]),
        "accept": lambda: offers.accept(session, actor, ids[arg % len(ids)]),
        "decline": lambda: offers.decline(session, actor, ids[arg % len(ids)]),
        "no_show": lambda: offers.no_show(session, actor, ids[arg % len(ids)]),
        "capacity": lambda: cohorts.update(
            session, actor, cohort.id, CohortUpdate(capacity=arg % 5 + 1)
        ),
        "start": lambda: cohorts.transition(session, actor, cohort.id, "start"),
        "complete": lambda: cohorts.transition(session, actor, cohort.id, "complete"),
        "cancel": lambda: cohorts.transition(session, actor, cohort.id, "cancel"),
    }
    if kind in ("withdraw", "drop", "accept", "decline", "no_show") and not ids:
        return
    refused: int | None = None
    try:
        async with session.begin_nested():
            await calls[kind]()
    except ServiceError as exc:
        # Refused: the savepoint rolled back everything the call did.
        refused = exc.status
    assert refused in (None, 409, 422)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    capacity=st.integers(1, 3),
    mode=st.sampled_from(["offer", "auto"]),
    ops=st.lists(operation, min_size=8, max_size=30),
)
async def test_random_operations_keep_invariants(
    session: AsyncSession,
    database: Database,
    capacity: int,
    mode: str,
    ops: list[tuple[str, int]],
) -> None:
    savepoint = await session.begin_nested()
    try:
        with time_machine.travel(T0, tick=False) as clock:
            await _run(session, database, clock, capacity, mode, ops)
    finally:
        await savepoint.rollback()


async def _run(
    session: AsyncSession,
    database: Database,
    clock: Any,
    capacity: int,
    mode: str,
    ops: list[tuple[str, int]],
) -> None:
    token = await make_key(session, "admin")
    actor = Actor(key_id=token.id, name=token.name, role=Role.admin)
    cohort = await make_cohort(
        session, capacity=capacity, waitlist_mode=mode, offer_hours=OFFER_HOURS
    )
    applicant_ids = [(await make_applicant(session)).id for _ in range(APPLICANTS)]
    for op in ops:
        await run_step(session, actor, cohort, applicant_ids, op, database=database, clock=clock)
        await session.flush()
        await assert_cohort_consistent(session, cohort.id)
        await assert_reads_exact(session, cohort.id)
        await replay_events(session, cohort.id)
        fresh = await session.get(Cohort, cohort.id, populate_existing=True)
        assert fresh is not None
        if fresh.status in ("open", "in_progress") and fresh.seats_taken < fresh.capacity:
            assert fresh.waitlist_length == 0
        if fresh.status in ("completed", "cancelled"):
            assert fresh.waitlist_length == 0
            assert fresh.offers_pending == 0
