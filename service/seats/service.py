"""Seat rules: who holds a seat, who waits, and what happens when a seat frees.

- A request claims a place under the cohort's lock (``claim``): a seat while
  seats remain and nobody waits, else the end of the waitlist (request order,
  ``queue_no``).
- Seats are held by ``SEAT_HOLDING_STATUSES``; the waitlist is ``waitlisted``.
- When a seat frees (``leave``, a capacity raise), ``fill_free_seats`` gives it
  to the waitlist's head, FIFO, in the same transaction.
- A cohort that completes cancels whoever still waits; one that is cancelled
  cancels every live enrollment (``close``).

Every function takes a cohort locked by ``lock`` / ``claim`` in the caller's
transaction, updates its counters in memory and writes them back, and records
one event per status change. The waitlist offers and reserved-seat pools of
the contract plug in here: ``fill_free_seats`` decides what a freed seat
becomes, ``repository.seat_free`` what a claim takes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import Conflict, Forbidden, NotFound
from service.core.i18n import msg
from service.models import Cohort, Enrollment
from service.models.enums import (
    LIVE_STATUSES,
    SEAT_HOLDING_STATUSES,
    CohortStatus,
    EnrollmentStatus,
)
from service.seats import repository
from service.seats.events import record_event
from service.seats.repository import LockedCohort

E = EnrollmentStatus
PROMOTED_REASON = "promoted from waitlist"
ACTIVE_COHORT = (CohortStatus.open.value, CohortStatus.in_progress.value)


class CapacityBelowSeats(Conflict):
    title, slug = "Capacity below seats taken", "capacity-below-seats"


def cohort_not_found() -> NotFound:
    return NotFound(msg("cohort.not_found", "No cohort with this id."))


def check_centre(actor: Actor, centre_id: str) -> None:
    """Staff act only on cohorts of the centres their key covers (cohorts are not secret: 403)."""
    if not actor.may_act_on_centre(centre_id):
        raise Forbidden(
            msg("cohort.out_of_scope", "This key is not scoped to the cohort's centre.")
        )


# --- locks -------------------------------------------------------------------------


async def lock(session: AsyncSession, actor: Actor, cohort_id: str) -> LockedCohort:
    """Lock the cohort for a change of its seats or status: 404 unknown, 403 out of scope."""
    cohort = await repository.lock_for_update(session, cohort_id)
    if cohort is None:
        raise cohort_not_found()
    check_centre(actor, cohort.centre_id)
    return cohort


async def lock_of(session: AsyncSession, enrollment: Enrollment) -> LockedCohort:
    """Lock the cohort of an enrollment already found (cohorts are never deleted)."""
    cohort = await repository.lock_for_update(session, enrollment.cohort_id)
    assert cohort is not None  # noqa: S101 - cohorts are never deleted
    return cohort


async def share_lock(session: AsyncSession, cohort_id: str) -> Cohort | None:
    """Hold the cohort's status steady without serialising other share holders."""
    return await repository.lock_for_share(session, cohort_id)


async def claim(session: AsyncSession, cohort_id: str) -> LockedCohort | None:
    """Lock the cohort and claim the next place in line (see ``repository.claim_place``);
    None when there is no such cohort."""
    return await repository.claim_place(session, cohort_id)


def claimed_status(cohort: LockedCohort) -> EnrollmentStatus:
    """What the place ``claim`` just took is: waitlisted exactly when anyone waits."""
    return E.waitlisted if cohort.waitlist_length > 0 else E.enrolled


# --- seats freed and filled ----------------------------------------------------------


