"""Enrollment rules: enrol, withdraw, drop, promote from the waitlist, and reads.

Every state change locks the cohort row first (``claim_place`` / ``lock_cohort``),
re-reads what it decides on, changes the rows and the cohort's counters, and
writes one event per status change, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.access import applicant_not_found, get_readable, may_read
from service.applicants.normalise import age_on
from service.cohorts import repository as cohorts_repo
from service.cohorts.repository import AnyRow, LockedCohort
from service.core.auth import Actor
from service.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.core.pagination import PageParams
from service.enrollments import repository
from service.enrollments.events import record_event
from service.enrollments.schemas import EnrollmentRead
from service.models import Cohort, Enrollment, EnrollmentEvent
from service.models.base import new_id, utcnow
from service.models.enums import CohortStatus, EnrollmentStatus, Role

PROMOTED_REASON = "promoted from waitlist"
ACTIVE_COHORT = (CohortStatus.open.value, CohortStatus.in_progress.value)

E = EnrollmentStatus


class AlreadyEnrolled(Conflict):
    title, slug = "Already enrolled", "already-enrolled"


class CohortNotOpen(Conflict):
    title, slug = "Cohort not open", "cohort-not-open"


class InvalidTransition(Conflict):
    title, slug = "Invalid status change", "invalid-transition"


def cohort_not_found() -> NotFound:
    return NotFound("No cohort with this id.")


def enrollment_not_found() -> NotFound:
    return NotFound("No enrollment with this id.")


def check_centre(actor: Actor, centre_id: str) -> None:
    """Staff act only on cohorts of the centres their key covers (cohorts are not secret: 403)."""
    if actor.role is Role.staff and not actor.covers_centre(centre_id):
        raise Forbidden("This key is not scoped to the cohort's centre.")


def to_read(row: AnyRow) -> EnrollmentRead:
    read = EnrollmentRead.model_validate(row.Enrollment)
    read.waitlist_position = row.waitlist_position
    read.certificate_code = row.certificate_code
    return read


async def read(session: AsyncSession, enrollment_id: str) -> EnrollmentRead:
    return to_read(await repository.read_row(session, enrollment_id))


# --- state changes ---------------------------------------------------------------


async def enroll(
    session: AsyncSession, actor: Actor, cohort_id: str, applicant_id: str
) -> EnrollmentRead:
    """Enrol while seats remain, else join the end of the waitlist."""
    # One unlocked read to refuse early; the unique index catches a racing twin.
    found = await repository.snapshot(session, cohort_id, applicant_id)
    if found is None or not await may_read(
        session, actor, found.applicant_id, found.created_by_key_id
    ):
        raise applicant_not_found()
    if found.cohort is None:
        raise cohort_not_found()
    if found.cohort.live_enrollment_id is not None:
        # Staff outside the cohort's centre get 403, not the id of an enrollment they may not see.
        check_centre(actor, found.cohort.centre_id)
        raise _already_enrolled(found.cohort.live_enrollment_id)
    _check_takes(actor, found.cohort, found.date_of_birth)
    if session.get_bind().dialect.name == "postgresql":
        done = await _enroll_in_one_statement(session, actor, found, found.cohort)
        if done is not None:
            return done

    # Decide under the cohort's lock: SQLite, or the cohort changed since the read.
    cohort = await repository.claim_place(session, cohort_id)
    if cohort is None:
        raise cohort_not_found()
    _check_takes(actor, cohort, found.date_of_birth)

    waitlisted = cohort.waitlist_length > 0
    status = E.waitlisted if waitlisted else E.enrolled
    enrollment = Enrollment(
        id=new_id(),  # known before the flush, for the event row
        cohort_id=cohort.id,
        applicant_id=found.applicant_id,
        status=status.value,
        queue_no=cohort.queue_seq,
        created_by_key_id=actor.key_id,
    )
    session.add(enrollment)
    record_event(session, enrollment, from_status=None, to_status=status.value, actor=actor.name)
    try:
        await session.flush()
    except IntegrityError as exc:
        if repository.is_live_duplicate(exc):
            raise _already_enrolled(None) from None
        raise
    read = EnrollmentRead.model_validate(enrollment)
    # Appended under the lock with the highest queue number: last in line.
    read.waitlist_position = cohort.waitlist_length if waitlisted else None
    return read


def _check_takes(
    actor: Actor, cohort: LockedCohort | repository.CohortSnapshot, born: date
) -> None:
    """The cohort takes this enrollment: the actor's centre scope, open, the age limits."""
    check_centre(actor, cohort.centre_id)
    if cohort.status != CohortStatus.open:
        raise CohortNotOpen(f"The cohort is {cohort.status}; only open cohorts take enrollments.")
    _check_age(born, cohort)


async def _enroll_in_one_statement(
    session: AsyncSession,
    actor: Actor,
    found: repository.EnrollSnapshot,
    cohort: repository.CohortSnapshot,
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
        row = await repository.enroll_in_one_statement(
            session,
            cohort,
            enrollment_id=new_id(),
            applicant_id=found.applicant_id,
            key_id=actor.key_id,
            actor_name=actor.name,
            at=utcnow(),
        )
    except IntegrityError as exc:
        if repository.is_live_duplicate(exc):
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
        "The applicant already has a live (enrolled or waitlisted) enrollment in this cohort.",
        extra={"existing_id": existing_id} if existing_id else None,
    )


