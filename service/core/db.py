"""Engine, sessions and the per-request unit of work.

SQLite (the embedded default) runs with WAL, foreign keys and a busy timeout,
and every transaction starts with ``BEGIN IMMEDIATE`` so that writers queue on
the database lock instead of failing when a read transaction tries to upgrade.
PostgreSQL runs on asyncpg with a bounded pool and a statement timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import Executable, Result, Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.core.config import Settings

# aiosqlite logs every statement *with its parameters* at DEBUG: personal data.
# Keep it at INFO whatever the service's log level (SQLAlchemy hides parameters).
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _install_sqlite_pragmas(engine: AsyncEngine, *, read_only: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers take a snapshot (WAL lets them run beside the writer); writers queue.
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


# A pooled PostgreSQL connection idle for longer than this is pinged before
# use; busier ones are not (a ping is a round trip, a fifth of a registration's).
IDLE_PING_SECONDS = 1.0


def _install_idle_ping(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it has been idle a while.

    Under load connections come back within milliseconds and a ping per
    request would cost a round trip each time; after a quiet spell (or a
    database restart) the ping finds dead connections and the pool replaces
    them transparently. A connection that dies mid-request fails that request
    (503), and SQLAlchemy then invalidates the rest of the pool.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_PING_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError("stale pooled connection") from exc


def create_engine(
    url: str, settings: Settings | None = None, *, read_only: bool = False
) -> AsyncEngine:
    """An engine for ``url``; ``read_only`` engines (reports) never write."""
    settings = settings or Settings()
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 10}, hide_parameters=True)
        _install_sqlite_pragmas(engine, read_only=read_only)
        return engine
    server_settings = {
        "statement_timeout": str(settings.statement_timeout_ms),
        "application_name": "enrollment-service",
    }
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
    engine = create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout,
        # Bound parameters can be personal data: keep them out of error messages and logs.
        hide_parameters=True,
        connect_args={
            # A refused or unanswered connect fails fast (then 503), never hangs.
            "timeout": settings.connect_timeout,
            # 0 means no statement timeout (migrations and backfills).
            "command_timeout": (settings.statement_timeout_ms / 1000 + 5)
            if settings.statement_timeout_ms
            else None,
            "server_settings": server_settings,
        },
    )
    _install_idle_ping(engine)
    return engine


class Database:
    """One engine and its session factory; the app keeps one in ``app.state.db``."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker or async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(
        cls, url: str, settings: Settings | None = None, *, read_only: bool = False
    ) -> Database:
        return cls(create_engine(url, settings, read_only=read_only))

    @classmethod
    def bound_to(cls, connection: AsyncConnection) -> Database:
        """Sessions that run inside an outer transaction (tests roll it back)."""
        maker = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        return cls(connection.engine, maker)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()


async def execute_standalone(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None
) -> Result[Any]:
    """Execute one self-contained statement, outside a transaction when none has begun.

    On PostgreSQL, while the session has not begun a transaction on its
    connection, the statement runs on its own (autocommit): no BEGIN and no
    COMMIT round trip, and any row lock it takes is released the moment it
    ends, not when the request's unit of work commits. Once a transaction is
    open (an Idempotency-Key record, an earlier write, a test's outer
    transaction) the statement simply joins it, so it is never split from
    writes it belongs with. Use it only for statements that are a whole unit
    of work by themselves: a read the request acts on, or one atomic write.
    On SQLite it is a plain execute in the session's transaction.
    """
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return await connection.execute(statement, params)
    fairy = await connection.get_raw_connection()
    driver = fairy.driver_connection
    if driver is None or driver.is_in_transaction():
        return await connection.execute(statement, params)
    adapter = fairy.dbapi_connection
    # The asyncpg adapter begins its transaction lazily, at the first statement;
    # in autocommit mode it sends the statement alone (asyncpg's implicit transaction).
    adapter.autocommit = True  # type: ignore[union-attr]
    try:
        return await connection.execute(statement, params)
    finally:
        adapter.autocommit = False  # type: ignore[union-attr]


async def copy_into(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> bool:
    """COPY ``rows`` (every column of ``table`` by name) into ``table`` in the session's
    transaction, on PostgreSQL; False elsewhere (the caller INSERTs instead).

    A bulk load's fastest path: no statement to compile or parameters to bind per
    row, and one round trip for the batch. Values go to the driver as they are
    (no SQLAlchemy type processing), so they must already be what the columns
    hold: aware datetimes, dates, strings. A constraint violation is raised as
    SQLAlchemy's ``IntegrityError``, like an INSERT's.
    """
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return False
    fairy = await connection.get_raw_connection()
    driver: Any = fairy.driver_connection
    columns = [column.name for column in table.c]
    records = [tuple(row.get(name) for name in columns) for row in rows]
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc
    return True


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The unit of work: commit when the endpoint returns, roll back when it raises."""
    async with get_database(request).sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


def get_reporting_database(request: Request) -> Database:
    """The database reports read from: a replica when configured, else the primary."""
    db: Database = request.app.state.reporting_db
    return db


# scope="function": the commit happens before the response is sent, so a 2xx
# always means the write is durable and visible to the next request.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_reporting_session(
    request: Request, session: SessionDep
) -> AsyncIterator[AsyncSession]:
    """A session for reports: the request's own, or one on the read replica if configured."""
    reporting = get_reporting_database(request)
    if reporting is get_database(request):
        yield session
        return
    async with reporting.sessionmaker() as replica_session:
        try:
            yield replica_session
        finally:
            await replica_session.rollback()


ReportingSessionDep = Annotated[AsyncSession, Depends(get_reporting_session, scope="function")]
ReportingDatabaseDep = Annotated[Database, Depends(get_reporting_database)]
