"""Arranging attendance tests: a cohort in progress, sessions, a clock that tests move."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.clock import ManualClock
from service.models import AttendanceSession, Cohort
from tests.factories import auth, make_cohort

START = date(2026, 3, 2)
TODAY = date(2026, 3, 20)
PROBLEM = "application/problem+json"


def clock_at(day: date = TODAY, hour: int = 9) -> ManualClock:
    return ManualClock(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


async def running_cohort(session: AsyncSession, **kwargs: Any) -> Cohort:
    kwargs.setdefault("status", "in_progress")
    kwargs.setdefault("start_date", START)
    kwargs.setdefault("end_date", START + timedelta(days=60))
    return await make_cohort(session, **kwargs)


async def add_sessions(session: AsyncSession, cohort: Cohort, *days: date) -> list[str]:
    made = [AttendanceSession(cohort_id=cohort.id, date=d) for d in days]
    session.add_all(made)
    await session.flush()
    return [m.id for m in made]


async def mark(
    client: httpx.AsyncClient, token: str, session_id: str, rows: list[Any]
) -> httpx.Response:
    return await client.put(
        f"/api/v1/sessions/{session_id}/attendance", json=rows, headers=auth(token)
    )


def days(n: int, first: date = START) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]
