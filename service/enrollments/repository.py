"""SQL for enrollments: the enrollment hot path, reads with waitlist position and certificate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    insert,
    null,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.applicants.access import readable_by
from service.cohorts.repository import (
    LOCKED_COLUMNS,
    AnyRow,
    AnySelect,
    LockedCohort,
    locked_from_row,
)
from service.core.auth import Actor
from service.core.db import execute_standalone
from service.models import Applicant, Certificate, Cohort, Enrollment, EnrollmentEvent
from service.models.enums import LIVE_STATUSES, CohortStatus, EnrollmentStatus, Role

WAITLISTED = EnrollmentStatus.waitlisted.value
ENROLLED = EnrollmentStatus.enrolled.value


async def claim_place(session: AsyncSession, cohort_id: str) -> LockedCohort | None:
    """Lock the cohort and take the next place in one statement.

    Hands out the next ``queue_seq`` and, when the cohort is open, counts the
    new request as a seat (while seats remain and nobody waits) or as the last
    place on the waitlist. The caller reads the decision back: the request is
    waitlisted exactly when the returned ``waitlist_length`` is above zero.
    When the caller then refuses the request, its rollback undoes all of it.
    """
    is_open = Cohort.status == CohortStatus.open.value
    seat_free = and_(Cohort.seats_taken < Cohort.capacity, Cohort.waitlist_length == 0)
    row = (
        await session.execute(
            update(Cohort)
            .where(Cohort.id == cohort_id)
            .values(
                queue_seq=Cohort.queue_seq + 1,
                seats_taken=Cohort.seats_taken + case((and_(is_open, seat_free), 1), else_=0),
                waitlist_length=Cohort.waitlist_length
                + case((and_(is_open, ~seat_free), 1), else_=0),
            )
            .returning(*LOCKED_COLUMNS)
            .execution_options(synchronize_session=False)
        )
    ).first()
    return None if row is None else locked_from_row(row)


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


@dataclass(frozen=True, slots=True)
class EnrollSnapshot:
    """What an enrollment is decided on, read in one query before any lock."""

    applicant_id: str
    date_of_birth: date
    created_by_key_id: str | None
    cohort: CohortSnapshot | None


def _snapshot_statement() -> AnySelect:
    live = aliased(Enrollment)
    return (
        select(
            Applicant.id.label("applicant_id"),
            Applicant.date_of_birth,
            Applicant.created_by_key_id,
            Cohort.id,
            Cohort.centre_id,
            Cohort.status,
            Cohort.start_date,
            Cohort.min_age,
            Cohort.max_age,
            live.id.label("live_enrollment_id"),
        )
        .select_from(Applicant)
        .outerjoin(Cohort, Cohort.id == bindparam("p_cohort_id"))
        .outerjoin(
            live,
            and_(
                live.cohort_id == Cohort.id,
                live.applicant_id == Applicant.id,
                live.status.in_(LIVE_STATUSES),
            ),
        )
        .where(Applicant.id == bindparam("p_applicant_id"))
        .limit(1)
    )


def _enroll_statement() -> AnySelect:
    """PostgreSQL: claim the place, insert the enrollment and its event, in one statement."""
    is_open = Cohort.status == CohortStatus.open.value
    seat_free = and_(Cohort.seats_taken < Cohort.capacity, Cohort.waitlist_length == 0)
    claimed = (
        update(Cohort)
        .where(
            Cohort.id == bindparam("p_cohort_id"),
            is_open,
            Cohort.centre_id == bindparam("p_centre_id"),
            Cohort.start_date == bindparam("p_start_date"),
            Cohort.min_age == bindparam("p_min_age"),
            Cohort.max_age == bindparam("p_max_age"),
        )
        .values(
            queue_seq=Cohort.queue_seq + 1,
            seats_taken=Cohort.seats_taken + case((seat_free, 1), else_=0),
            waitlist_length=Cohort.waitlist_length + case((seat_free, 0), else_=1),
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
    session: AsyncSession, cohort_id: str, applicant_id: str
) -> EnrollSnapshot | None:
    """One read: the applicant, the cohort's rules and any live enrollment of the one in
    the other. None when there is no such applicant."""
    params = {"p_cohort_id": cohort_id, "p_applicant_id": applicant_id}
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
        )
    return EnrollSnapshot(row.applicant_id, row.date_of_birth, row.created_by_key_id, cohort)


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
    checked (open, same centre, start date and age limits); None when it has
    changed meanwhile, and the caller decides again under the lock.
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
    }
    return (await execute_standalone(session, _ENROLL, params)).first()


def is_live_duplicate(exc: Exception) -> bool:
    """Whether an IntegrityError comes from the one-live-enrollment unique index."""
    text = str(getattr(exc, "orig", exc))
    return "uq_enrollments_live_applicant" in text or (
        "enrollments.cohort_id, enrollments.applicant_id" in text
    )


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """Which enrollments ``actor`` may see (needs Cohort and Applicant joined)."""
    if actor.role is Role.admin:
        return true()
    if actor.role is Role.staff:
        if actor.centre_ids is None:
            return true()
        return Cohort.centre_id.in_(actor.centre_ids)
    if actor.role is Role.client:
        return readable_by(actor)  # the applicants it registered or is linked to
    return false()


async def visible_enrollment(
    session: AsyncSession, actor: Actor, enrollment_id: str
) -> Enrollment | None:
    """The enrollment, freshly read, if ``actor`` may see it."""
    return await session.scalar(
        select(Enrollment)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(Enrollment.id == enrollment_id, visible_to(actor))
        .execution_options(populate_existing=True)
    )


async def reload(session: AsyncSession, enrollment_id: str) -> Enrollment:
    """Read again under the cohort lock: the state every decision is taken on."""
    found = await session.scalar(
        select(Enrollment)
        .where(Enrollment.id == enrollment_id)
        .execution_options(populate_existing=True)
    )
    assert found is not None  # noqa: S101 - enrollments are never deleted
    return found


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


async def in_statuses(
    session: AsyncSession, cohort_id: str, statuses: Sequence[str]
) -> Sequence[Enrollment]:
    return (
        await session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort_id, Enrollment.status.in_(statuses))
            .order_by(Enrollment.queue_no)
            .execution_options(populate_existing=True)
        )
    ).all()


def _position() -> ColumnElement[Any]:
    """1-based rank among the cohort's waitlisted by request order; null when not waitlisted."""
    other = aliased(Enrollment)
    rank = (
        select(func.count())
        .select_from(other)
        .where(
            other.cohort_id == Enrollment.cohort_id,
            other.status == WAITLISTED,
            other.queue_no <= Enrollment.queue_no,
        )
        .correlate(Enrollment)
        .scalar_subquery()
    )
    return case((Enrollment.status == WAITLISTED, rank), else_=None)


