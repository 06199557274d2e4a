"""SQL of reserved-seat pools: a locked cohort's pools, its waitlist with the applicants'
current attributes, and the reads' per-pool view (``service.seats.pools`` has the rules).

Pools are read and changed only under their cohort's lock (``repository``), so
their ``taken`` counters move with the cohort's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Applicant, Cohort, CohortPool, Enrollment
from service.models.enums import SEAT_HOLDING_STATUSES, CohortStatus, EnrollmentStatus
from service.seats.repository import offer_due

WAITLISTED = EnrollmentStatus.waitlisted.value
ACTIVE = (CohortStatus.open.value, CohortStatus.in_progress.value)


async def pools_of(session: AsyncSession, cohort_id: str) -> list[CohortPool]:
    """The cohort's pools in ``reserved`` order, as stored now (pending changes flushed)."""
    await session.flush()
    rows = await session.scalars(
        select(CohortPool)
        .where(CohortPool.cohort_id == cohort_id)
        .order_by(CohortPool.position)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def pools_of_many(session: AsyncSession, cohort_ids: Sequence[str]) -> list[CohortPool]:
    """Pools of several cohorts (reads), in cohort and ``reserved`` order."""
    if not cohort_ids:
        return []
    rows = await session.scalars(
        select(CohortPool)
        .where(CohortPool.cohort_id.in_(cohort_ids))
        .order_by(CohortPool.cohort_id, CohortPool.position)
    )
    return list(rows)


async def due_offers_by_pool(
    session: AsyncSession, cohort_ids: Sequence[str], now: datetime
) -> dict[tuple[str, str], int]:
    """(cohort id, pool code) → offers expired at ``now`` still counted in ``taken``."""
    if not cohort_ids:
        return {}
    rows = await session.execute(
        select(Enrollment.cohort_id, Enrollment.pool, func.count())
        .where(Enrollment.cohort_id.in_(cohort_ids), Enrollment.pool.is_not(None), offer_due(now))
        .group_by(Enrollment.cohort_id, Enrollment.pool)
    )
    return {(c, p): n for c, p, n in rows if p is not None}


async def waitlist_after(
    session: AsyncSession,
    cohort_id: str,
    after_queue_no: int,
    limit: int,
    only: ColumnElement[bool] | None,
) -> Sequence[Any]:
    """Waitlisted enrollments after ``after_queue_no`` in line, with their applicants'
    current gender, province and district; ``only``: a condition on the applicant."""
    stmt = (
        select(Enrollment, Applicant.gender, Applicant.province, Applicant.district)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(
            Enrollment.cohort_id == cohort_id,
            Enrollment.status == WAITLISTED,
            Enrollment.queue_no > after_queue_no,
        )
        .order_by(Enrollment.queue_no)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if only is not None:
        stmt = stmt.where(only)
    return (await session.execute(stmt)).all()


def applicant_matches(
    gender: Sequence[str], province: Sequence[str], district: Sequence[str]
) -> ColumnElement[bool]:
    """A pool rule as a condition on ``Applicant`` (an absent key matches anyone)."""
    parts: list[ColumnElement[bool]] = []
    if gender:
        parts.append(Applicant.gender.in_(gender))
    if province:
        parts.append(Applicant.province.in_(province))
    if district:
        parts.append(Applicant.district.in_(district))
    return and_(*parts) if parts else true()


async def recount_taken(session: AsyncSession, cohort_id: str) -> None:
    """Set the cohort's pools' ``taken`` from its seat-holding enrollment rows."""
    await session.flush()
    held = (
        select(func.count())
        .select_from(Enrollment)
        .where(
            Enrollment.cohort_id == CohortPool.cohort_id,
            Enrollment.pool == CohortPool.code,
            Enrollment.status.in_(SEAT_HOLDING_STATUSES),
        )
        .scalar_subquery()
    )
    await session.execute(
        update(CohortPool)
        .where(CohortPool.cohort_id == cohort_id)
        .values(taken=held)
        .execution_options(synchronize_session=False)
    )


async def delete_pools(session: AsyncSession, pool_ids: Sequence[str]) -> None:
    if pool_ids:
        await session.execute(
            delete(CohortPool)
            .where(CohortPool.id.in_(pool_ids))
            .execution_options(synchronize_session=False)
        )


async def set_pool_count(session: AsyncSession, cohort_id: str, count: int) -> None:
    await session.execute(
        update(Cohort)
        .where(Cohort.id == cohort_id)
        .values(pool_count=count)
        .execution_options(synchronize_session=False)
    )


async def cohorts_with_due_releases(session: AsyncSession, today: date, limit: int) -> list[str]:
    """Open or in-progress cohorts with a pool whose release is due by ``today`` (UTC date)
    and not yet materialised."""
    rows = await session.scalars(
        select(CohortPool.cohort_id)
        .join(Cohort, Cohort.id == CohortPool.cohort_id)
        .where(
            CohortPool.released_at.is_(None),
            Cohort.status.in_(ACTIVE),
            or_(
                Cohort.status != CohortStatus.open.value,
                Cohort.start_date <= today,
                CohortPool.release_on <= today,
            ),
        )
        .limit(limit)
    )
    return list(dict.fromkeys(rows))
