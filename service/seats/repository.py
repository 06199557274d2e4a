"""SQL of seat accounting: the cohort locks, the counters, the waitlist queue.

Lock vocabulary (the cohort row is always locked before any enrollment row, so
no two transactions wait on each other in opposite orders):

- ``lock_for_update``: every change to a cohort's seats or waitlist starts with
  it (or with ``claim_place``, or the enrollment hot path's one statement, which
  take the same lock): an ``UPDATE ... RETURNING`` on the cohort row. On
  PostgreSQL the row lock is held until commit, so all changes to one cohort's
  seats and waitlist are serialised; SQLite serialises every writer anyway
  (``BEGIN IMMEDIATE``).
- ``lock_for_share``: ``SELECT ... FOR SHARE``: the cohort's status cannot change
  until the transaction ends, while other share holders (completions, which move
  no seat) proceed side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.sql import AnyRow
from service.models import Cohort, Enrollment
from service.models.base import utcnow
from service.models.enums import SEAT_HOLDING_STATUSES, CohortStatus, EnrollmentStatus

WAITLISTED = EnrollmentStatus.waitlisted.value
OFFERED = EnrollmentStatus.offered.value
EXPIRED = EnrollmentStatus.expired.value


@dataclass(slots=True)
class LockedCohort:
    """The cohort's row as read under its lock; counters are written back by ``save_counters``."""

    id: str
    centre_id: str
    status: str
    capacity: int
    seats_taken: int
    waitlist_length: int
    queue_seq: int
    start_date: date
    min_age: int
    max_age: int
    waitlist_mode: str
    offer_hours: int
    offers_pending: int
    pool_count: int = 0
    # A pooled claim's decision (``pools.claim``): the status and the pool taken.
    placed_status: str | None = None
    placed_pool: str | None = None


LOCKED_COLUMNS = (
    Cohort.id,
    Cohort.centre_id,
    Cohort.status,
    Cohort.capacity,
    Cohort.seats_taken,
    Cohort.waitlist_length,
    Cohort.queue_seq,
    Cohort.start_date,
    Cohort.min_age,
    Cohort.max_age,
    Cohort.waitlist_mode,
    Cohort.offer_hours,
    Cohort.offers_pending,
    Cohort.pool_count,
)


def _locked(row: AnyRow) -> LockedCohort:
    return LockedCohort(**row._asdict())


def seat_free() -> ColumnElement[bool]:
    """The claim rule, in SQL: a new request takes a seat while seats remain and nobody
    waits; otherwise it joins the end of the waitlist. (Every claim statement uses it.)"""
    return and_(Cohort.seats_taken < Cohort.capacity, Cohort.waitlist_length == 0)


def offer_due(now: Any) -> ColumnElement[bool]:
    """An offer that is expired at ``now`` but still stored as ``offered``
    (the expiry rule: expired from the instant ``offer_expires_at``, inclusive)."""
    return and_(Enrollment.status == OFFERED, Enrollment.offer_expires_at <= now)


def claim_decidable(now: Any) -> ColumnElement[bool]:
    """A claim may be decided on the cohort's stored counters: somebody waits (a new
    request joins the end of the line whatever expired), or no offer is due (no
    expired offer still counts as a held seat). Otherwise the due offers are
    materialised first, under the lock (``service.claim``)."""
    due = exists().where(Enrollment.cohort_id == Cohort.id, offer_due(now))
    return or_(Cohort.waitlist_length > 0, ~due)


def due_count(now: Any) -> Any:
    """Correlated count of a cohort's due offers (read-time expiry of the counters)."""
    return (
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.cohort_id == Cohort.id, offer_due(now))
        .correlate(Cohort)
        .scalar_subquery()
    )


# --- locks -------------------------------------------------------------------------


async def lock_for_update(session: AsyncSession, cohort_id: str) -> LockedCohort | None:
    """Lock the cohort row until commit and read its state; None when there is no such cohort."""
    row = (
        await session.execute(
            update(Cohort)
            .where(Cohort.id == cohort_id)
            .values(queue_seq=Cohort.queue_seq)
            .returning(*LOCKED_COLUMNS)
            .execution_options(synchronize_session=False)
        )
    ).first()
    return None if row is None else _locked(row)


async def lock_for_share(session: AsyncSession, cohort_id: str) -> Cohort | None:
    """Re-read the cohort under a share lock (PostgreSQL): its status cannot change
    until this transaction ends, while other share holders proceed side by side."""
    return await session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )


