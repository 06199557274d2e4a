"""Enrollment rules: enrol, withdraw, drop, and reads (offers: ``enrollments.offers``).

Seats and the waitlist belong to ``service.seats``: every state change here
locks the cohort there first (``seats.claim`` / ``seats.lock_of``), re-reads what
it decides on, and lets ``seats`` move the counters, the waitlist and the events,
all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.access import applicant_not_found, get_readable, may_read
from service.applicants.normalise import age_on
from service.core.auth import Actor
from service.core.errors import Conflict, NotFound, ValidationFailed
from service.core.i18n import either, msg
from service.core.pagination import PageParams, paginate_rows
from service.core.sql import AnyRow
from service.core.transitions import InvalidTransition
from service.enrollments import enroll_repository, repository
from service.enrollments.enroll_repository import CohortSnapshot, EnrollSnapshot
from service.enrollments.schemas import EnrollmentRead, EventList, EventRead
from service.models import Enrollment
from service.models.base import new_id, utcnow
from service.models.enums import CohortStatus, EnrollmentStatus
from service.seats import service as seats
from service.seats.events import SYSTEM_ACTOR, record_event
from service.seats.repository import LockedCohort

E = EnrollmentStatus


class AlreadyEnrolled(Conflict):
    title, slug = "Already enrolled", "already-enrolled"


class CohortNotOpen(Conflict):
    title, slug = "Cohort not open", "cohort-not-open"


class CohortNotActive(Conflict):
    title, slug = "Cohort not open or in progress", "cohort-not-active"


def enrollment_not_found() -> NotFound:
    return NotFound(msg("enrollment.not_found", "No enrollment with this id."))


def _to_read(row: AnyRow, positions: dict[str, int], now: datetime) -> EnrollmentRead:
    read = EnrollmentRead.model_validate(row.Enrollment)
    read.status = E(seats.status_at(row.Enrollment, now))
    read.waitlist_position = positions.get(row.Enrollment.id)
    read.certificate_code = row.certificate_code
    return read


async def _to_reads(session: AsyncSession, rows: Sequence[AnyRow]) -> list[EnrollmentRead]:
    """Rows as ``EnrollmentRead``, with the waitlist positions of the whole page at once;
    an offer due now reads as expired."""
    positions = await seats.waitlist_positions(session, [r.Enrollment for r in rows])
    now = utcnow()
    return [_to_read(r, positions, now) for r in rows]


async def read(session: AsyncSession, enrollment_id: str) -> EnrollmentRead:
    return (await _to_reads(session, [await repository.read_row(session, enrollment_id)]))[0]


# --- state changes ---------------------------------------------------------------


async def enroll(
    session: AsyncSession, actor: Actor, cohort_id: str, applicant_id: str
) -> EnrollmentRead:
    """Enrol while seats remain, else join the end of the waitlist."""
    # One unlocked read to refuse early; the unique index catches a racing twin.
    now = utcnow()
    found = await enroll_repository.snapshot(session, cohort_id, applicant_id, now)
    if found is None or not await may_read(
        session, actor, found.applicant_id, found.created_by_key_id
    ):
        raise applicant_not_found()
    if found.cohort is None:
        raise seats.cohort_not_found()
    if found.cohort.live_enrollment_id is not None:
        # Staff outside the cohort's centre get 403, not the id of an enrollment they may not see.
        seats.check_centre(actor, found.cohort.centre_id)
        raise _already_enrolled(found.cohort.live_enrollment_id)
    _check_takes(actor, found.cohort, found.date_of_birth)
    # The applicant's own expired offer is materialised (under the lock) before a new one.
    expire_first = found.cohort.due_offer_id is not None
    # A cohort with reserved-seat pools decides under its lock (the applicant's attributes
    # choose the seat): never the one statement.
    one_statement = not expire_first and found.cohort.pool_count == 0
    if session.get_bind().dialect.name == "postgresql" and one_statement:
        done = await _enroll_in_one_statement(session, actor, found, found.cohort)
        if done is not None:
            return done

    # Decide under the cohort's lock: SQLite, or the cohort changed since the read.
    cohort = await seats.claim(
        session,
        cohort_id,
        now=now,
        expire_first=expire_first,
        place=found.place,
        pooled=found.cohort.pool_count > 0,
    )
    if cohort is None:
        raise seats.cohort_not_found()
    _check_takes(actor, cohort, found.date_of_birth)

    status = seats.claimed_status(cohort)
    enrollment = Enrollment(
        id=new_id(),  # known before the flush, for the event row
        cohort_id=cohort.id,
        applicant_id=found.applicant_id,
        status=status.value,
        queue_no=cohort.queue_seq,
        pool=cohort.placed_pool,
        created_by_key_id=actor.key_id,
    )
    session.add(enrollment)
    record_event(session, enrollment, from_status=None, to_status=status.value, actor=actor.name)
    try:
        await session.flush()
    except IntegrityError as exc:
        if enroll_repository.is_live_duplicate(exc):
            raise _already_enrolled(None) from None
        raise
    read = EnrollmentRead.model_validate(enrollment)
    # Appended under the lock with the highest queue number: last in line.
    read.waitlist_position = cohort.waitlist_length if status is E.waitlisted else None
    return read


def _check_takes(actor: Actor, cohort: LockedCohort | CohortSnapshot, born: date) -> None:
    """The cohort takes this enrollment: the actor's centre scope, open, the age limits."""
    seats.check_centre(actor, cohort.centre_id)
    if cohort.status != CohortStatus.open:
        raise CohortNotOpen(
            msg(
                "cohort.not_open",
                "The cohort is {status}; only open cohorts take enrollments.",
                status=cohort.status,
            )
        )
    _check_age(born, cohort)