def _check_age(born: date, cohort: LockedCohort | repository.CohortSnapshot) -> None:
    age = age_on(born, cohort.start_date)
    if not cohort.min_age <= age <= cohort.max_age:
        raise ValidationFailed(
            {
                "applicant_id": (
                    f"The applicant is {age} on the cohort's start date "
                    f"({cohort.start_date.isoformat()}); this cohort takes ages "
                    f"{cohort.min_age} to {cohort.max_age}."
                )
            },
            detail="The applicant is outside the cohort's age range.",
        )


async def withdraw(
    session: AsyncSession, actor: Actor, enrollment_id: str, *, reason: str | None = None
) -> EnrollmentRead:
    """enrolled|waitlisted → withdrawn; a freed seat goes to the waitlist's head."""
    return await _leave(
        session, actor, enrollment_id, E.withdrawn, (E.enrolled, E.waitlisted), reason
    )


async def drop(
    session: AsyncSession, actor: Actor, enrollment_id: str, *, reason: str | None = None
) -> EnrollmentRead:
    """enrolled → dropped (staff, admin); the freed seat goes to the waitlist's head."""
    return await _leave(session, actor, enrollment_id, E.dropped, (E.enrolled,), reason)


async def _leave(
    session: AsyncSession,
    actor: Actor,
    enrollment_id: str,
    to: EnrollmentStatus,
    allowed_from: tuple[EnrollmentStatus, ...],
    reason: str | None,
) -> EnrollmentRead:
    found = await repository.visible_enrollment(session, actor, enrollment_id)
    if found is None:
        raise enrollment_not_found()
    cohort = await cohorts_repo.lock_cohort(session, found.cohort_id)
    assert cohort is not None  # noqa: S101 - cohorts are never deleted
    enrollment = await repository.reload(session, enrollment_id)
    before = enrollment.status
    if before not in allowed_from:
        verb = "withdrawn" if to is E.withdrawn else "dropped"
        allowed = " or ".join(s.value for s in allowed_from)
        raise InvalidTransition(
            f"An enrollment that is {before} cannot be {verb}; it must be {allowed}."
        )
    enrollment.status = to.value
    record_event(
        session, enrollment, from_status=before, to_status=to.value, actor=actor.name, reason=reason
    )
    if before == E.enrolled:
        cohort.seats_taken -= 1
    else:
        cohort.waitlist_length -= 1
    await promote_waitlisted(session, cohort, actor=actor.name)
    await cohorts_repo.save_counters(session, cohort)
    return await read(session, enrollment_id)


async def promote_waitlisted(
    session: AsyncSession, cohort: LockedCohort, *, actor: str, reason: str = PROMOTED_REASON
) -> int:
    """Fill free seats of a locked open/in-progress cohort from the waitlist, FIFO.

    Updates ``cohort``'s counters in memory; the caller saves them.
    """
    if cohort.status not in ACTIVE_COHORT:
        return 0
    free = min(cohort.capacity - cohort.seats_taken, cohort.waitlist_length)
    if free <= 0:
        return 0
    promoted = await repository.waitlist_head(session, cohort.id, free)
    for enrollment in promoted:
        enrollment.status = E.enrolled.value
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


async def cancel_enrollments(
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
        enrollment.status = E.cancelled.value
        record_event(
            session,
            enrollment,
            from_status=before,
            to_status=E.cancelled.value,
            actor=actor,
            reason=reason,
        )
    await cohorts_repo.recount(session, cohort)


# --- reads -----------------------------------------------------------------------


async def get(session: AsyncSession, actor: Actor, enrollment_id: str) -> EnrollmentRead:
    rows = repository.visible_read_rows(actor).where(Enrollment.id == enrollment_id)
    row = (await session.execute(rows)).first()
    if row is None:
        raise enrollment_not_found()
    return to_read(row)


async def events(
    session: AsyncSession, actor: Actor, enrollment_id: str
) -> Sequence[EnrollmentEvent]:
    if await repository.visible_enrollment(session, actor, enrollment_id) is None:
        raise enrollment_not_found()
    return await repository.events(session, enrollment_id)


async def list_for_cohort(
    session: AsyncSession,
    actor: Actor,
    cohort_id: str,
    page: PageParams,
    *,
    status: EnrollmentStatus | None = None,
) -> tuple[list[EnrollmentRead], str | None]:
    """Staff of the centre and admin see all; a client sees only its own applicants'."""
    cohort = await session.get(Cohort, cohort_id)
    if cohort is None:
        raise cohort_not_found()
    check_centre(actor, cohort.centre_id)
    stmt = repository.visible_read_rows(actor).where(Enrollment.cohort_id == cohort_id)
    stmt = repository.with_status(stmt, status.value if status else None)
    rows, cursor = await cohorts_repo.paginate_rows(session, stmt, Enrollment.id, page)
    return [to_read(r) for r in rows], cursor


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
    stmt = repository.visible_read_rows(actor).where(Enrollment.applicant_id == applicant.id)
    stmt = repository.with_status(stmt, status.value if status else None)
    rows, cursor = await cohorts_repo.paginate_rows(session, stmt, Enrollment.id, page)
    return [to_read(r) for r in rows], cursor
