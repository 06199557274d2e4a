"""SQL of the enrollment hot path: the one unlocked read, and on PostgreSQL the
one-statement claim that locks the cohort, takes a place and inserts the
enrollment and its event (its seat rule is ``service.seats.repository.seat_free``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    String,
    Table,
    and_,
    bindparam,
    case,
    insert,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.core.db import execute_standalone
from service.core.sql import AnyRow, AnySelect
from service.models import Applicant, Cohort, Enrollment, EnrollmentEvent
from service.models.enums import LIVE_STATUSES, CohortStatus, EnrollmentStatus
from service.seats.repository import claim_decidable, seat_free

WAITLISTED = EnrollmentStatus.waitlisted.value
ENROLLED = EnrollmentStatus.enrolled.value
OFFERED = EnrollmentStatus.offered.value
NOW = bindparam("p_now", type_=Enrollment.offer_expires_at.type)


@dataclass(frozen=True, slots=True)
class CohortSnapshot:
    """A cohort's rules as read before any lock, and the applicant's live enrollment in it."""

    id: str
    centre_id: str
    status: str
    start_date: date
    min_age: int
    max_age: int
    live_enrollment_id: str | None
    # Reserved-seat pools of the cohort (0: the one statement may decide).
    pool_count: int = 0
    # The applicant's offer in the cohort that is expired at now but not yet
    # materialised: it must be before a new enrollment of theirs is inserted.
    due_offer_id: str | None = None


@dataclass(frozen=True, slots=True)
class EnrollSnapshot:
    """What an enrollment is decided on, read in one query before any lock."""

    applicant_id: str
    date_of_birth: date
    created_by_key_id: str | None
    cohort: CohortSnapshot | None
    # Gender, province and district: what reserved-seat pools match on.
    place: tuple[str, str, str] = ("", "", "")


def _snapshot_statement() -> AnySelect:
    live = aliased(Enrollment)
    due = aliased(Enrollment)
    return (
        select(
            Applicant.id.label("applicant_id"),
            Applicant.date_of_birth,
            Applicant.created_by_key_id,
            Applicant.gender,
            Applicant.province,
            Applicant.district,
            Cohort.id,
            Cohort.centre_id,
            Cohort.status,
            Cohort.start_date,
            Cohort.min_age,
            Cohort.max_age,
            Cohort.pool_count,
            live.id.label("live_enrollment_id"),
            due.id.label("due_offer_id"),
        )
        .select_from(Applicant)
        .outerjoin(Cohort, Cohort.id == bindparam("p_cohort_id"))
        .outerjoin(
            live,
            and_(
                live.cohort_id == Cohort.id,
                live.applicant_id == Applicant.id,
                live.status.in_(LIVE_STATUSES),
                # An offer expired at now is no longer live, whatever is stored.
                or_(live.status != OFFERED, live.offer_expires_at > NOW),
            ),
        )
        .outerjoin(
            due,
            and_(
                due.cohort_id == Cohort.id,
                due.applicant_id == Applicant.id,
                due.status == OFFERED,
                due.offer_expires_at <= NOW,
            ),
        )
        .where(Applicant.id == bindparam("p_applicant_id"))
        .limit(1)
    )


def _enroll_statement() -> AnySelect:
    """PostgreSQL: claim the place, insert the enrollment and its event, in one statement."""
    is_open = Cohort.status == CohortStatus.open.value
    free = seat_free()
    claimed = (
        update(Cohort)
        .where(
            Cohort.id == bindparam("p_cohort_id"),
            is_open,
            Cohort.centre_id == bindparam("p_centre_id"),
            Cohort.start_date == bindparam("p_start_date"),
            Cohort.min_age == bindparam("p_min_age"),
            Cohort.max_age == bindparam("p_max_age"),
            Cohort.pool_count == 0,
            claim_decidable(NOW),
        )
        .values(
            queue_seq=Cohort.queue_seq + 1,
            seats_taken=Cohort.seats_taken + case((free, 1), else_=0),
            waitlist_length=Cohort.waitlist_length + case((free, 0), else_=1),
            updated_at=bindparam("p_at", type_=Cohort.updated_at.type),
        )
        .returning(Cohort.id, Cohort.queue_seq, Cohort.waitlist_length)
        .cte("claimed")
    )
    enrollments: Table = Enrollment.__table__  # type: ignore[assignment]
    events: Table = EnrollmentEvent.__table__  # type: ignore[assignment]
    stamp = Enrollment.created_at.type
    new = (
        insert(enrollments)
        .from_select(
            [
                "id",
                "cohort_id",
                "applicant_id",
                "status",
                "queue_no",
                "created_by_key_id",
                "created_at",
                "updated_at",
            ],
            select(
                bindparam("p_enrollment_id", type_=String),
                claimed.c.id,
                bindparam("p_applicant_id", type_=String),
                case((claimed.c.waitlist_length > 0, WAITLISTED), else_=ENROLLED),
                claimed.c.queue_seq,
                bindparam("p_key_id", type_=String),
                bindparam("p_at", type_=stamp),
                bindparam("p_at", type_=stamp),
            ),
            include_defaults=False,
        )
        .returning(*enrollments.c)
        .cte("new")
    )
    event = (
        insert(events)
        .from_select(
            ["enrollment_id", "from_status", "to_status", "actor", "at"],
            select(
                new.c.id,
                null(),
                new.c.status,
                bindparam("p_actor_name", type_=String),
                bindparam("p_at", type_=stamp),
            ),
            include_defaults=False,
        )
        .cte("event")
    )
    return (
        select(new, claimed.c.waitlist_length.label("cohort_waitlist_length"))
        .select_from(new.join(claimed, true()))
        .add_cte(event)
    )


# Built once: constructing these per request cost more CPU than running them.
_SNAPSHOT = _snapshot_statement()
_ENROLL = _enroll_statement()


async def snapshot(
    session: AsyncSession, cohort_id: str, applicant_id: str, now: datetime
) -> EnrollSnapshot | None:
    """One read: the applicant, the cohort's rules and any live enrollment of the one in
    the other. None when there is no such applicant."""
    params = {"p_cohort_id": cohort_id, "p_applicant_id": applicant_id, "p_now": now}
    row = (await execute_standalone(session, _SNAPSHOT, params)).first()
    if row is None:
        return None
    cohort = None
    if row.id is not None:
        cohort = CohortSnapshot(
            id=row.id,
            centre_id=row.centre_id,
            status=row.status,
            start_date=row.start_date,
            min_age=row.min_age,
            max_age=row.max_age,
            live_enrollment_id=row.live_enrollment_id,
            pool_count=row.pool_count,
            due_offer_id=row.due_offer_id,
        )
    place = (str(row.gender), str(row.province), str(row.district))
    return EnrollSnapshot(row.applicant_id, row.date_of_birth, row.created_by_key_id, cohort, place)


async def enroll_in_one_statement(
    session: AsyncSession,
    cohort: CohortSnapshot,
    *,
    enrollment_id: str,
    applicant_id: str,
    key_id: str,
    actor_name: str,
    at: datetime,
) -> AnyRow | None:
    """PostgreSQL: claim the place, insert the enrollment and its event in ONE statement.

    Unless the request already holds a transaction (an Idempotency-Key record),
    the statement commits by itself, so the cohort's row lock is held for its
    execution only: not across round trips, and not until the request's unit of
    work commits after the response is built. That hold is what bounds a hot
    cohort's rate.
    The UPDATE matches only while the cohort still has the rules the caller
    checked (open, same centre, start date and age limits, no reserved-seat
    pools) and its counters
    decide the claim (``claim_decidable``: no due offer matters); None
    otherwise, and the caller decides again under the lock.
    """
    params = {
        "p_cohort_id": cohort.id,
        "p_centre_id": cohort.centre_id,
        "p_start_date": cohort.start_date,
        "p_min_age": cohort.min_age,
        "p_max_age": cohort.max_age,
        "p_enrollment_id": enrollment_id,
        "p_applicant_id": applicant_id,
        "p_key_id": key_id,
        "p_actor_name": actor_name,
        "p_at": at,
        "p_now": at,
    }
    return (await execute_standalone(session, _ENROLL, params)).first()


def is_live_duplicate(exc: Exception) -> bool:
    """Whether an IntegrityError comes from the one-live-enrollment unique index."""
    text = str(getattr(exc, "orig", exc))
    return "uq_enrollments_live_applicant" in text or (
        "enrollments.cohort_id, enrollments.applicant_id" in text
    )
