"""Seat rules: who holds a seat, who waits, and what happens when a seat frees.

- A request claims a place under the cohort's lock (``claim``): a seat while
  seats remain and nobody waits, else the end of the waitlist (request order,
  ``queue_no``).
- Seats are held by ``SEAT_HOLDING_STATUSES``; the waitlist is ``waitlisted``.
- When a seat frees (``leave``, a capacity raise, an offer expiring),
  ``fill_free_seats`` gives it to the waitlist's head, FIFO, in the same
  transaction: ``enrolled`` at once (``auto`` mode) or ``offered`` until
  ``offer_expires_at`` = now + ``offer_hours`` (``offer`` mode; the offer holds
  the seat).
- An offer is expired from the instant ``offer_expires_at`` (``rules.is_due``),
  whatever is stored: reads subtract due offers, and every lock that needs the
  cohort's seats materialises them first (``expire_due``, bounded), as does the
  scheduler's sweep (``seats.sweep``) for cohorts nobody touches.
- A cohort that completes cancels whoever still waits or holds an offer; one
  that is cancelled cancels every live enrollment (``close``).

Every function takes a cohort locked by ``lock`` / ``claim`` in the caller's
transaction, updates its counters in memory and writes them back, and records
one event per status change. The waitlist offers and reserved-seat pools of
the contract plug in here: ``fill_free_seats`` decides what a freed seat
becomes, ``repository.seat_free`` what a claim takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import Conflict, Forbidden, NotFound
from service.core.i18n import msg
from service.models import Cohort, Enrollment
from service.models.base import utcnow
from service.models.enums import (
    LIVE_STATUSES,
    SEAT_HOLDING_STATUSES,
    CohortStatus,
    EnrollmentStatus,
    WaitlistMode,
)
from service.seats import pool_repository, pools, repository
from service.seats.events import SYSTEM_ACTOR, record_event, record_expiries
from service.seats.reads import offer_due as offer_due
from service.seats.reads import status_at as status_at
from service.seats.reads import waitlist_positions as waitlist_positions
from service.seats.repository import LockedCohort

E = EnrollmentStatus
PROMOTED_REASON = "promoted from waitlist"
OFFERED_REASON = "seat offered from waitlist"
EXPIRED_REASON = "offer expired"
ACTIVE_COHORT = (CohortStatus.open.value, CohortStatus.in_progress.value)
# Due offers one transaction materialises at most (requests and the sweep alike): each
# costs two row updates and two audit rows with their triggers, so 200 keeps a
# cohort's lock to a fraction of a second.
EXPIRY_BATCH = 200


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


async def lock(
    session: AsyncSession,
    actor: Actor,
    cohort_id: str,
    *,
    now: datetime | None = None,
    materialise: bool = True,
) -> LockedCohort:
    """Lock the cohort for a change of its seats or status: 404 unknown, 403 out of scope.

    Offers due at ``now`` are materialised first (one bounded batch) unless
    ``materialise`` is false (a cohort about to close materialises them itself).
    """
    cohort = await repository.lock_for_update(session, cohort_id)
    if cohort is None:
        raise cohort_not_found()
    check_centre(actor, cohort.centre_id)
    if materialise:
        await expire_due(session, cohort, now or utcnow())
        await release_due(session, cohort, now or utcnow())
    return cohort


async def lock_of(
    session: AsyncSession, enrollment: Enrollment, *, now: datetime | None = None
) -> LockedCohort:
    """Lock the cohort of an enrollment already found (cohorts are never deleted), and
    materialise its due offers (one bounded batch)."""
    cohort = await repository.lock_for_update(session, enrollment.cohort_id)
    assert cohort is not None  # noqa: S101 - cohorts are never deleted
    await expire_due(session, cohort, now or utcnow())
    await release_due(session, cohort, now or utcnow())
    return cohort


async def share_lock(session: AsyncSession, cohort_id: str) -> Cohort | None:
    """Hold the cohort's status steady without serialising other share holders."""
    return await repository.lock_for_share(session, cohort_id)


async def claim(
    session: AsyncSession,
    cohort_id: str,
    *,
    now: datetime | None = None,
    expire_first: bool = False,
    place: tuple[str, str, str] | None = None,
    pooled: bool = False,
) -> LockedCohort | None:
    """Lock the cohort and claim the next place in line (see ``repository.claim_place``);
    None when there is no such cohort.

    When nobody waits and an offer is due, its seat is free: the due offers are
    materialised under the lock first (all of them; with nobody waiting no new
    offer is made), then the place is claimed. ``expire_first``: the claimant's
    own offer is due, so the cohort's due offers are materialised in any case
    (its live row must become ``expired`` before the new one is inserted).
    A cohort with reserved-seat pools decides under the lock in Python
    (``pools.claim``: ``place``, the applicant's gender, province and district,
    chooses the seat), after
    materialising its due releases; read the decision with ``claimed_status``
    (``pooled``: known to have pools, so the lock is taken at once)."""
    now = now or utcnow()
    if not expire_first and not pooled:
        claimed = await repository.claim_place(session, cohort_id, now)
        if claimed is not None:
            return claimed
    cohort = await repository.lock_for_update(session, cohort_id)
    if cohort is None:
        return None
    while await expire_due(session, cohort, now):
        pass
    if cohort.pool_count:
        await release_due(session, cohort, now)
        await pools.claim(session, cohort, place, now)
        await repository.save_counters(session, cohort)
        return cohort
    return await repository.claim_place(session, cohort_id, now)


