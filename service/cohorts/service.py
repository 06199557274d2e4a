"""Cohort rules: create, patch (capacity changes move the waitlist), lifecycle, reads."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.catalog import repository as catalog_repo
from service.catalog.service import CodeTaken
from service.cohorts import pools as cohort_pools
from service.cohorts import repository
from service.cohorts.schemas import CohortCreate, CohortRead, CohortUpdate, PoolRead
from service.core.auth import Actor
from service.core.errors import Conflict, ValidationFailed
from service.core.i18n import Msg, either, msg
from service.core.pagination import PageParams, paginate_rows
from service.core.sql import AnyRow
from service.core.transitions import InvalidTransition
from service.models import Cohort
from service.models.base import utcnow
from service.models.enums import CohortStatus
from service.seats import pool_repository
from service.seats import pools as seat_pools
from service.seats import service as seats

S = CohortStatus

# action → (statuses it may start from, status it leads to, past tense for messages)
TRANSITIONS: dict[str, tuple[tuple[CohortStatus, ...], CohortStatus, str]] = {
    "start": ((S.open,), S.in_progress, "started"),
    "complete": ((S.in_progress,), S.completed, "completed"),
    "cancel": ((S.open, S.in_progress), S.cancelled, "cancelled"),
}


def _code_taken(code: str) -> CodeTaken:
    return CodeTaken(msg("cohort.code_taken", "A cohort with code '{code}' exists.", code=code))


def _cannot(action: str, status: str, allowed: str) -> Msg:
    if action == "start":
        return msg(
            "cohort.cannot_start",
            "A cohort that is {status} cannot be started; it must be {allowed}.",
            status=status,
            allowed=allowed,
        )
    if action == "complete":
        return msg(
            "cohort.cannot_complete",
            "A cohort that is {status} cannot be completed; it must be {allowed}.",
            status=status,
            allowed=allowed,
        )
    return msg(
        "cohort.cannot_cancel",
        "A cohort that is {status} cannot be cancelled; it must be {allowed}.",
        status=status,
        allowed=allowed,
    )


class CohortClosed(Conflict):
    title, slug = "Cohort closed", "cohort-closed"


def to_read(row: AnyRow, pools: list[PoolRead]) -> CohortRead:
    c: Cohort = row.Cohort
    # Free seats of unreleased pools are not open seats (contract: Reserved seats).
    reserved_free = sum(p.available for p in pools)
    return CohortRead(
        id=c.id,
        code=c.code,
        programme=row.programme_code,
        centre=row.centre_code,
        name=c.name,
        track=c.track,
        start_date=c.start_date,
        end_date=c.end_date,
        capacity=c.capacity,
        mode=c.mode,
        min_age=c.min_age,
        max_age=c.max_age,
        pass_score=c.pass_score,
        min_attendance=c.min_attendance,
        status=c.status,
        waitlist_mode=c.waitlist_mode,
        offer_hours=c.offer_hours,
        # Offers expired by now hold no seat, materialised or not (the expiry rule).
        seats_taken=c.seats_taken - row.due_offers,
        seats_available=max(c.capacity - c.seats_taken + row.due_offers - reserved_free, 0),
        waitlist_length=c.waitlist_length,
        offers_pending=c.offers_pending - row.due_offers,
        pools=pools,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


async def get(session: AsyncSession, cohort_id: str) -> CohortRead:
    row = await repository.cohort_row(session, cohort_id)
    if row is None:
        raise seats.cohort_not_found()
    pools = await cohort_pools.reads(session, [row.Cohort], utcnow())
    return to_read(row, pools[row.Cohort.id])


async def list_cohorts(
    session: AsyncSession,
    page: PageParams,
    *,
    programme: str | None = None,
    centre: str | None = None,
    status: CohortStatus | None = None,
) -> tuple[list[CohortRead], str | None]:
    stmt = repository.filtered_rows(
        programme=programme, centre=centre, status=status.value if status else None
    )
    rows, cursor = await paginate_rows(session, stmt, Cohort.id, page)
    pools = await cohort_pools.reads(session, [r.Cohort for r in rows], utcnow())
    return [to_read(r, pools[r.Cohort.id]) for r in rows], cursor


def _range_errors(values: dict[str, Any], sent: set[str]) -> dict[str, str]:
    """Cross-field rules, checked on the merged values; names the field the client sent."""
    errors: dict[str, str] = {}
    start: date = values["start_date"]
    end: date = values["end_date"]
    if end < start:
        if "start_date" in sent and "end_date" not in sent:
            errors["start_date"] = msg(
                "start_date.after_end",
                "Must be on or before end_date ({end}).",
                end=end.isoformat(),
            )
        else:
            errors["end_date"] = msg(
                "end_date.before_start",
                "Must be on or after start_date ({start}).",
                start=start.isoformat(),
            )
    if values["min_age"] > values["max_age"]:
        if "min_age" in sent and "max_age" not in sent:
            errors["min_age"] = msg(
                "min_age.above_max",
                "Must be at most max_age ({max_age}).",
                max_age=values["max_age"],
            )
        else:
            errors["max_age"] = msg(
                "max_age.below_min",
                "Must be at least min_age ({min_age}).",
                min_age=values["min_age"],
            )
    return errors


async def create(session: AsyncSession, actor: Actor, data: CohortCreate) -> CohortRead:
    programme = await catalog_repo.programme_by_code(session, data.programme)
    centre = await catalog_repo.centre_by_code(session, data.centre)
    errors: dict[str, str] = {}
    if programme is None:
        errors["programme"] = msg(
            "programme.unknown", "Unknown programme: {codes}.", codes=data.programme
        )
    if centre is None:
        errors["centre"] = msg("centre.unknown", "Unknown centre: {code}.", code=data.centre)
    errors |= _range_errors(data.model_dump(), set(data.model_fields_set))
    if errors or programme is None or centre is None:
        raise ValidationFailed(errors)
    specs = await cohort_pools.specs(session, data.reserved, data.capacity)
    seats.check_centre(actor, centre.id)
    if await repository.code_taken(session, data.code):
        raise _code_taken(data.code)
    cohort = Cohort(
        **data.model_dump(exclude={"programme", "centre", "mode", "waitlist_mode", "reserved"}),
        mode=data.mode.value,
        waitlist_mode=data.waitlist_mode.value,
        offers_pending=0,
        programme_id=programme.id,
        centre_id=centre.id,
        status=S.open.value,
        seats_taken=0,
        waitlist_length=0,
        queue_seq=0,
        pool_count=len(specs),
        created_by_key_id=actor.key_id,
    )
    session.add(cohort)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _code_taken(data.code) from None
    await seat_pools.create(session, cohort.id, specs)
    return await get(session, cohort.id)


async def update(
    session: AsyncSession, actor: Actor, cohort_id: str, data: CohortUpdate
) -> CohortRead:
    changes = data.changes()
    reserved_sent = "reserved" in changes
    changes.pop("reserved", None)
    nulls = {f: msg("field.not_null", "May not be null.") for f, v in changes.items() if v is None}
    if reserved_sent and data.reserved is None:
        nulls["reserved"] = msg("field.not_null", "May not be null.")
    if nulls:
        raise ValidationFailed(nulls)
    locked = await seats.lock(session, actor, cohort_id)
    if locked.status in (S.completed, S.cancelled):
        raise CohortClosed(
            msg(
                "cohort.closed",
                "The cohort is {status}; it can no longer be changed.",
                status=locked.status,
            )
        )
    row = await repository.cohort_row(session, cohort_id)
    assert row is not None  # noqa: S101 - locked above
    stored: Cohort = row.Cohort
    merged = {
        "start_date": stored.start_date,
        "end_date": stored.end_date,
        "min_age": stored.min_age,
        "max_age": stored.max_age,
    } | changes
    errors = _range_errors(merged, set(changes))
    if errors:
        raise ValidationFailed(errors)
    capacity = changes.get("capacity")
    pooled = reserved_sent or locked.pool_count > 0
    specs = None
    if reserved_sent:
        specs = await cohort_pools.specs(session, data.reserved or [], capacity or locked.capacity)
    elif capacity is not None and locked.pool_count:
        stored_pools = await pool_repository.pools_of(session, cohort_id)
        if sum(p.seats for p in stored_pools) > capacity:
            # The stored pools, checked against the new capacity (naming it).
            specs_now = [
                seat_pools.PoolSpec(p.code, p.seats, seat_pools.rule_of(p), p.release_on)
                for p in stored_pools
            ]
            raise _reserved_above(specs_now, capacity)
    if capacity is not None:
        seats.check_capacity(locked, capacity)
    for enum_field in ("mode", "waitlist_mode"):
        if enum_field in changes:
            changes[enum_field] = changes[enum_field].value
    if changes:
        await repository.set_fields(session, cohort_id, changes)
    # Seats freed from now on follow the new mode and window; pending offers keep theirs.
    locked.waitlist_mode = changes.get("waitlist_mode", locked.waitlist_mode)
    locked.offer_hours = changes.get("offer_hours", locked.offer_hours)
    if pooled and (reserved_sent or capacity is not None):
        new_capacity = capacity or locked.capacity
        await seats.set_pools(session, locked, specs, new_capacity, actor=actor.name)
    elif capacity is not None:
        await seats.capacity_changed(session, locked, capacity, actor=actor.name)
    return await get(session, cohort_id)


def _reserved_above(specs: list[seat_pools.PoolSpec], capacity: int) -> ValidationFailed:
    return ValidationFailed(
        {
            "capacity": msg(
                "capacity.below_reserved",
                "Capacity {capacity} is below the {total} seats the pools reserve.",
                capacity=capacity,
                total=sum(s.seats for s in specs),
            )
        }
    )


async def transition(
    session: AsyncSession, actor: Actor, cohort_id: str, action: str
) -> CohortRead:
    """start, complete or cancel; enrollments follow in the same transaction."""
    sources, target, _done = TRANSITIONS[action]
    # Closing materialises due offers itself (as expired, with no new offers).
    locked = await seats.lock(session, actor, cohort_id, materialise=False)
    if locked.status not in sources:
        raise InvalidTransition(
            _cannot(action, locked.status, either([s.value for s in sources])),
            current_status=locked.status,
        )
    await repository.set_fields(session, cohort_id, {"status": target.value})
    locked.status = target.value
    await seats.close(session, locked, target, actor=actor.name)
    return await get(session, cohort_id)
