"""Property test: random sequences of enrollment and cohort operations keep every invariant.

Drives the service functions directly inside the test's transaction (each example in
its own savepoint, each operation in a nested one, as a request's unit of work would
be rolled back on error) and checks after every step: seats held ≤ capacity, the
counters match the rows, waitlist positions are 1..n, no applicant is live twice in
the cohort, nobody waits while a seat is free, and replaying each enrollment's events
gives its current status.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.cohorts import service as cohorts
from service.cohorts.schemas import CohortUpdate
from service.core.auth import Actor
from service.core.errors import ServiceError
from service.enrollments import service as enrollments
from service.models import Cohort, Enrollment, EnrollmentEvent
from service.models.enums import Role
from tests.enrollments.helpers import assert_cohort_consistent
from tests.factories import make_applicant, make_cohort, make_key

APPLICANTS = 6

# Enrolments weigh most, so that cohorts fill up and waitlists form; lifecycle moves least.
KINDS = ["enrol"] * 10 + ["withdraw"] * 4 + ["drop"] * 2 + ["capacity"] * 2
operation = st.tuples(st.sampled_from([*KINDS, "start", "complete", "cancel"]), st.integers(0, 20))


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


async def run_step(
    session: AsyncSession,
    actor: Actor,
    cohort: Cohort,
    applicant_ids: list[str],
    op: tuple[str, int],
) -> None:
    kind, arg = op
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
        "capacity": lambda: cohorts.update(
            session, actor, cohort.id, CohortUpdate(capacity=arg % 5 + 1)
        ),
        "start": lambda: cohorts.transition(session, actor, cohort.id, "start"),
        "complete": lambda: cohorts.transition(session, actor, cohort.id, "complete"),
        "cancel": lambda: cohorts.transition(session, actor, cohort.id, "cancel"),
    }
    if kind in ("withdraw", "drop") and not ids:
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
@given(capacity=st.integers(1, 3), ops=st.lists(operation, min_size=8, max_size=30))
async def test_random_operations_keep_invariants(
    session: AsyncSession, capacity: int, ops: list[tuple[str, int]]
) -> None:
    savepoint = await session.begin_nested()
    try:
        token = await make_key(session, "admin")
        actor = Actor(key_id=token.id, name=token.name, role=Role.admin)
        cohort = await make_cohort(session, capacity=capacity)
        applicant_ids = [(await make_applicant(session)).id for _ in range(APPLICANTS)]
        for op in ops:
            await run_step(session, actor, cohort, applicant_ids, op)
            await session.flush()
            await assert_cohort_consistent(session, cohort.id)
            await replay_events(session, cohort.id)
            fresh = await session.get(Cohort, cohort.id, populate_existing=True)
            assert fresh is not None
            if fresh.status in ("open", "in_progress") and fresh.seats_taken < fresh.capacity:
                assert fresh.waitlist_length == 0
            if fresh.status in ("completed", "cancelled"):
                assert fresh.waitlist_length == 0
    finally:
        await savepoint.rollback()
