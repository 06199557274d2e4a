"""Progress against targets, breakdowns, the completions feed and the CSV export."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.applicants.normalise import age_on
from service.core.auth import Actor
from service.core.db import Database
from service.core.errors import ValidationFailed
from service.models.enums import Role
from service.reports import repository
from service.reports.schemas import (
    Breakdown,
    BreakdownRow,
    Dimension,
    Feed,
    FeedItem,
    Metric,
    ProgrammeProgress,
    Progress,
    TargetProgress,
)

WINDOW_DAYS = 30
SUPPRESS_BELOW = 5
CSV_BATCH = 2000
# The COPY export: chunks buffered between the database and the client, and its time limit.
COPY_QUEUE_CHUNKS = 16
COPY_TIMEOUT_SECONDS = 3600


def today() -> date:
    return datetime.now(UTC).date()


def mask_cnic(cnic: str) -> str:
    """``12345-1234567-3`` → ``*****-*******-3``: the last digit only."""
    return "*****-*******-" + cnic[-1:]


def cnic_for(actor: Actor, cnic: str) -> str:
    return cnic if actor.is_staff_or_admin else mask_cnic(cnic)


# --- progress --------------------------------------------------------------------


def _projection(
    goal: int, achieved: int, growth: int, deadline: date | None, now: date
) -> tuple[float, date | None, float | None]:
    remaining = max(goal - achieved, 0)
    daily_rate = growth / WINDOW_DAYS
    projected: date | None = None
    if remaining > 0 and growth > 0:
        # remaining / (growth / 30) days, rounded up, in exact integer arithmetic.
        days = -(-remaining * WINDOW_DAYS // growth)
        try:
            projected = now + timedelta(days=days)
        except OverflowError:  # beyond year 9999
            projected = None
    required: float | None = None
    if deadline is not None:
        days_left = (deadline - now).days
        # On or after the deadline, everything left is needed at once.
        required = remaining / days_left if days_left > 0 else float(remaining)
    return daily_rate, projected, required


async def progress(session: AsyncSession) -> Progress:
    now = today()
    window_start = now - timedelta(days=WINDOW_DAYS - 1)
    counts = await repository.counters(session, window_start)
    programmes = await repository.programmes(session)
    code_of = {p.id: p.code for p in programmes}

    def total(programme_ids: Sequence[str], *metrics: str) -> int:
        return sum(counts.programme[p].get(m, 0) for p in programme_ids for m in metrics)

    def window(programme_ids: Sequence[str], metric: str) -> int:
        return sum(counts.programme_window[p].get(metric, 0) for p in programme_ids)

    targets: list[TargetProgress] = []
    for target, programme_ids in await repository.targets(session):
        completions_30 = window(programme_ids, "completions")
        if target.metric == "trainees":
            achieved = counts.target_trainees.get(target.id, 0)
            growth = counts.target_window.get(target.id, 0)
        elif target.metric == "completions":
            achieved = total(programme_ids, "certified")
            growth = completions_30
        else:
            achieved = total(programme_ids, *repository.SEATED)
            growth = window(programme_ids, "enrollments")
        daily_rate, projected, required = _projection(
            target.goal, achieved, growth, target.deadline, now
        )
        targets.append(
            TargetProgress(
                code=target.code,
                name=target.name,
                goal=target.goal,
                metric=target.metric,  # type: ignore[arg-type]
                programmes=sorted(code_of[p] for p in programme_ids if p in code_of),
                deadline=target.deadline,
                achieved=achieved,
                percent=round(achieved / target.goal * 100, 2),
                in_training=total(programme_ids, "enrolled"),
                waitlisted=total(programme_ids, "waitlisted"),
                completions_last_30_days=completions_30,
                daily_rate=daily_rate,
                projected_date=projected,
                required_daily_rate=required,
            )
        )
    rows = [
        ProgrammeProgress(
            code=p.code,
            applicants=total([p.id], "applicants"),
            enrolled=total([p.id], "enrolled"),
            waitlisted=total([p.id], "waitlisted"),
            completed=total([p.id], "certified"),
            failed=total([p.id], "failed"),
            dropped=total([p.id], "dropped"),
            withdrawn=total([p.id], "withdrawn"),
            cancelled=total([p.id], "cancelled"),
        )
        for p in programmes
    ]
    return Progress(targets=targets, programmes=rows)


# --- breakdown -------------------------------------------------------------------


async def breakdown(
    session: AsyncSession,
    actor: Actor,
    *,
    dimension: Dimension,
    metric: Metric,
    programme: str | None,
    date_from: date | None,
    date_to: date | None,
) -> Breakdown:
    programme_id: str | None = None
    if programme:
        found = await repository.programme_by_code(session, programme)
        if found is None:
            raise ValidationFailed({"programme": f"No programme with code '{programme}'."})
        programme_id = found.id
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed({"from": "Must not be after 'to'."})
    dialect = session.get_bind().dialect.name
    query = repository.BreakdownQuery(dimension, metric, programme_id, date_from, date_to)
    rows = await repository.breakdown(session, dialect, query)
    suppress = actor.role is Role.reporter
    return Breakdown(
        dimension=dimension,
        metric=metric,
        rows=[
            BreakdownRow(key=key, count="<5" if suppress and n < SUPPRESS_BELOW else n)
            for key, n in rows
        ],
    )


# --- the feed --------------------------------------------------------------------

_CURSOR_PREFIX = "feed:"


def encode_feed_cursor(position: int) -> str:
    raw = f"{_CURSOR_PREFIX}{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_feed_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raw = ""
    value = raw.removeprefix(_CURSOR_PREFIX)
    if not raw.startswith(_CURSOR_PREFIX) or not value.isdigit() or len(value) > 18:
        raise ValidationFailed({"after": "Not a cursor returned by this feed."})
    return int(value)


def _age_band(row: Any) -> str:
    return repository.age_band(age_on(row.date_of_birth, row.start_date))


async def feed(session: AsyncSession, actor: Actor, *, after: str | None, limit: int) -> Feed:
    position = decode_feed_cursor(after)
    rows = await repository.feed_page(session, after=position, limit=limit)
    items = []
    for row in rows:
        revocation = row.kind == "revocation"
        items.append(
            FeedItem(
                position=row.position,
                kind=row.kind,
                enrollment_id=row.enrollment_id,
                applicant_id=row.applicant_id,
                cnic=cnic_for(actor, row.cnic),
                programme=row.programme,
                cohort=row.cohort,
                track=row.track,
                centre=row.centre,
                province=row.province,
                district=row.district,
                gender=row.gender,
                age_band=_age_band(row),
                score=row.score,
                attendance=row.attendance,
                completed_at=row.completed_at,
                certificate_code=row.certificate_code,
                revoked_at=(row.revoked_at or row.at) if revocation else None,
                reason=row.revoked_reason if revocation else None,
            )
        )
    last = items[-1].position if items else position
    return Feed(items=items, next_cursor=encode_feed_cursor(last))


# --- the CSV export ----------------------------------------------------------------

CSV_COLUMNS = [
    "enrollment_id",
    "applicant_id",
    "cnic",
    "programme",
    "cohort",
    "track",
    "centre",
    "province",
    "district",
    "gender",
    "age_band",
    "score",
    "attendance",
    "completed_at",
    "certificate_code",
]
CSV_CONTACT_COLUMNS = ["full_name", "email", "phone"]


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


async def export_csv(database: Database, actor: Actor, *, full: bool) -> AsyncIterator[bytes]:
    """Stream every live completion as CSV in constant memory.

    PostgreSQL formats the rows itself (``COPY (query) TO STDOUT``); SQLite
    goes through a server-side cursor and Python's csv module. Both run in
    their own connection: the request's unit of work has committed by the
    time the body streams.
    """
    masked = not actor.is_staff_or_admin
    if database.dialect == "postgresql":
        sql = repository.completions_export_text(full=full, masked=masked)
        async for chunk in copy_out(database, sql):
            yield chunk
        return
    async for text in _export_rows(database.sessionmaker, masked=masked, full=full):
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


async def _export_rows(
    sessionmaker: async_sessionmaker[AsyncSession], *, masked: bool, full: bool
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (CSV_CONTACT_COLUMNS if full else []))
    yield buffer.getvalue()
    stmt = repository.completions_export(full).execution_options(yield_per=CSV_BATCH)
    async with sessionmaker() as session:
        result = await session.stream(stmt)
        async for batch in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            for row in batch:
                completed_at: datetime = row.completed_at
                line = [
                    row.enrollment_id,
                    row.applicant_id,
                    mask_cnic(row.cnic) if masked else row.cnic,
                    row.programme,
                    row.cohort,
                    row.track,
                    row.centre,
                    row.province,
                    row.district,
                    row.gender,
                    _age_band(row),
                    _number(row.score),
                    _number(row.attendance),
                    completed_at.isoformat().replace("+00:00", "Z"),
                    row.certificate_code,
                ]
                if full:
                    line += [row.full_name, row.email, row.phone]
                writer.writerow(line)
            yield buffer.getvalue()
