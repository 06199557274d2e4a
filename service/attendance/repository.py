"""Every SQL statement of attendance: sessions, marks and their history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.sql import AnyRow
from service.models import (
    Applicant,
    AttendanceMark,
    AttendanceMarkChange,
    AttendanceSession,
    Centre,
    Cohort,
    Enrollment,
    Programme,
)


@dataclass(frozen=True, slots=True)
class Target:
    """An enrollment a row may name: by id, or by its applicant's CNIC."""

    id: str
    applicant_id: str
    cohort_id: str
    cnic: str
    status: str
    queue_no: int


@dataclass(frozen=True, slots=True)
class Marked:
    enrollment_id: str
    status: str


async def cohort(session: AsyncSession, cohort_id: str, *, lock: bool = False) -> Cohort | None:
    """The cohort; with ``lock``, its row locked until commit (PostgreSQL): one marking
    request per cohort at a time, so each sees the marks of the one before."""
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


async def targets(
    session: AsyncSession, cohort_id: str, ids: Sequence[str], cnics: Sequence[str]
) -> list[Target]:
    """Enrollments named by id (any cohort, to tell "another cohort" apart) or by CNIC
    (this cohort only)."""
    stmt = select(
        Enrollment.id,
        Enrollment.applicant_id,
        Enrollment.cohort_id,
        Applicant.cnic,
        Enrollment.status,
        Enrollment.queue_no,
    ).join(Applicant, Applicant.id == Enrollment.applicant_id)
    found: list[Target] = []
    if ids:
        rows = await session.execute(stmt.where(Enrollment.id.in_(ids)))
        found += [Target(*r) for r in rows]
    if cnics:
        rows = await session.execute(
            stmt.where(Enrollment.cohort_id == cohort_id, Applicant.cnic.in_(cnics))
        )
        found += [Target(*r) for r in rows]
    return found


async def marks_at(
    session: AsyncSession, session_id: str, enrollment_ids: Sequence[str] | None = None
) -> dict[str, str]:
    """Current marks at a session: enrollment id → status."""
    stmt = select(AttendanceMark.enrollment_id, AttendanceMark.status).where(
        AttendanceMark.session_id == session_id
    )
    if enrollment_ids is not None:
        stmt = stmt.where(AttendanceMark.enrollment_id.in_(enrollment_ids))
    return {r.enrollment_id: r.status for r in await session.execute(stmt)}


async def upsert_marks(
    session: AsyncSession,
    session_id: str,
    marks: Sequence[Marked],
    *,
    at: datetime,
    key_id: str,
    actor: str,
    previous: dict[str, str],
) -> None:
    """Write the marks (one per enrollment and session: the last write wins) and their history."""
    if not marks:
        return
    rows = [
        {
            "session_id": session_id,
            "enrollment_id": m.enrollment_id,
            "status": m.status,
            "marked_at": at,
            "marked_by_key_id": key_id,
        }
        for m in marks
    ]
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(AttendanceMark)
    stmt = stmt.on_conflict_do_update(
        index_elements=["session_id", "enrollment_id"],
        set_={
            "status": stmt.excluded.status,
            "marked_at": stmt.excluded.marked_at,
            "marked_by_key_id": stmt.excluded.marked_by_key_id,
        },
    )
    await session.execute(stmt, rows)
    await session.execute(
        insert(AttendanceMarkChange),
        [
            {
                "session_id": session_id,
                "enrollment_id": m.enrollment_id,
                "from_status": previous.get(m.enrollment_id),
                "to_status": m.status,
                "actor": actor,
                "key_id": key_id,
                "at": at,
            }
            for m in marks
        ],
    )


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


async def held_count(session: AsyncSession, cohort_id: str, today: date) -> int:
    found = await session.scalar(
        select(func.count(AttendanceSession.id)).where(
            AttendanceSession.cohort_id == cohort_id, AttendanceSession.date <= today
        )
    )
    return int(found or 0)


async def codes_of(session: AsyncSession, cohort: Cohort) -> tuple[str, str]:
    """The cohort's (programme code, centre code), for event data."""
    row = (
        await session.execute(
            select(Programme.code, Centre.code)
            .select_from(Cohort)
            .join(Programme, Programme.id == Cohort.programme_id)
            .join(Centre, Centre.id == Cohort.centre_id)
            .where(Cohort.id == cohort.id)
        )
    ).one()
    return str(row[0]), str(row[1])


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