async def _enroll_in_one_statement(
    session: AsyncSession,
    actor: Actor,
    found: EnrollSnapshot,
    cohort: CohortSnapshot,
) -> EnrollmentRead | None:
    """PostgreSQL: claim the place, insert the enrollment and its event in one
    statement that commits by itself (unless an Idempotency-Key record already
    opened the request's transaction), so the cohort's lock is held only while
    that statement runs (a hot cohort's limit).

    The statement re-checks, under the lock, that the cohort still has the
    rules the caller checked on its unlocked read; None when it changed
    meanwhile (the caller then decides again under the lock).
    """
    try:
        row = await enroll_repository.enroll_in_one_statement(
            session,
            cohort,
            enrollment_id=new_id(),
            applicant_id=found.applicant_id,
            key_id=actor.key_id,
            actor_name=actor.name,
            at=utcnow(),
        )
    except IntegrityError as exc:
        if enroll_repository.is_live_duplicate(exc):
            raise _already_enrolled(None) from None
        raise
    if row is None:
        return None
    waitlisted = row.status == E.waitlisted
    return EnrollmentRead(
        id=row.id,
        cohort_id=row.cohort_id,
        applicant_id=row.applicant_id,
        status=E(row.status),
        waitlist_position=row.cohort_waitlist_length if waitlisted else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _already_enrolled(existing_id: str | None) -> AlreadyEnrolled:
    return AlreadyEnrolled(
        msg(
            "enrollment.already_live",
            "The applicant already has a live (enrolled, waitlisted or offered) enrollment "
            "in this cohort.",
        ),
        extra={"existing_id": existing_id} if existing_id else None,
    )


def _check_age(born: date, cohort: LockedCohort | CohortSnapshot) -> None:
    age = age_on(born, cohort.start_date)
    if not cohort.min_age <= age <= cohort.max_age:
        raise ValidationFailed(
            {
                "applicant_id": msg(
                    "age.out_of_range",
                    "The applicant is {age} on the cohort's start date ({start}); "
                    "this cohort takes ages {min_age} to {max_age}.",
                    age=age,
                    start=cohort.start_date.isoformat(),
                    min_age=cohort.min_age,
                    max_age=cohort.max_age,
                )
            },
            detail=msg(
                "age.out_of_range.detail", "The applicant is outside the cohort's age range."
            ),
        )


async def withdraw(
    session: AsyncSession, actor: Actor, enrollment_id: str, *, reason: str | None = None
) -> EnrollmentRead:
    """enrolled|waitlisted|offered → withdrawn; a freed seat goes to the waitlist's head."""
    return await leave(
        session, actor, enrollment_id, E.withdrawn, (E.enrolled, E.waitlisted, E.offered), reason
    )


async def drop(
    session: AsyncSession, actor: Actor, enrollment_id: str, *, reason: str | None = None
) -> EnrollmentRead:
    """enrolled → dropped (staff, admin); the freed seat goes to the waitlist's head."""
    return await leave(session, actor, enrollment_id, E.dropped, (E.enrolled,), reason)


def _cannot_leave(to: EnrollmentStatus, status: str, allowed: str) -> str:
    if to is E.withdrawn:
        return msg(
            "enrollment.cannot_withdraw",
            "An enrollment that is {status} cannot be withdrawn; it must be {allowed}.",
            status=status,
            allowed=allowed,
        )
    if to is E.no_show:
        return msg(
            "enrollment.cannot_no_show",
            "An enrollment that is {status} cannot be marked a no-show; it must be {allowed}.",
            status=status,
            allowed=allowed,
        )
    return msg(
        "enrollment.cannot_drop",
        "An enrollment that is {status} cannot be dropped; it must be {allowed}.",
        status=status,
        allowed=allowed,
    )


async def locked_enrollment(
    session: AsyncSession, actor: Actor, enrollment_id: str
) -> tuple[LockedCohort, Enrollment]:
    """The visible enrollment (404 otherwise), re-read under its cohort's lock, which
    has materialised the cohort's due offers."""
    found = await repository.visible_enrollment(session, actor, enrollment_id)
    if found is None:
        raise enrollment_not_found()
    cohort = await seats.lock_of(session, found)
    return cohort, await repository.reload(session, enrollment_id)


async def leave(
    session: AsyncSession,
    actor: Actor,
    enrollment_id: str,
    to: EnrollmentStatus,
    allowed_from: tuple[EnrollmentStatus, ...],
    reason: str | None,
) -> EnrollmentRead:
    """A live enrollment leaves for ``to`` (409 from any status but ``allowed_from``)."""
    cohort, enrollment = await locked_enrollment(session, actor, enrollment_id)
    current = seats.status_at(enrollment, utcnow())
    if current not in allowed_from:
        raise InvalidTransition(
            _cannot_leave(to, current, either([s.value for s in allowed_from])),
            current_status=current,
        )
    if to is E.no_show and cohort.status not in seats.ACTIVE_COHORT:
        raise CohortNotActive(
            msg(
                "cohort.not_active_no_show",
                "The cohort is {status}; no-shows are marked while it is open or in progress.",
                status=cohort.status,
            ),
            extra={"cohort_status": cohort.status},
        )
    await seats.leave(session, cohort, enrollment, to, actor=actor.name, reason=reason)
    return await read(session, enrollment_id)


# --- reads -----------------------------------------------------------------------


async def get(session: AsyncSession, actor: Actor, enrollment_id: str) -> EnrollmentRead:
    row = await repository.visible_row(session, actor, enrollment_id)
    if row is None:
        raise enrollment_not_found()
    return (await _to_reads(session, [row]))[0]


async def events(session: AsyncSession, actor: Actor, enrollment_id: str) -> EventList:
    """The audit trail; an offer due now but not yet materialised ends with the expiry
    it will be recorded as (at ``offer_expires_at``, actor ``system``)."""
    enrollment = await repository.visible_enrollment(session, actor, enrollment_id)
    if enrollment is None:
        raise enrollment_not_found()
    items = [
        {"from": e.from_status, "to": e.to_status, "actor": e.actor, "at": e.at, "reason": e.reason}
        for e in await repository.events(session, enrollment_id)
    ]
    if seats.status_at(enrollment, utcnow()) != enrollment.status:
        items.append(
            {
                "from": E.offered.value,
                "to": E.expired.value,
                "actor": SYSTEM_ACTOR,
                "at": enrollment.offer_expires_at,
                "reason": seats.EXPIRED_REASON,
            }
        )
    return EventList(items=[EventRead.model_validate(item) for item in items])


async def list_for_cohort(
    session: AsyncSession,
    actor: Actor,
    cohort_id: str,
    page: PageParams,
    *,
    status: EnrollmentStatus | None = None,
) -> tuple[list[EnrollmentRead], str | None]:
    """Staff of the centre and admin see all; a client sees only its own applicants'."""
    centre_id = await repository.cohort_centre(session, cohort_id)
    if centre_id is None:
        raise seats.cohort_not_found()
    seats.check_centre(actor, centre_id)
    stmt = repository.visible_rows(
        actor, cohort_id=cohort_id, status=status.value if status else None
    )
    rows, cursor = await paginate_rows(session, stmt, Enrollment.id, page)
    return await _to_reads(session, rows), cursor


async def list_for_applicant(
    session: AsyncSession,
    actor: Actor,
    applicant_id: str,
    page: PageParams,
    *,
    status: EnrollmentStatus | None = None,
) -> tuple[list[EnrollmentRead], str | None]:
    """A scoped staff key sees the applicant's enrollments in its centres only."""
    applicant = await get_readable(session, actor, applicant_id)
    stmt = repository.visible_rows(
        actor, applicant_id=applicant.id, status=status.value if status else None
    )
    rows, cursor = await paginate_rows(session, stmt, Enrollment.id, page)
    return await _to_reads(session, rows), cursor
