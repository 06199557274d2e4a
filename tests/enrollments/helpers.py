"""Checks shared by the enrollment and cohort tests: counters and positions against the rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.enrollments.repository import status_counts
from service.models import Cohort, Enrollment
from service.models.enums import LIVE_STATUSES, SEAT_HOLDING_STATUSES
from service.seats.service import waitlist_positions


async def enrollment_statuses(session: AsyncSession, ids: Sequence[str]) -> list[str]:
    rows = await session.execute(
        select(Enrollment.id, Enrollment.status).where(Enrollment.id.in_(ids))
    )
    by_id: dict[str, str] = {i: s for i, s in rows}
    return [by_id[i] for i in ids]


async def assert_cohort_consistent(session: AsyncSession, cohort_id: str) -> None:
    """seats_taken / waitlist_length / offers_pending match the rows, seats ≤ capacity,
    positions are 1..n, one live enrollment per applicant, and no seat is left free
    while someone waits in an open or in-progress cohort."""
    cohort = await session.get(Cohort, cohort_id, populate_existing=True)
    assert cohort is not None
    counts = await status_counts(session, cohort_id)
    seats = sum(counts.get(s, 0) for s in SEAT_HOLDING_STATUSES)
    assert cohort.seats_taken == seats
    assert seats <= cohort.capacity
    assert cohort.waitlist_length == counts.get("waitlisted", 0)
    assert cohort.offers_pending == counts.get("offered", 0)
    # (With reserved-seat pools a pool seat may stay free while only ineligible
    # applicants wait: tests/enrollments/test_pool_properties.py checks those.)
    if (
        cohort.status in ("open", "in_progress")
        and cohort.waitlist_length
        and not cohort.pool_count
    ):
        assert cohort.seats_taken == cohort.capacity
    waiting = (
        await session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort_id, Enrollment.status == "waitlisted")
            .order_by(Enrollment.queue_no)
            .execution_options(populate_existing=True)
        )
    ).all()
    by_id = await waitlist_positions(session, waiting)
    positions = [by_id[e.id] for e in waiting]
    assert positions == list(range(1, len(positions) + 1))
    live = await session.execute(
        select(Enrollment.applicant_id, func.count())
        .where(Enrollment.cohort_id == cohort_id, Enrollment.status.in_(LIVE_STATUSES))
        .group_by(Enrollment.applicant_id)
        .having(func.count() > 1)
    )
    assert live.all() == []
