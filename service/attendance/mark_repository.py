"""Every SQL statement of marking a session: resolving the rows, the cohort's marking
lock, and the one statement that writes the marks and their history (``mark`` in
``service.py``). The rest of attendance's SQL is in ``repository.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Date, Integer, String, bindparam, column, func, insert, select, union, values
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance.percent import change_statement
from service.core.sql import AnyRow, AnySelect
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


@dataclass(frozen=True, slots=True)
class MarkingContext:
    """What marking a session needs to know before it locks anything."""

    date: date
    cohort_id: str
    centre_id: str
    cohort_code: str
    programme_code: str
    centre_code: str


async def marking_context(session: AsyncSession, session_id: str) -> MarkingContext | None:
    """The session's date, its cohort and the cohort's codes (for events), in one query."""
    row = (
        await session.execute(
            select(
                AttendanceSession.date,
                Cohort.id,
                Cohort.centre_id,
                Cohort.code,
                Programme.code,
                Centre.code,
            )
            .join(Cohort, Cohort.id == AttendanceSession.cohort_id)
            .join(Programme, Programme.id == Cohort.programme_id)
            .join(Centre, Centre.id == Cohort.centre_id)
            .where(AttendanceSession.id == session_id)
        )
    ).first()
    return None if row is None else MarkingContext(*row)


async def targets(
    session: AsyncSession, cohort_id: str, ids: Sequence[str], cnics: Sequence[str]
) -> list[Target]:
    """Enrollments named by id (any cohort, to tell "another cohort" apart) or by CNIC
    (this cohort only), in one query."""
    stmt = select(
        Enrollment.id,
        Enrollment.applicant_id,
        Enrollment.cohort_id,
        Applicant.cnic,
        Enrollment.status,
        Enrollment.queue_no,
    ).join(Applicant, Applicant.id == Enrollment.applicant_id)
    parts = []
    if ids:
        parts.append(stmt.where(Enrollment.id.in_(ids)))
    if cnics:
        parts.append(stmt.where(Enrollment.cohort_id == cohort_id, Applicant.cnic.in_(cnics)))
    if not parts:
        return []
    query = parts[0] if len(parts) == 1 else union(*parts)
    return [Target(*r) for r in await session.execute(query)]


async def lock_for_marking(session: AsyncSession, cohort_id: str) -> int | None:
    """Serialise the markings of one cohort; returns its ``min_attendance`` (None: no cohort).

    ``FOR NO KEY UPDATE`` on the cohort row (PostgreSQL; SQLite serialises every
    writer anyway) until commit. Why exclusive among markers, and why it is safe:

    - Markings of one cohort must not overlap: the write statement reads each
      trainee's previous mark and figure in its snapshot, taken once the lock is
      held, so it sees every earlier marking committed. Last write wins per trainee
      with both recorded (old -> new as it really was), and a crossing below the
      threshold that two markings make together (two sessions, or the same one) is
      seen by exactly the second. A share lock would let two markings read the same
      "before" (no warning, or two).
    - Enrollment statuses hold still: seat changes take this row's update lock
      (``seats.repository.lock_for_update``), completions a share lock, deleting a
      session ``FOR UPDATE``; all conflict with this one. (A share lock would not
      hold off completions, which take a share lock themselves.)
    - It is short: taken only once the rows are resolved (statuses read before it
      are checked again by the write statement), right before the marks are
      written, so it is held for one statement and the commit. It is the first
      lock the marking takes (the cohort row before any other, as the seats
      module does), so it cannot deadlock with them; ``NO KEY`` lets inserts that
      merely reference the cohort (foreign keys) proceed.
    """
    return await session.scalar(
        select(Cohort.min_attendance).where(Cohort.id == cohort_id).with_for_update(key_share=True)
    )


async def session_still_there(session: AsyncSession, session_id: str) -> bool:
    """Read under the marking lock: a session deleted since the marking first read it
    (deleting takes the cohort's lock too) is gone now, not a foreign-key error later."""
    found = await session.scalar(
        select(AttendanceSession.id).where(AttendanceSession.id == session_id)
    )
    return found is not None


@cache
def _pg_marking() -> AnySelect:
    """The PostgreSQL marking statement, built (and compiled) once: the new marks come as
    two arrays (``ids``, ``statuses``), everything else as bound parameters. The upsert
    and the history insert are data-modifying CTEs beside the select of
    ``percent.change_statement`` (all three see the marks as they stood before)."""
    new = (
        func.unnest(
            bindparam("ids", type_=ARRAY(String)), bindparam("statuses", type_=ARRAY(String))
        )
        .table_valued("enrollment_id", "status", with_ordinality="ord")
        .render_derived(name="new_marks", with_types=False)
    )
    sid = bindparam("session_id", type_=String)
    changes = change_statement(
        bindparam("today", type_=Date), bindparam("cohort_id", type_=String), sid, new
    ).cte("changes")
    when = bindparam("at", type_=AttendanceMark.marked_at.type)
    key = bindparam("key_id", type_=String)
    upsert = pg_insert(AttendanceMark).from_select(
        ["session_id", "enrollment_id", "status", "marked_at", "marked_by_key_id"],
        select(sid, changes.c.enrollment_id, changes.c.status, when, key).order_by(changes.c.ord),
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=["session_id", "enrollment_id"],
        set_={
            "status": upsert.excluded.status,
            "marked_at": upsert.excluded.marked_at,
            "marked_by_key_id": upsert.excluded.marked_by_key_id,
        },
    )
    history = insert(AttendanceMarkChange).from_select(
        ["session_id", "enrollment_id", "from_status", "to_status", "actor", "key_id", "at"],
        select(
            sid,
            changes.c.enrollment_id,
            changes.c.previous,
            changes.c.status,
            bindparam("actor", type_=String),
            key,
            when,
        ).order_by(changes.c.ord),
    )
    return (
        select(changes)
        .add_cte(upsert.cte("upserted"), history.cte("recorded"))
        .order_by(changes.c.ord)
    )


async def write_marks(
    session: AsyncSession,
    session_id: str,
    cohort_id: str,
    marks: Sequence[Marked],
    *,
    today: date,
    at: datetime,
    key_id: str,
    actor: str,
) -> Sequence[AnyRow]:
    """Write the marks (one per enrollment and session: the last write wins) of those
    still enrolled in the cohort, and their history, in request order; returns
    ``percent.change_statement``'s rows (previous marks, figures before and after).

    PostgreSQL: one statement (``_pg_marking``). SQLite: the select, then the upsert
    and the history insert.
    """
    if session.get_bind().dialect.name == "postgresql":
        params = {
            "ids": [m.enrollment_id for m in marks],
            "statuses": [m.status for m in marks],
            "session_id": session_id,
            "cohort_id": cohort_id,
            "today": today,
            "at": at,
            "key_id": key_id,
            "actor": actor,
        }
        return (await session.execute(_pg_marking(), params)).all()
    new = (
        values(
            column("enrollment_id", String),
            column("status", String),
            column("ord", Integer),
            name="new_marks",
        )
        .data([(m.enrollment_id, m.status, i) for i, m in enumerate(marks)])
        .cte("new_marks")
    )
    changes = change_statement(today, cohort_id, session_id, new)
    rows = (await session.execute(changes.order_by(changes.selected_columns.ord))).all()
    await _write_marks_one_by_one(session, session_id, rows, at=at, key_id=key_id, actor=actor)
    return rows


async def _write_marks_one_by_one(
    session: AsyncSession,
    session_id: str,
    rows: Sequence[AnyRow],
    *,
    at: datetime,
    key_id: str,
    actor: str,
) -> None:
    if not rows:
        return
    stmt = sqlite_insert(AttendanceMark)
    stmt = stmt.on_conflict_do_update(
        index_elements=["session_id", "enrollment_id"],
        set_={
            "status": stmt.excluded.status,
            "marked_at": stmt.excluded.marked_at,
            "marked_by_key_id": stmt.excluded.marked_by_key_id,
        },
    )
    await session.execute(
        stmt,
        [
            {
                "session_id": session_id,
                "enrollment_id": r.enrollment_id,
                "status": r.status,
                "marked_at": at,
                "marked_by_key_id": key_id,
            }
            for r in rows
        ],
    )
    await session.execute(
        insert(AttendanceMarkChange),
        [
            {
                "session_id": session_id,
                "enrollment_id": r.enrollment_id,
                "from_status": r.previous,
                "to_status": r.status,
                "actor": actor,
                "key_id": key_id,
                "at": at,
            }
            for r in rows
        ],
    )
