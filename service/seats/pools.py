"""Reserved-seat pools (contract: Reserved seats): what a claim takes, what a freed
seat becomes, and when a pool's unfilled seats turn into open seats.

- A pool holds ``seats`` for applicants matching its ``rule`` (gender, province,
  district: an absent key matches anyone; within a key any value; across keys
  all). ``taken`` counts its seat-holding enrollments (``Enrollment.pool``).
- A pool is released from ``release_on`` (00:00 UTC), at the latest from the
  cohort's ``start_date`` or ``/start``, whichever is first (``released``): from
  that instant its unfilled seats are open seats, whether or not the release is
  materialised yet (``released_at``, by the scheduler's job, a lock of the
  cohort, or ``/start``). Materialising fills the new open seats at once.
- Open seats free = capacity − seats held − Σ unreleased pools' free seats.
- A claim (under the cohort's lock): the first pool in ``reserved`` order that
  matches the applicant and has a free seat, else an open seat, else the end of
  the waitlist. A freed seat: the waitlist is walked in line order, each entry
  taking the first matching pool seat free, else an open seat free; so a freed
  pool seat goes to the longest-waiting eligible entry, a freed open seat to the
  longest-waiting entry of any kind. Eligibility uses the applicant's current
  gender, province and district; a seat once taken is kept whatever changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Protocol

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.errors import Conflict
from service.core.i18n import msg
from service.models import CohortPool, Enrollment
from service.models.enums import CohortStatus
from service.seats import pool_repository
from service.seats.repository import LockedCohort

RULE_KEYS = ("gender", "province", "district")
# Waitlisted entries read per statement while filling seats.
FILL_BATCH = 200


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """One entry of a cohort's ``reserved`` list, validated and with canonical values."""

    code: str
    seats: int
    rule: dict[str, list[str]]
    release_on: date | None = None


@dataclass(frozen=True, slots=True)
class PoolView:
    """A pool as every read shows it (``pools[]`` of the cohort representation)."""

    code: str
    seats: int
    taken: int
    available: int
    released: bool


def rule_of(pool: CohortPool) -> dict[str, list[str]]:
    loaded: dict[str, list[str]] = json.loads(pool.rule)
    return loaded


def rule_text(rule: dict[str, list[str]]) -> str:
    return json.dumps({k: rule[k] for k in RULE_KEYS if rule.get(k)}, sort_keys=True)


def matches(rule: dict[str, list[str]], place: tuple[str, str, str]) -> bool:
    """Whether an applicant (gender, province, district) matches a rule."""
    return all(not rule.get(k) or v in rule[k] for k, v in zip(RULE_KEYS, place, strict=True))


def rule_condition(rule: dict[str, list[str]]) -> ColumnElement[bool]:
    return pool_repository.applicant_matches(
        rule.get("gender", []), rule.get("province", []), rule.get("district", [])
    )


def release_instant(release_on: date | None, start_date: date) -> datetime:
    """The instant a pool's unfilled seats become open seats (00:00 UTC of the day)."""
    day = min(release_on, start_date) if release_on is not None else start_date
    return datetime.combine(day, time(0), tzinfo=UTC)


def released(pool: CohortPool, *, start_date: date, status: str, now: datetime) -> bool:
    """The release rule, exact at ``now`` whether or not it was materialised."""
    return (
        pool.released_at is not None
        or status != CohortStatus.open.value
        or now >= release_instant(pool.release_on, start_date)
    )


def views(
    pools: Sequence[CohortPool],
    *,
    start_date: date,
    status: str,
    now: datetime,
    due: dict[str, int] | None = None,
) -> list[PoolView]:
    """The reads' view; ``due``: pool code → offers expired at ``now`` still counted."""
    out = []
    for pool in pools:
        taken = pool.taken - (due or {}).get(pool.code, 0)
        gone = released(pool, start_date=start_date, status=status, now=now)
        out.append(PoolView(pool.code, pool.seats, taken, 0 if gone else pool.seats - taken, gone))
    return out


class PooledCohort(Protocol):
    """What the reads need of a cohort (an ORM row or a report row)."""

    @property
    def id(self) -> str: ...
    @property
    def pool_count(self) -> int: ...
    @property
    def start_date(self) -> date: ...
    @property
    def status(self) -> str: ...


