"""The completions CSV, streamed in constant memory.

PostgreSQL formats the rows itself (``COPY (query) TO STDOUT``); SQLite goes
through a server-side cursor and Python's csv module, cell for cell the same
(one column list: ``repository/export.py``). Both run in their own
connection: the request's unit of work has committed by the time the body
streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.core.auth import Actor
from service.core.csvcells import ExportWriter
from service.core.db import Database
from service.reports.audience import Audience, audience_for, check_export_fields
from service.reports.repository import export as repository
from service.reports.service.feed import age_band_of

CSV_BATCH = 2000
# The COPY export: chunks buffered between the database and the client, and its time limit.
COPY_QUEUE_CHUNKS = 16
COPY_TIMEOUT_SECONDS = 3600


async def completions_csv(database: Database, actor: Actor, *, full: bool) -> AsyncIterator[bytes]:
    """Check what the key may export, then hand back the CSV's stream.

    Everything that can refuse the request happens here, before the response
    starts; the stream itself only reads.
    """
    check_export_fields(actor, full=full)
    async with database.sessionmaker() as session:
        audience = await audience_for(session, actor)
    if database.dialect == "postgresql":
        return copy_out(database, repository.copy_query(audience, full=full))
    return _encoded(export_rows(database.sessionmaker, audience, full=full))


async def _encoded(texts: AsyncIterator[str]) -> AsyncIterator[bytes]:
    async for text in texts:
        yield text.encode()


async def copy_out(database: Database, sql: str) -> AsyncIterator[bytes]:
    """``COPY (sql) TO STDOUT WITH (FORMAT csv, HEADER)``, chunk by chunk, with backpressure.

    The COPY runs in a read-only transaction without the statement timeout
    (a large export legitimately runs long); the queue between the driver and
    the response is small, so a slow client slows the database down instead
    of filling memory. If the client goes away mid-stream, the connection is
    discarded rather than returned to the pool half-way through a COPY.
    """
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=COPY_QUEUE_CHUNKS)
    async with database.sessionmaker() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection

        async def sink(chunk: bytes) -> None:
            await queue.put(bytes(chunk))

        async def copy() -> None:
            await driver.copy_from_query(
                sql, output=sink, format="csv", header=True, timeout=COPY_TIMEOUT_SECONDS
            )

        async def produce() -> None:
            try:
                if driver.is_in_transaction():  # sessions bound to a test's outer transaction
                    await copy()
                    return
                async with driver.transaction(readonly=True):
                    await driver.execute("SET LOCAL statement_timeout = 0")
                    await copy()
            finally:
                await queue.put(None)

        task = asyncio.create_task(produce())
        finished = False
        try:
            while (chunk := await queue.get()) is not None:
                yield chunk
            await task  # raises what the COPY raised
            finished = True
        finally:
            if not finished:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
                await session.invalidate()


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# Each column's cell from a raw row, for one audience (copy_query's twin).
CELLS: dict[str, Callable[[Any, Audience], str | None]] = {
    "enrollment_id": lambda row, a: a.enrollment_id(row.enrollment_id),
    "applicant_id": lambda row, a: a.applicant_id(row.applicant_id),
    "cnic": lambda row, a: a.cnic(row.cnic),
    "programme": lambda row, a: row.programme,
    "cohort": lambda row, a: row.cohort,
    "track": lambda row, a: row.track,
    "centre": lambda row, a: row.centre,
    "province": lambda row, a: row.province,
    "district": lambda row, a: row.district,
    "gender": lambda row, a: row.gender,
    "age_band": lambda row, a: age_band_of(row),
    "score": lambda row, a: _number(row.score),
    "attendance": lambda row, a: _number(row.attendance),
    "completed_at": lambda row, a: _timestamp(row.completed_at),
    "certificate_code": lambda row, a: a.certificate_code(row.certificate_code),
    "full_name": lambda row, a: row.full_name,
    "email": lambda row, a: row.email,
    "phone": lambda row, a: row.phone,
}


async def export_rows(
    sessionmaker: async_sessionmaker[AsyncSession], audience: Audience, *, full: bool
) -> AsyncIterator[str]:
    """The CSV as text chunks, formatted in Python (the SQLite path)."""
    names = repository.columns(full=full)
    cells = [CELLS[name] for name in names]
    buffer = io.StringIO()
    writer = ExportWriter(buffer)
    writer.header(names)
    yield buffer.getvalue()
    stmt = repository.rows_query(audience, full=full).execution_options(yield_per=CSV_BATCH)
    async with sessionmaker() as session:
        result = await session.stream(stmt)
        async for batch in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            for row in batch:
                writer.row([cell(row, audience) for cell in cells])
            yield buffer.getvalue()
