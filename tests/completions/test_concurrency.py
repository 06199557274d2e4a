"""Concurrent completions and revocations on a real, committed PostgreSQL database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from service.core.config import Settings
from service.core.db import Database
from service.main import create_app
from service.models import Certificate, EnrollmentEvent
from tests.completions.helpers import enrolled, in_progress_cohort
from tests.factories import auth, make_key

pytestmark = pytest.mark.postgres_only
TIMEOUT = 60


@dataclass
class Live:
    db: Database
    client: httpx.AsyncClient


@pytest.fixture
async def live(fresh_database_url: str) -> AsyncIterator[Live]:
    db = Database.from_url(fresh_database_url)
    app = create_app(settings=Settings(database_url=fresh_database_url), database=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Live(db, client)
    await db.dispose()


async def count_events(db: Database, enrollment_ids: list[str]) -> int:
    async with db.sessionmaker() as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(EnrollmentEvent)
                .where(EnrollmentEvent.enrollment_id.in_(enrollment_ids))
            )
            or 0
        )


async def test_concurrent_double_complete_succeeds_once(live: Live) -> None:
    async with live.db.sessionmaker() as s:
        token = await make_key(s, "staff")
        cohort = await in_progress_cohort(s)
        enrollment = await enrolled(s, cohort)
        await s.commit()
    url = f"/api/v1/enrollments/{enrollment.id}/complete"

    async def attempt(score: int) -> httpx.Response:
        return await live.client.post(
            url, json={"score": score, "attendance": 90}, headers=auth(token)
        )

    for _ in range(3):  # a few rounds on fresh enrollments make the race likely
        responses = await asyncio.wait_for(
            asyncio.gather(attempt(90), attempt(20)), timeout=TIMEOUT
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        conflict = next(r for r in responses if r.status_code == 409)
        assert conflict.json()["current_status"] in ("completed", "failed")
        assert await count_events(live.db, [enrollment.id]) == 1
        async with live.db.sessionmaker() as s:
            certs = await s.scalar(
                select(func.count())
                .select_from(Certificate)
                .where(Certificate.enrollment_id == enrollment.id)
            )
            winner = next(r for r in responses if r.status_code == 200).json()
            assert certs == (1 if winner["status"] == "completed" else 0)
            enrollment = await enrolled(s, cohort)
            await s.commit()
        url = f"/api/v1/enrollments/{enrollment.id}/complete"


async def test_bulk_and_single_racing_complete_each_enrollment_once(live: Live) -> None:
    async with live.db.sessionmaker() as s:
        token = await make_key(s, "admin")
        cohort = await in_progress_cohort(s, capacity=100)
        ids = [(await enrolled(s, cohort)).id for _ in range(30)]
        await s.commit()
    rows = [{"enrollment_id": i, "score": 80, "attendance": 80} for i in ids]

    async def bulk() -> httpx.Response:
        return await live.client.post(
            f"/api/v1/cohorts/{cohort.id}/completions", json=rows, headers=auth(token)
        )

    async def single(enrollment_id: str) -> httpx.Response:
        return await live.client.post(
            f"/api/v1/enrollments/{enrollment_id}/complete",
            json={"score": 10, "attendance": 10},
            headers=auth(token),
        )

    results = await asyncio.wait_for(
        asyncio.gather(bulk(), *(single(i) for i in ids[:5])), timeout=TIMEOUT
    )
    bulk_rows = {x["enrollment_id"]: x for x in results[0].json()["results"]}
    for enrollment_id, response in zip(ids[:5], results[1:], strict=True):
        won_single = response.status_code == 200
        won_bulk = bulk_rows[enrollment_id]["status"] == "completed"
        assert won_single != won_bulk, (response.text, bulk_rows[enrollment_id])
    assert all(bulk_rows[i]["status"] == "completed" for i in ids[5:])
    assert await count_events(live.db, ids) == 30


async def test_concurrent_double_revoke_succeeds_once(live: Live) -> None:
    async with live.db.sessionmaker() as s:
        admin = await make_key(s, "admin")
        cohort = await in_progress_cohort(s)
        enrollment = await enrolled(s, cohort)
        await s.commit()
    done = await live.client.post(
        f"/api/v1/enrollments/{enrollment.id}/complete",
        json={"score": 90, "attendance": 90},
        headers=auth(admin),
    )
    code = done.json()["certificate_code"]

    async def attempt(reason: str) -> httpx.Response:
        return await live.client.post(
            f"/api/v1/certificates/{code}/revoke", json={"reason": reason}, headers=auth(admin)
        )

    responses = await asyncio.wait_for(asyncio.gather(attempt("a"), attempt("b")), timeout=TIMEOUT)
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert await count_events(live.db, [enrollment.id]) == 2  # completed + one revocation