async def views_of(
    session: AsyncSession, cohorts: Sequence[PooledCohort], now: datetime
) -> dict[str, list[PoolView]]:
    """The pools of each cohort with any (by id), exact at ``now``: releases and offers
    expired but not yet materialised. Two queries for all the cohorts."""
    ids = [c.id for c in cohorts if c.pool_count]
    if not ids:
        return {}
    by_cohort: dict[str, list[CohortPool]] = {}
    for pool in await pool_repository.pools_of_many(session, ids):
        by_cohort.setdefault(pool.cohort_id, []).append(pool)
    due = await pool_repository.due_offers_by_pool(session, ids, now)
    return {
        c.id: views(
            by_cohort[c.id],
            start_date=c.start_date,
            status=c.status,
            now=now,
            due={p: n for (cohort_id, p), n in due.items() if cohort_id == c.id},
        )
        for c in cohorts
        if c.id in by_cohort
    }


@dataclass
class Seats:
    """A locked cohort's free seats: per unreleased pool, and open."""

    cohort: LockedCohort
    pools: list[CohortPool]
    now: datetime
    free: dict[str, int] = field(default_factory=dict)
    open: int = 0

    def __post_init__(self) -> None:
        c = self.cohort
        for pool in self.pools:
            if not released(pool, start_date=c.start_date, status=c.status, now=self.now):
                self.free[pool.code] = pool.seats - pool.taken
        self.open = c.capacity - c.seats_taken - sum(self.free.values())

    def any_free(self) -> bool:
        return self.open > 0 or any(n > 0 for n in self.free.values())

    def pool_for(self, place: tuple[str, str, str] | None) -> CohortPool | None:
        """The first pool, in ``reserved`` order, matching ``place`` with a free seat."""
        if place is None:
            return None
        for pool in self.pools:
            if self.free.get(pool.code, 0) > 0 and matches(rule_of(pool), place):
                return pool
        return None

    def take(self, place: tuple[str, str, str] | None) -> tuple[bool, CohortPool | None]:
        """Take a seat for ``place``: (taken, its pool or None for an open seat)."""
        if self.cohort.seats_taken >= self.cohort.capacity:
            return False, None
        pool = self.pool_for(place)
        if pool is not None:
            self.free[pool.code] -= 1
            pool.taken += 1
            self.cohort.seats_taken += 1
            return True, pool
        if self.open > 0:
            self.open -= 1
            self.cohort.seats_taken += 1
            return True, None
        return False, None

    def only(self) -> ColumnElement[bool] | None:
        """A condition on the applicant for the entries that may still take a seat."""
        if self.open > 0:
            return None
        rules = [rule_condition(rule_of(p)) for p in self.pools if self.free.get(p.code, 0) > 0]
        return or_(*rules)


async def seats_of(session: AsyncSession, cohort: LockedCohort, now: datetime) -> Seats:
    return Seats(cohort, await pool_repository.pools_of(session, cohort.id), now)


async def claim(
    session: AsyncSession,
    cohort: LockedCohort,
    place: tuple[str, str, str] | None,
    now: datetime,
) -> None:
    """A new request of an applicant at ``place`` (gender, province, district, read
    with the request) takes its place in the locked (pooled) cohort; the decision
    is left on ``cohort.placed_status`` / ``placed_pool``."""
    seats = await seats_of(session, cohort, now)
    cohort.queue_seq += 1
    taken, pool = False, None
    if cohort.status == CohortStatus.open.value:
        # The waitlist has had every seat it may take: what is free now is this request's.
        if cohort.waitlist_length == 0 or seats.pool_for(place) is not None:
            taken, pool = seats.take(place)
        if not taken:
            cohort.waitlist_length += 1
    cohort.placed_status = "enrolled" if taken else "waitlisted"
    cohort.placed_pool = pool.code if pool is not None else None


async def fill(
    session: AsyncSession, cohort: LockedCohort, now: datetime
) -> list[tuple[Enrollment, str | None]]:
    """The waitlisted enrollments that take the locked cohort's free seats, in line order,
    each with the pool whose seat it takes (None: an open seat). Counters (the
    cohort's seats and waitlist, the pools' ``taken``) are moved in memory."""
    seats = await seats_of(session, cohort, now)
    chosen: list[tuple[Enrollment, str | None]] = []
    after = -1
    while seats.any_free() and cohort.waitlist_length > len(chosen):
        batch = await pool_repository.waitlist_after(
            session, cohort.id, after, FILL_BATCH, seats.only()
        )
        if not batch:
            break
        for row in batch:
            enrollment: Enrollment = row[0]
            after = enrollment.queue_no
            taken, pool = seats.take((str(row[1]), str(row[2]), row[3]))
            if taken:
                chosen.append((enrollment, pool.code if pool is not None else None))
                if not seats.any_free():
                    break
    cohort.waitlist_length -= len(chosen)
    return chosen


