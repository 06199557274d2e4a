"""Expired idempotency records and dashboard sessions are purged on schedule (controlled clock)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.db import Database
from service.housekeeping import purge, run_periodically
from service.models import DashboardSession, IdempotencyRecord
from service.models.base import utcnow
from tests.factories import auth, make_key


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_purge_deletes_only_what_has_expired(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    token = await make_key(session, "admin")
    for n in range(3):
        headers = {**auth(token), "Idempotency-Key": f"purge-{n}"}
        r = await client.post(
            "/api/v1/centres", json={"code": f"pg-{n}", "name": "P"}, headers=headers
        )
        assert r.status_code == 201, r.text
    now = utcnow()
    session.add_all(
        [
            DashboardSession(api_key_id=token.id, expires_at=now - timedelta(seconds=1)),
            DashboardSession(api_key_id=token.id, expires_at=now + timedelta(hours=24.5)),
        ]
    )
    await session.flush()
    records_before = await _count(session, IdempotencyRecord)
    sessions_before = await _count(session, DashboardSession)

    # Within the retention window: only the expired session goes.
    kept = await purge(database, idempotency_ttl_hours=24, now=now + timedelta(hours=23))
    assert (kept.idempotency_records, kept.dashboard_sessions) == (0, 1)
    assert await _count(session, IdempotencyRecord) == records_before
    assert await _count(session, DashboardSession) == sessions_before - 1

    # A day and a bit later: the records (with their stored answers) and the session go.
    later = await purge(database, idempotency_ttl_hours=24, now=now + timedelta(hours=25))
    assert (later.idempotency_records, later.dashboard_sessions) == (records_before, 1)
    assert await _count(session, IdempotencyRecord) == 0
    assert await _count(session, DashboardSession) == sessions_before - 2

    # The key can be used again afterwards: it starts afresh.
    headers = {**auth(token), "Idempotency-Key": "purge-0"}
    again = await client.post(
        "/api/v1/centres", json={"code": "pg-9", "name": "P"}, headers=headers
    )
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers


async def test_run_periodically_runs_each_interval_and_survives_a_failing_pass() -> None:
    calls: list[int] = []
    slept: list[float] = []

    async def task() -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("database down")

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 4:
            raise StopAsyncIteration  # end the loop here: a clock that stops

    with pytest.raises(StopAsyncIteration):
        await run_periodically(task, interval=3600, sleep=sleep)
    assert calls == [0, 1, 2, 3]  # the failing second pass did not stop the schedule
    assert slept == [3600] * 4