async def try_lock(session: AsyncSession, cohort_id: str) -> LockedCohort | None:
    """Lock the cohort unless another transaction holds it (PostgreSQL ``SKIP LOCKED``:
    the sweep never waits behind a request); None when locked elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return await lock_for_update(session, cohort_id)
    row = (
        await session.execute(
            select(*LOCKED_COLUMNS).where(Cohort.id == cohort_id).with_for_update(skip_locked=True)
        )
    ).first()
    return None if row is None else _locked(row)


async def claim_place(session: AsyncSession, cohort_id: str, now: datetime) -> LockedCohort | None:
    """Lock the cohort and take the next place in one statement.

    Hands out the next ``queue_seq`` and, when the cohort is open, counts the
    new request as a seat (``seat_free``) or as the last place on the waitlist.
    The caller reads the decision back: the request is waitlisted exactly when
    the returned ``waitlist_length`` is above zero. When the caller then refuses
    the request, its rollback undoes all of it. None when there is no such
    cohort, when due offers must be materialised first (``claim_decidable``), or
    when the cohort has reserved-seat pools (``service.pools.claim`` decides).
    """
    is_open = Cohort.status == CohortStatus.open.value
    free = seat_free()
    row = (
        await session.execute(
            update(Cohort)
            .where(Cohort.id == cohort_id, Cohort.pool_count == 0, claim_decidable(now))
            .values(
                queue_seq=Cohort.queue_seq + 1,
                seats_taken=Cohort.seats_taken + case((and_(is_open, free), 1), else_=0),
                waitlist_length=Cohort.waitlist_length + case((and_(is_open, ~free), 1), else_=0),
            )
            .returning(*LOCKED_COLUMNS)
            .execution_options(synchronize_session=False)
        )
    ).first()
    return None if row is None else _locked(row)


# --- counters ----------------------------------------------------------------------


async def save_counters(session: AsyncSession, cohort: LockedCohort) -> None:
    """Write back the counters of a cohort locked by this transaction."""
    await session.execute(
        update(Cohort)
        .where(Cohort.id == cohort.id)
        .values(
            queue_seq=cohort.queue_seq,
            seats_taken=cohort.seats_taken,
            waitlist_length=cohort.waitlist_length,
            offers_pending=cohort.offers_pending,
        )
        .execution_options(synchronize_session=False)
    )


async def recount(session: AsyncSession, cohort: LockedCohort) -> None:
    """Set the locked cohort's counters from its enrollment rows (set-based, in SQL)."""
    await session.flush()

    def count(*statuses: str) -> Any:
        return (
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.cohort_id == cohort.id, Enrollment.status.in_(statuses))
            .scalar_subquery()
        )

    row = (
        await session.execute(
            update(Cohort)
            .where(Cohort.id == cohort.id)
            .values(
                seats_taken=count(*SEAT_HOLDING_STATUSES),
                waitlist_length=count(EnrollmentStatus.waitlisted),
                offers_pending=count(EnrollmentStatus.offered),
            )
            .returning(Cohort.seats_taken, Cohort.waitlist_length, Cohort.offers_pending)
            .execution_options(synchronize_session=False)
        )
    ).one()
    cohort.seats_taken, cohort.waitlist_length = row.seats_taken, row.waitlist_length
    cohort.offers_pending = row.offers_pending


# --- the queue ---------------------------------------------------------------------


async def waitlist_head(session: AsyncSession, cohort_id: str, count: int) -> Sequence[Enrollment]:
    """The ``count`` longest-waiting waitlisted enrollments, first in line first."""
    return (
        await session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort_id, Enrollment.status == WAITLISTED)
            .order_by(Enrollment.queue_no)
            .limit(count)
            .execution_options(populate_existing=True)
        )
    ).all()


async def expire_due_offers(
    session: AsyncSession, cohort_id: str, now: datetime, limit: int
) -> list[Any]:
    """Mark up to ``limit`` of the cohort's offers expired at ``now`` as ``expired`` in
    one ``UPDATE … RETURNING`` (earliest expiry first; loaded objects are synchronised).
    Returns their ``id``, ``offer_expires_at``, ``queue_no`` and ``pool``, in that order."""
    due = (
        select(Enrollment.id)
        .where(Enrollment.cohort_id == cohort_id, offer_due(now))
        .order_by(Enrollment.offer_expires_at, Enrollment.queue_no)
        .limit(limit)
    )
    rows = (
        await session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_(due.scalar_subquery()))
            .values(status=EXPIRED, updated_at=utcnow())
            .returning(
                Enrollment.id, Enrollment.offer_expires_at, Enrollment.queue_no, Enrollment.pool
            )
            .execution_options(synchronize_session="fetch")
        )
    ).all()
    return sorted(rows, key=lambda r: (r.offer_expires_at, r.queue_no))


async def cohorts_with_due_offers(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Cohorts holding offers expired at ``now``, earliest expiry first (one index range)."""
    rows = await session.scalars(
        select(Enrollment.cohort_id)
        .where(offer_due(now))
        .order_by(Enrollment.offer_expires_at)
        .limit(limit)
    )
    return list(dict.fromkeys(rows))


async def in_statuses(
    session: AsyncSession, cohort_id: str, statuses: Sequence[str]
) -> Sequence[Enrollment]:
    """A cohort's enrollments in ``statuses``, in request order."""
    return (
        await session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort_id, Enrollment.status.in_(statuses))
            .order_by(Enrollment.queue_no)
            .execution_options(populate_existing=True)
        )
    ).all()


async def waitlist_positions(
    session: AsyncSession, waitlisted: Sequence[Enrollment]
) -> dict[str, int]:
    """The 1-based position in line of each waitlisted enrollment given, by id.

    One statement with one window function, however many are asked about: each
    waitlisted enrollment of their cohorts ranked in request order, counted only
    up to the highest queue number asked about.
    """
    if not waitlisted:
        return {}
    ranked = (
        select(
            Enrollment.id,
            func.row_number()
            .over(partition_by=Enrollment.cohort_id, order_by=Enrollment.queue_no)
            .label("position"),
        )
        .where(
            Enrollment.cohort_id.in_(sorted({e.cohort_id for e in waitlisted})),
            Enrollment.status == WAITLISTED,
            Enrollment.queue_no <= max(e.queue_no for e in waitlisted),
        )
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_([e.id for e in waitlisted]))
    )
    return {row.id: row.position for row in rows}
