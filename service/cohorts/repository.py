"""SQL for cohorts: reads with their programme and centre codes, and field changes.

The cohort row lock, the counters and the waitlist are ``service.seats``'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.sql import AnyRow, AnySelect
from service.models import Centre, Cohort, Programme
from service.models.base import utcnow
from service.seats.repository import due_count


async def set_fields(session: AsyncSession, cohort_id: str, values: dict[str, Any]) -> None:
    await session.execute(
        update(Cohort)
        .where(Cohort.id == cohort_id)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def cohort_rows(now: datetime | None = None) -> AnySelect:
    """Cohorts with their programme and centre codes, and ``due_offers``: offers expired
    at ``now`` that the stored counters still count (every read subtracts them)."""
    return (
        select(
            Cohort,
            Programme.code.label("programme_code"),
            Centre.code.label("centre_code"),
            due_count(now or utcnow()).label("due_offers"),
        )
        .join(Programme, Programme.id == Cohort.programme_id)
        .join(Centre, Centre.id == Cohort.centre_id)
    )


def filtered_rows(
    *, programme: str | None = None, centre: str | None = None, status: str | None = None
) -> AnySelect:
    """``cohort_rows`` of one programme, centre and status (by code), each optional."""
    stmt = cohort_rows().execution_options(populate_existing=True)
    if programme is not None:
        stmt = stmt.where(Programme.code == programme)
    if centre is not None:
        stmt = stmt.where(Centre.code == centre)
    if status is not None:
        stmt = stmt.where(Cohort.status == status)
    return stmt


async def cohort_row(session: AsyncSession, cohort_id: str) -> AnyRow | None:
    stmt = cohort_rows().where(Cohort.id == cohort_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).first()


async def code_taken(session: AsyncSession, code: str) -> bool:
    return await session.scalar(select(Cohort.id).where(Cohort.code == code)) is not None
