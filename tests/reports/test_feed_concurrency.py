"""The feed under concurrent writers on PostgreSQL: every completion seen exactly once."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update

from service.core.config import Settings
from service.core.db import Database
from service.core.pseudonyms import pseudonyms_for
from service.main import create_app
from service.models import Certificate, Enrollment
from service.models.base import new_id, utcnow
from tests.factories import auth, make_cohort, make_enrollment
from tests.reports.helpers import assert_counters_exact
from tests.reports.keys import report_key

WRITERS = 6
PER_WRITER = 4


@pytest.mark.postgres_only
async def test_concurrent_completions_are_seen_exactly_once(fresh_database_url: str) -> None:
    url = fresh_database_url
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as s:
            cohort = await make_cohort(s, capacity=WRITERS * PER_WRITER)
            ids = [(await make_enrollment(s, cohort)).id for _ in range(WRITERS * PER_WRITER)]
            token, actor = await report_key(s, "reporter")
            pseudonyms = await pseudonyms_for(s, actor.key_id)
            await s.commit()
        batches = [ids[i * PER_WRITER : (i + 1) * PER_WRITER] for i in range(WRITERS)]
        rng = random.Random(7)
        done = asyncio.Event()

        async def writer(n: int, batch: list[str]) -> None:
            # Start in order, but reach the certificate inserts (and commit) in another.
            await asyncio.sleep(n * 0.01)
            async with db.sessionmaker() as s:
                await s.execute(
                    update(Enrollment)
                    .where(Enrollment.id.in_(batch))
                    .values(status="completed", completed_at=utcnow())
                )
                await asyncio.sleep(0.05 * (WRITERS - n) + rng.random() * 0.02)
                for e_id in batch:
                    await s.execute(
                        insert(Certificate).values(
                            id=new_id(),
                            enrollment_id=e_id,
                            code=f"ZTE-C-{e_id[-12:]}",
                            issued_at=utcnow(),
                        )
                    )
                    await asyncio.sleep(rng.random() * 0.01)
                await s.commit()

        seen: list[dict[str, Any]] = []
        app = create_app(settings=Settings(database_url=url), database=db)

        async def poller() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                cursor: str | None = None
                while True:
                    params: dict[str, Any] = {"limit": 3}
                    if cursor:
                        params["after"] = cursor
                    # Only a poll that started after every writer committed may end it.
                    writers_done = done.is_set()
                    r = await client.get(
                        "/api/v1/reports/completions", params=params, headers=auth(token)
                    )
                    assert r.status_code == 200, r.text
                    body = r.json()
                    seen.extend(body["items"])
                    cursor = body["next_cursor"]
                    if writers_done and not body["items"]:
                        return
                    await asyncio.sleep(0.005)

        async def writers() -> None:
            await asyncio.gather(*(writer(n, b) for n, b in enumerate(batches)))
            done.set()

        await asyncio.wait_for(asyncio.gather(writers(), poller()), timeout=60)
        # The reporter sees each enrollment under its key's pseudonym.
        assert sorted(i["enrollment_id"] for i in seen) == sorted(
            pseudonyms.of("enrollment", i) for i in ids
        )
        positions = [i["position"] for i in seen]
        assert positions == sorted(set(positions))
        async with db.sessionmaker() as s:
            await assert_counters_exact(s)
    finally:
        await db.dispose()


@pytest.mark.postgres_only
async def test_counters_exact_under_concurrent_writers(fresh_database_url: str) -> None:
    """Writers in different cohorts complete the same people at once: trainees count once."""
    from tests.factories import make_applicant

    db = Database.from_url(fresh_database_url)
    try:
        async with db.sessionmaker() as s:
            cohorts = [await make_cohort(s, capacity=20) for _ in range(4)]
            people = [await make_applicant(s) for _ in range(5)]
            await s.commit()

        async def writer(cohort_id: str, n: int) -> None:
            async with db.sessionmaker() as s:
                for i, person in enumerate(people):
                    e_id = new_id()
                    await s.execute(
                        insert(Enrollment).values(
                            id=e_id,
                            cohort_id=cohort_id,
                            applicant_id=person.id,
                            status="completed",
                            queue_no=i + 1,
                            completed_at=utcnow(),
                            created_at=utcnow(),
                            updated_at=utcnow(),
                        )
                    )
                    await s.execute(
                        insert(Certificate).values(
                            id=new_id(),
                            enrollment_id=e_id,
                            code=f"ZTE-K-{e_id[-12:]}",
                            issued_at=utcnow(),
                        )
                    )
                    await asyncio.sleep(0.005 * ((n + i) % 3))
                await s.commit()

        await asyncio.wait_for(
            asyncio.gather(*(writer(c.id, n) for n, c in enumerate(cohorts))), timeout=60
        )
        async with db.sessionmaker() as s:
            await assert_counters_exact(s)
            from service.reports.service import progress

            report = await progress(s)
            target = next(t for t in report.targets if t.code == "zte-100k")
            assert target.achieved == len(people)
            zte = next(p for p in report.programmes if p.code == "zte-ict")
            assert (zte.applicants, zte.completed) == (len(people), len(people) * len(cohorts))
    finally:
        await db.dispose()