async def leave(
    session: AsyncSession,
    cohort: LockedCohort,
    enrollment: Enrollment,
    to: EnrollmentStatus,
    *,
    actor: str,
    reason: str | None = None,
) -> None:
    """Move a live enrollment of the locked cohort to ``to``; its seat (or waitlist
    place) is freed, and freed seats go to the waitlist's head."""
    before = enrollment.status
    enrollment.status = to
    record_event(
        session, enrollment, from_status=before, to_status=to.value, actor=actor, reason=reason
    )
    if before in SEAT_HOLDING_STATUSES:
        cohort.seats_taken -= 1
    elif before == E.waitlisted:
        cohort.waitlist_length -= 1
    await fill_free_seats(session, cohort, actor=actor)
    await repository.save_counters(session, cohort)


def check_capacity(cohort: LockedCohort, capacity: int) -> None:
    """A cohort's capacity never drops below the seats it has given."""
    if capacity < cohort.seats_taken:
        raise CapacityBelowSeats(
            msg(
                "capacity.below_seats",
                "Capacity {capacity} is below the {taken} seats taken; "
                "withdraw or drop enrollments first.",
                capacity=capacity,
                taken=cohort.seats_taken,
            )
        )


async def capacity_changed(
    session: AsyncSession, cohort: LockedCohort, capacity: int, *, actor: str
) -> None:
    """The locked cohort's capacity is now ``capacity`` (checked by ``check_capacity``):
    new seats go to the waitlist at once."""
    cohort.capacity = capacity
    if await fill_free_seats(session, cohort, actor=actor):
        await repository.save_counters(session, cohort)


async def fill_free_seats(
    session: AsyncSession, cohort: LockedCohort, *, actor: str, reason: str = PROMOTED_REASON
) -> int:
    """Fill free seats of a locked open/in-progress cohort from the waitlist, FIFO.

    Updates ``cohort``'s counters in memory (the caller saves them); returns how
    many were promoted.
    """
    if cohort.status not in ACTIVE_COHORT:
        return 0
    free = min(cohort.capacity - cohort.seats_taken, cohort.waitlist_length)
    if free <= 0:
        return 0
    promoted = await repository.waitlist_head(session, cohort.id, free)
    for enrollment in promoted:
        enrollment.status = E.enrolled
        record_event(
            session,
            enrollment,
            from_status=E.waitlisted.value,
            to_status=E.enrolled.value,
            actor=actor,
            reason=reason,
        )
    cohort.seats_taken += len(promoted)
    cohort.waitlist_length -= len(promoted)
    return len(promoted)


# --- cohorts closing -----------------------------------------------------------------


async def close(
    session: AsyncSession, cohort: LockedCohort, status: CohortStatus, *, actor: str
) -> None:
    """The locked cohort became ``status``: completed cancels whoever still waits,
    cancelled cancels every live enrollment; the counters are recounted."""
    if status is CohortStatus.completed:
        await cancel(session, cohort, (E.waitlisted,), actor=actor, reason="cohort completed")
    elif status is CohortStatus.cancelled:
        await cancel(session, cohort, LIVE_STATUSES, actor=actor, reason="cohort cancelled")


async def cancel(
    session: AsyncSession,
    cohort: LockedCohort,
    statuses: Sequence[EnrollmentStatus],
    *,
    actor: str,
    reason: str,
) -> None:
    """Move a locked cohort's enrollments in ``statuses`` to cancelled; recount in SQL."""
    for enrollment in await repository.in_statuses(session, cohort.id, statuses):
        before = enrollment.status
        enrollment.status = E.cancelled
        record_event(
            session,
            enrollment,
            from_status=before,
            to_status=E.cancelled.value,
            actor=actor,
            reason=reason,
        )
    await recount(session, cohort)


async def recount(session: AsyncSession, cohort: LockedCohort) -> None:
    """Set the locked cohort's counters from its enrollment rows."""
    await repository.recount(session, cohort)


# --- reads -------------------------------------------------------------------------


async def waitlist_positions(
    session: AsyncSession, enrollments: Sequence[Enrollment]
) -> dict[str, int]:
    """Positions in line (1..n) of the waitlisted ones among ``enrollments``, by id."""
    waitlisted = [e for e in enrollments if e.status == E.waitlisted]
    return await repository.waitlist_positions(session, waitlisted)