def claimed_status(cohort: LockedCohort) -> EnrollmentStatus:
    """What ``claim`` took: waitlisted when anyone waits (pooled: as ``pools.claim`` said)."""
    if cohort.placed_status is not None:
        return E(cohort.placed_status)
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
        await pools.seats_freed(session, cohort, [enrollment])
    elif before == E.waitlisted:
        cohort.waitlist_length -= 1
    if before == E.offered:
        cohort.offers_pending -= 1
    await fill_free_seats(session, cohort, actor=actor)
    await repository.save_counters(session, cohort)


async def accept(
    session: AsyncSession, cohort: LockedCohort, enrollment: Enrollment, *, actor: str
) -> None:
    """A current offer of the locked cohort is accepted: it keeps its seat, enrolled."""
    enrollment.status = E.enrolled
    record_event(
        session,
        enrollment,
        from_status=E.offered.value,
        to_status=E.enrolled.value,
        actor=actor,
        reason="offer accepted",
    )
    cohort.offers_pending -= 1
    await repository.save_counters(session, cohort)


async def expire_due(
    session: AsyncSession, cohort: LockedCohort, now: datetime, *, limit: int = EXPIRY_BATCH
) -> int:
    """Materialise up to ``limit`` offers of the locked cohort that are expired at
    ``now``: each becomes ``expired`` as of its ``offer_expires_at`` (actor
    ``system``), and the freed seats go to the waitlist's head, whose offers'
    windows start ``now``. Set-based: one ``UPDATE … RETURNING`` for the batch and one
    multi-row INSERT for its audit rows. Returns how many expired; 0 costs nothing when
    the cohort has no offer pending, else one indexed statement."""
    if cohort.offers_pending <= 0:  # no offer pending: none is due
        return 0
    due = await repository.expire_due_offers(session, cohort.id, now, limit)
    await record_expiries(session, due, reason=EXPIRED_REASON)
    if due:
        await pools.seats_freed(session, cohort, due)
        cohort.seats_taken -= len(due)
        cohort.offers_pending -= len(due)
        await fill_free_seats(session, cohort, actor=SYSTEM_ACTOR, now=now)
        await repository.save_counters(session, cohort)
    return len(due)


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
    session: AsyncSession, cohort: LockedCohort, *, actor: str, now: datetime | None = None
) -> int:
    """Fill free seats of a locked open/in-progress cohort from the waitlist, FIFO:
    ``enrolled`` in ``auto`` mode, ``offered`` until now + ``offer_hours`` in
    ``offer`` mode (the offer holds the seat).

    Updates ``cohort``'s counters in memory (the caller saves them); returns how
    many seats were given.
    """
    if cohort.status not in ACTIVE_COHORT:
        return 0
    at = now or utcnow()
    chosen: list[tuple[Enrollment, str | None]]
    if cohort.pool_count:
        chosen = await pools.fill(session, cohort, at)
    else:
        free = min(cohort.capacity - cohort.seats_taken, cohort.waitlist_length)
        if free <= 0:
            return 0
        head = await repository.waitlist_head(session, cohort.id, free)
        chosen = [(enrollment, None) for enrollment in head]
        cohort.seats_taken += len(head)
        cohort.waitlist_length -= len(head)
    offering = cohort.waitlist_mode == WaitlistMode.offer
    to, reason = (E.offered, OFFERED_REASON) if offering else (E.enrolled, PROMOTED_REASON)
    expires = at + timedelta(hours=cohort.offer_hours)
    for enrollment, pool in chosen:
        enrollment.status = to
        enrollment.pool = pool
        if offering:
            enrollment.offer_expires_at = expires
        record_event(
            session,
            enrollment,
            from_status=E.waitlisted.value,
            to_status=to.value,
            actor=actor,
            reason=reason,
            at=at,
        )
    if offering:
        cohort.offers_pending += len(chosen)
    return len(chosen)


async def release_due(session: AsyncSession, cohort: LockedCohort, now: datetime) -> int:
    """Materialise pool releases due at ``now`` (``pools.released``): unfilled seats are
    open seats, given to the waitlist at once. 1 when any was released, else 0."""
    if not await pools.due_releases(session, cohort, now):
        return 0
    await fill_free_seats(session, cohort, actor=SYSTEM_ACTOR, now=now)
    await repository.save_counters(session, cohort)
    return 1


async def set_pools(
    session: AsyncSession,
    cohort: LockedCohort,
    specs: Sequence[pools.PoolSpec] | None,
    capacity: int,
    *,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Pools become ``specs`` (None: unchanged), capacity ``capacity`` (409s:
    ``check_capacity``, ``pools.replace``); freed seats go to the waitlist at once."""
    check_capacity(cohort, capacity)
    await pools.replace(session, cohort, specs, capacity, now or utcnow())
    await fill_free_seats(session, cohort, actor=actor, now=now)
    await repository.save_counters(session, cohort)


# --- cohorts closing -----------------------------------------------------------------


async def close(
    session: AsyncSession,
    cohort: LockedCohort,
    status: CohortStatus,
    *,
    actor: str,
    now: datetime | None = None,
) -> None:
    """The locked cohort became ``status``: offers already expired are materialised as
    expired (no new offers: the cohort is closed); then completed cancels whoever
    still waits or holds an offer, cancelled every live enrollment; the counters
    are recounted."""
    now = now or utcnow()
    if status is CohortStatus.in_progress:
        # Started: every pool is released now (``pools.released``), materialised here.
        await release_due(session, cohort, now)
    if status in (CohortStatus.completed, CohortStatus.cancelled):
        while await expire_due(session, cohort, now):
            pass
    if status is CohortStatus.completed:
        await cancel(
            session, cohort, (E.waitlisted, E.offered), actor=actor, reason="cohort completed"
        )
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
    """Set the locked cohort's counters (and its pools') from its enrollment rows."""
    await repository.recount(session, cohort)
    if cohort.pool_count:
        await pool_repository.recount_taken(session, cohort.id)
