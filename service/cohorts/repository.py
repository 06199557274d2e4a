"""SQL for cohorts: reads with their programme and centre codes, and the cohort row lock.

Every transaction that changes a cohort's enrollments starts with ``lock_cohort``
(or the enrollment hot path's ``claim_place``, which is the same lock): an
``UPDATE ... RETURNING`` on the cohort row. On PostgreSQL the row lock is held
until commit, so all changes to one cohort's seats and waitlist are serialised
and always taken in the same order (cohort row first); SQLite serialises every
writer anyway (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from service.core.pagination import PageParams, decode_cursor, encode_cursor
from service.models import Centre, Cohort, Enrollment, Programme
from service.models.base import utcnow
from service.models.enums import SEAT_HOLDING_STATUSES, EnrollmentStatus

# Rows and selects of several columns (SQLAlchemy 2.1 types them by column).
AnyRow = Row[*tuple[Any, ...]]
AnySelect = Select[*tuple[Any, ...]]


@dataclass(slots=True)
class LockedCohort:
    """The cohort's row as read under its lock; counters are written back by ``save_counters``."""

    id: str
    centre_id: str
    status: str
    capacity: int
    seats_taken: int
    waitlist_length: int
    queue_seq: int
    start_date: date
    min_age: int
    max_age: int


LOCKED_COLUMNS = (
    Cohort.id,
    Cohort.centre_id,
    Cohort.status,
    Cohort.capacity,
    Cohort.seats_taken,
    Cohort.waitlist_length,
    Cohort.queue_seq,
    Cohort.start_date,
    Cohort.min_age,
    Cohort.max_age,
)


def locked_from_row(row: AnyRow) -> LockedCohort:
    return LockedCohort(**row._asdict())


async def lock_cohort(session: AsyncSession, cohort_id: str) -> LockedCohort | None:
    """Lock the cohort row until commit and read its state; None when there is no such cohort."""
    row = (
        await session.execute(
            update(Cohort)
            .where(Cohort.id == cohort_id)
            .values(queue_seq=Cohort.queue_seq)
            .returning(*LOCKED_COLUMNS)
            .execution_options(synchronize_session=False)
        )
    ).first()
    return None if row is None else locked_from_row(row)


async def save_counters(session: AsyncSession, cohort: LockedCohort) -> None:
    """Write back the counters of a cohort locked by this transaction."""
    await session.execute(
        update(Cohort)
        .where(Cohort.id == cohort.id)
        .values(seats_taken=cohort.seats_taken, waitlist_length=cohort.waitlist_length)
        .execution_options(synchronize_session=False)
    )


async def recount(session: AsyncSession, cohort: LockedCohort) -> None:
    """Set the locked cohort's counters from its enrollment rows (set-based, in SQL)."""
    await session.flush()

    def count(*statuses: str) -> Any:
        return (
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.cohort_id == cohort.id, Enrollment.status.in_(statuses))
            .scalar_subquery()
        )

    row = (
        await session.execute(
            update(Cohort)
            .where(Cohort.id == cohort.id)
            .values(
                seats_taken=count(*SEAT_HOLDING_STATUSES),
                waitlist_length=count(EnrollmentStatus.waitlisted),
            )
            .returning(Cohort.seats_taken, Cohort.waitlist_length)
            .execution_options(synchronize_session=False)
        )
    ).one()
    cohort.seats_taken, cohort.waitlist_length = row.seats_taken, row.waitlist_length


async def set_fields(session: AsyncSession, cohort_id: str, values: dict[str, Any]) -> None:
    await session.execute(
        update(Cohort)
        .where(Cohort.id == cohort_id)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def cohort_rows() -> AnySelect:
    """Cohorts with their programme and centre codes."""
    return (
        select(Cohort, Programme.code.label("programme_code"), Centre.code.label("centre_code"))
        .join(Programme, Programme.id == Cohort.programme_id)
        .join(Centre, Centre.id == Cohort.centre_id)
    )


async def cohort_row(session: AsyncSession, cohort_id: str) -> AnyRow | None:
    stmt = cohort_rows().where(Cohort.id == cohort_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).first()


async def code_taken(session: AsyncSession, code: str) -> bool:
    return await session.scalar(select(Cohort.id).where(Cohort.code == code)) is not None


async def paginate_rows(
    session: AsyncSession,
    stmt: AnySelect,
    key: InstrumentedAttribute[str],
    params: PageParams,
) -> tuple[Sequence[AnyRow], str | None]:
    """Like ``core.pagination.paginate`` for statements selecting several columns."""
    if params.cursor is not None:
        stmt = stmt.where(key > decode_cursor(params.cursor))
    stmt = stmt.add_columns(key.label("page_key")).order_by(key).limit(params.limit + 1)
    rows = (await session.execute(stmt)).all()
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    return rows, encode_cursor(rows[-1].page_key)
