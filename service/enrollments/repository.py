"""SQL for enrollments: reads with their certificate code, scoped to the actor, and events.

The waitlist position is not read here: ``service.seats`` computes it for a
whole page in one statement. The enrollment hot path is ``enroll_repository``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.scope import enrollments_visible_to
from service.core.sql import AnyRow, AnySelect
from service.models import Applicant, Certificate, Cohort, Enrollment, EnrollmentEvent
from service.models.base import utcnow
from service.models.enums import EnrollmentStatus
from service.seats.repository import offer_due


def _visible(stmt: AnySelect, actor: Actor) -> AnySelect:
    return (
        stmt.join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(enrollments_visible_to(actor))
    )


async def visible_enrollment(
    session: AsyncSession, actor: Actor, enrollment_id: str
) -> Enrollment | None:
    """The enrollment, freshly read, if ``actor`` may see it."""
    return await session.scalar(
        select(Enrollment)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(Enrollment.id == enrollment_id, enrollments_visible_to(actor))
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


def read_rows() -> AnySelect:
    """Enrollments with their certificate code (for ``EnrollmentRead``)."""
    return select(Enrollment, Certificate.code.label("certificate_code")).outerjoin(
        Certificate, Certificate.enrollment_id == Enrollment.id
    )


async def read_row(session: AsyncSession, enrollment_id: str) -> AnyRow:
    await session.flush()
    stmt = (
        read_rows().where(Enrollment.id == enrollment_id).execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).one()


async def visible_row(session: AsyncSession, actor: Actor, enrollment_id: str) -> AnyRow | None:
    stmt = _visible(read_rows(), actor).where(Enrollment.id == enrollment_id)
    return (await session.execute(stmt)).first()


def visible_rows(
    actor: Actor,
    *,
    cohort_id: str | None = None,
    applicant_id: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> AnySelect:
    """The enrollments ``actor`` may see, of one cohort or applicant, optionally of one status."""
    stmt = _visible(read_rows(), actor)
    if cohort_id is not None:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    if applicant_id is not None:
        stmt = stmt.where(Enrollment.applicant_id == applicant_id)
    if status is not None:
        stmt = stmt.where(status_is(status, now or utcnow()))
    return stmt


def status_is(status: str, now: datetime) -> ColumnElement[bool]:
    """Enrollments whose status reads as ``status`` at ``now``: an offer due at ``now``
    reads as ``expired``, not ``offered`` (the expiry rule)."""
    if status == EnrollmentStatus.offered:
        return and_(Enrollment.status == status, Enrollment.offer_expires_at > now)
    if status == EnrollmentStatus.expired:
        return or_(Enrollment.status == status, offer_due(now))
    return Enrollment.status == status


async def cohort_centre(session: AsyncSession, cohort_id: str) -> str | None:
    """The centre of a cohort; None when there is no such cohort."""
    return await session.scalar(select(Cohort.centre_id).where(Cohort.id == cohort_id))


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