def read_rows() -> AnySelect:
    """Enrollments with their waitlist position and certificate code (for ``EnrollmentRead``)."""
    return select(
        Enrollment,
        _position().label("waitlist_position"),
        Certificate.code.label("certificate_code"),
    ).outerjoin(Certificate, Certificate.enrollment_id == Enrollment.id)


async def read_row(session: AsyncSession, enrollment_id: str) -> AnyRow:
    await session.flush()
    stmt = (
        read_rows().where(Enrollment.id == enrollment_id).execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).one()


def visible_read_rows(actor: Actor) -> AnySelect:
    return (
        read_rows()
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(visible_to(actor))
    )


def with_status(stmt: AnySelect, status: str | None) -> AnySelect:
    return stmt if status is None else stmt.where(Enrollment.status == status)


async def events(session: AsyncSession, enrollment_id: str) -> Sequence[EnrollmentEvent]:
    return (
        await session.scalars(
            select(EnrollmentEvent)
            .where(EnrollmentEvent.enrollment_id == enrollment_id)
            .order_by(EnrollmentEvent.id)
        )
    ).all()


async def status_counts(session: AsyncSession, cohort_id: str) -> dict[str, int]:
    """Rows per status in a cohort (for checks and tests), counted by the database."""
    rows = await session.execute(
        select(Enrollment.status, func.count())
        .where(Enrollment.cohort_id == cohort_id)
        .group_by(Enrollment.status)
    )
    return {status: int(n) for status, n in rows}