async def due_releases(session: AsyncSession, cohort: LockedCohort, now: datetime) -> bool:
    """Mark the locked cohort's pools released at ``now`` as materialised; whether any was."""
    if not cohort.pool_count:
        return False
    any_due = False
    for pool in await pool_repository.pools_of(session, cohort.id):
        c = cohort
        if pool.released_at is None and released(
            pool, start_date=c.start_date, status=c.status, now=now
        ):
            pool.released_at = min(now, release_instant(pool.release_on, c.start_date))
            any_due = True
    return any_due


async def seats_freed(
    session: AsyncSession, cohort: LockedCohort, enrollments: Sequence[Enrollment]
) -> None:
    """Enrollments of the locked cohort gave up their seats: their pools have them free."""
    codes = [e.pool for e in enrollments if e.pool is not None]
    if not codes or not cohort.pool_count:
        return
    for pool in await pool_repository.pools_of(session, cohort.id):
        pool.taken -= codes.count(pool.code)


class PoolBelowTaken(Conflict):
    title, slug = "Pool below seats taken", "pool-below-taken"


def _below_taken(code: str, seats: int, taken: int) -> PoolBelowTaken:
    return PoolBelowTaken(
        msg(
            "pool.below_taken",
            "Pool '{code}' would have {seats} seats but {taken} are taken; "
            "withdraw or drop enrollments first.",
            code=code,
            seats=seats,
            taken=taken,
        ),
        extra={"pool": code},
    )


async def replace(
    session: AsyncSession,
    cohort: LockedCohort,
    specs: Sequence[PoolSpec] | None,
    capacity: int,
    now: datetime,
) -> None:
    """Set the locked cohort's pools to ``specs`` (None: keep them) and its capacity to
    ``capacity``: 409 when a pool would drop below its taken seats (a pool with
    taken seats cannot be removed), or when the seats held plus the unreleased
    pools' free seats would exceed the capacity. Matched by code, existing pools
    keep their ``taken``. The caller then fills free seats."""
    pools = await pool_repository.pools_of(session, cohort.id)
    if specs is not None:
        by_code = {p.code: p for p in pools}
        wanted = {s.code for s in specs}
        for pool in pools:
            if pool.code not in wanted and pool.taken:
                raise _below_taken(pool.code, 0, pool.taken)
        kept: list[CohortPool] = []
        for position, spec in enumerate(specs):
            found = by_code.get(spec.code)
            if found is None:
                pool = CohortPool(cohort_id=cohort.id, code=spec.code, taken=0)
                session.add(pool)
            elif spec.seats < found.taken:
                raise _below_taken(spec.code, spec.seats, found.taken)
            else:
                pool = found
            if pool.release_on != spec.release_on:
                pool.released_at = None
            pool.position, pool.seats, pool.release_on = position, spec.seats, spec.release_on
            pool.rule = rule_text(spec.rule)
            kept.append(pool)
        for pool in pools:
            if pool.code not in wanted:
                await session.delete(pool)
        pools = kept
        cohort.pool_count = len(kept)
        await pool_repository.set_pool_count(session, cohort.id, len(kept))
    cohort.capacity = capacity
    free = Seats(cohort, pools, now)
    if free.open < 0:
        reserved = sum(free.free.values())
        raise PoolsAboveCapacity(
            msg(
                "capacity.below_seats_reserved",
                "Capacity {capacity} is below the {taken} seats taken plus the {reserved} "
                "reserved seats still free.",
                capacity=capacity,
                taken=cohort.seats_taken,
                reserved=reserved,
            )
        )
    await session.flush()


class PoolsAboveCapacity(Conflict):
    title, slug = "Capacity below seats taken", "capacity-below-seats"


async def create(session: AsyncSession, cohort_id: str, specs: Sequence[PoolSpec]) -> None:
    """The pools of a cohort just created (nothing taken yet)."""
    for position, spec in enumerate(specs):
        session.add(
            CohortPool(
                cohort_id=cohort_id,
                position=position,
                code=spec.code,
                seats=spec.seats,
                rule=rule_text(spec.rule),
                release_on=spec.release_on,
                taken=0,
            )
        )
    await session.flush()
