"""SQL for enrollments: the enrollment hot path, reads with waitlist position and certificate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.cohorts.repository import (
    LOCKED_COLUMNS,
    AnyRow,
    AnySelect,
    LockedCohort,
    locked_from_row,
)
from service.core.auth import Actor
from service.models import Applicant, Certificate, Cohort, Enrollment, EnrollmentEvent
from service.models.enums import LIVE_STATUSES, CohortStatus, EnrollmentStatus, Role

WAITLISTED = EnrollmentStatus.waitlisted.value


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


async def live_enrollment_id(
    session: AsyncSession, cohort_id: str, applicant_id: str
) -> str | None:
    return await session.scalar(
        select(Enrollment.id).where(
            Enrollment.cohort_id == cohort_id,
            Enrollment.applicant_id == applicant_id,
            Enrollment.status.in_(LIVE_STATUSES),
        )
    )


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
        return Applicant.created_by_key_id == actor.key_id
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
