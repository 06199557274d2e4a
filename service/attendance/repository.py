"""SQL of attendance: sessions, marks and their history, rosters (marking a session's
statements are in ``mark_repository.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance.percent import held_count
from service.core.db import execute_standalone
from service.core.sql import AnyRow
from service.models import (
    Applicant,
    AttendanceMark,
    AttendanceMarkChange,
    AttendanceSession,
    Cohort,
    Enrollment,
)


async def cohort(session: AsyncSession, cohort_id: str, *, lock: bool = False) -> Cohort | None:
    """The cohort; with ``lock``, its row locked ``FOR UPDATE`` until commit (PostgreSQL):
    no marking meanwhile (``mark_repository.lock_for_marking``)."""
    stmt = select(Cohort).where(Cohort.id == cohort_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(stmt)


async def add_sessions(
    session: AsyncSession, cohort_id: str, items: Sequence[tuple[date, str | None]], key_id: str
) -> list[AttendanceSession]:
    created = [
        AttendanceSession(cohort_id=cohort_id, date=day, topic=topic, created_by_key_id=key_id)
        for day, topic in items
    ]
    session.add_all(created)
    await session.flush()
    return created


def _sessions_with_counts() -> Select[tuple[AttendanceSession, int]]:
    marked = (
        select(func.count(AttendanceMark.id))
        .where(AttendanceMark.session_id == AttendanceSession.id)
        .scalar_subquery()
    )
    return select(AttendanceSession, marked.label("marked"))


async def sessions_of(session: AsyncSession, cohort_id: str) -> Sequence[AnyRow]:
    """The cohort's sessions by date, each with how many enrollments are marked."""
    stmt = _sessions_with_counts().where(AttendanceSession.cohort_id == cohort_id)
    return (
        await session.execute(stmt.order_by(AttendanceSession.date, AttendanceSession.id))
    ).all()


async def session_row(session: AsyncSession, session_id: str) -> AnyRow | None:
    stmt = _sessions_with_counts().where(AttendanceSession.id == session_id)
    return (await session.execute(stmt)).first()


async def find_session(session: AsyncSession, session_id: str) -> AttendanceSession | None:
    return await session.scalar(select(AttendanceSession).where(AttendanceSession.id == session_id))


async def delete_unmarked(session: AsyncSession, session_id: str) -> bool:
    """Delete the session if no mark names it; False when one does."""
    marked = select(AttendanceMark.id).where(AttendanceMark.session_id == session_id).exists()
    result = await session.execute(
        delete(AttendanceSession)
        .where(AttendanceSession.id == session_id, ~marked)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def changes_of(session: AsyncSession, session_id: str) -> Sequence[AttendanceMarkChange]:
    return (
        await session.scalars(
            select(AttendanceMarkChange)
            .where(AttendanceMarkChange.session_id == session_id)
            .order_by(AttendanceMarkChange.id)
        )
    ).all()


async def enrollment_marks(
    session: AsyncSession, enrollment_id: str, cohort_id: str, today: date
) -> Sequence[AnyRow]:
    """The cohort's sessions held by ``today``, with this enrollment's mark (or NULL)."""
    stmt = (
        select(AttendanceSession.id, AttendanceSession.date, AttendanceMark.status)
        .outerjoin(
            AttendanceMark,
            (AttendanceMark.session_id == AttendanceSession.id)
            & (AttendanceMark.enrollment_id == enrollment_id),
        )
        .where(AttendanceSession.cohort_id == cohort_id, AttendanceSession.date <= today)
        .order_by(AttendanceSession.date, AttendanceSession.id)
    )
    return (await session.execute(stmt)).all()


@dataclass(frozen=True, slots=True)
class RosterHead:
    centre_id: str
    min_attendance: int
    held: int


_ROSTER_HEAD = select(
    Cohort.centre_id,
    Cohort.min_attendance,
    held_count(bindparam("today", type_=Date), Cohort.id),
).where(Cohort.id == bindparam("cohort_id", type_=String))


async def roster_head(session: AsyncSession, cohort_id: str, today: date) -> RosterHead | None:
    """The cohort's centre, threshold and sessions held by ``today``; None: no such cohort.

    One read, outside any transaction on PostgreSQL (``execute_standalone``)."""
    params = {"cohort_id": cohort_id, "today": today}
    row: Any = (await execute_standalone(session, _ROSTER_HEAD, params)).first()
    return None if row is None else RosterHead(row[0], int(row[1]), int(row[2] or 0))


async def visible_enrollment(
    session: AsyncSession, enrollment_id: str, visible: ColumnElement[bool]
) -> Enrollment | None:
    """The enrollment if the ``visible`` clause (on Cohort and Applicant) admits it."""
    return await session.scalar(
        select(Enrollment)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(Enrollment.id == enrollment_id, visible)
    )


async def roster_names(session: AsyncSession, cohort_id: str, session_id: str) -> Sequence[AnyRow]:
    """The cohort's enrolled trainees by name, with their mark at this session (or NULL)."""
    stmt = (
        select(Enrollment.id, Applicant.full_name, AttendanceMark.status)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .outerjoin(
            AttendanceMark,
            (AttendanceMark.enrollment_id == Enrollment.id)
            & (AttendanceMark.session_id == session_id),
        )
        .where(Enrollment.cohort_id == cohort_id, Enrollment.status == "enrolled")
        .order_by(Applicant.full_name, Enrollment.id)
    )
    return (await session.execute(stmt)).all()
