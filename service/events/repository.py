"""Every SQL statement about events, and the commit-order horizon of the feed.

Commit order without a global lock. On PostgreSQL every event row carries the
id of the transaction that wrote it (``xid``, from ``pg_current_xact_id()``) and
a sequence number. A reader first takes the *horizon*: the oldest transaction
of this database still running (``pg_current_snapshot()``'s in-progress list,
less the transactions ``pg_stat_activity`` places in other databases). Every
transaction below it has finished, so every event with ``xid < horizon`` that will ever
exist is already visible, and events appear to readers only in ``(xid, seq)``
order: a cursor ``(xid, seq)`` never has an event appear behind it later.
Events of transactions still running (or younger) wait for a later poll.
On SQLite writers are serialised by the database lock, so ``seq`` alone is
commit order (``xid`` is 0 and the horizon is unbounded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, or_, select, text, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Event

Position = tuple[int, int]
START: Position = (0, 0)


@dataclass(frozen=True, slots=True)
class Horizon:
    """Events below ``xmin`` (or of the reader's own transaction) are final; None: no bound."""

    xmin: int | None
    own_xid: int | None

    def clause(self) -> ColumnElement[bool]:
        if self.xmin is None:
            return true()
        below = Event.xid < self.xmin
        # The reader's own uncommitted writes (a test's single transaction).
        return below if self.own_xid is None else or_(below, Event.xid == self.own_xid)


# The oldest transaction of this database still running, from one snapshot: xids
# below the snapshot's xmax and not in its in-progress list have finished; of the
# in-progress ones, those pg_stat_activity shows in *another* database are ignored
# (xids are cluster-wide: a long transaction next door must not stall this feed).
# An in-progress xid whose database is not visible to this role is kept: safe.
_PG_HORIZON = text(
    """
    SELECT least(
        pg_snapshot_xmax(s.snap)::text::bigint,
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s.snap) AS x
          WHERE (x::text::bigint % 4294967296) NOT IN (
            SELECT a.backend_xid::text::bigint FROM pg_stat_activity AS a
             WHERE a.backend_xid IS NOT NULL
               AND a.datname IS DISTINCT FROM current_database()))
    ) AS xmin,
    pg_current_xact_id_if_assigned()::text::bigint AS own
    FROM (SELECT pg_current_snapshot() AS snap) AS s
    """
)


async def horizon(session: AsyncSession) -> Horizon:
    if session.get_bind().dialect.name != "postgresql":
        return Horizon(None, None)
    row = (await session.execute(_PG_HORIZON)).one()
    return Horizon(int(row.xmin), None if row.own is None else int(row.own))


def after(position: Position) -> ColumnElement[bool]:
    return tuple_(Event.xid, Event.seq) > tuple_(position[0], position[1])


def columns() -> Any:
    return select(Event.seq, Event.xid, Event.id, Event.type, Event.occurred_at, Event.data)


async def page(
    session: AsyncSession,
    bound: Horizon,
    start: Position,
    where: Sequence[ColumnElement[bool]],
    limit: int,
) -> Sequence[Row[Any]]:
    """Final events after ``start`` matching ``where``, in commit order."""
    stmt = (
        columns()
        .where(after(start), bound.clause(), Event.webhook_id.is_(None), *where)
        .order_by(Event.xid, Event.seq)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def last_final(session: AsyncSession, bound: Horizon) -> Position | None:
    """The newest final event's position: a reader may move its cursor up to it."""
    row = (
        await session.execute(
            select(Event.xid, Event.seq)
            .where(bound.clause())
            .order_by(Event.xid.desc(), Event.seq.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (int(row.xid), int(row.seq))


async def since(
    session: AsyncSession, instant: datetime, where: Sequence[ColumnElement[bool]], bound: Horizon
) -> Sequence[int]:
    """``seq`` of every final feed event at or after ``instant`` matching ``where``."""
    stmt = (
        select(Event.seq)
        .where(
            occurred_since(instant),
            bound.clause(),
            Event.webhook_id.is_(None),
            *where,
        )
        .order_by(Event.xid, Event.seq)
    )
    return (await session.scalars(stmt)).all()


async def by_seqs(session: AsyncSession, seqs: Sequence[int]) -> Sequence[Row[Any]]:
    return (await session.execute(columns().where(Event.seq.in_(list(seqs))))).all()


def occurred_since(instant: datetime) -> ColumnElement[bool]:
    return Event.occurred_at >= instant


def up_to(end: Position) -> ColumnElement[bool]:
    return tuple_(Event.xid, Event.seq) <= tuple_(end[0], end[1])
