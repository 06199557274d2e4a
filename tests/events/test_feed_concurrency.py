"""The feed under concurrent writers on PostgreSQL: every event seen once, none skipped.

Events are ordered by (transaction id, sequence), and a poll returns only events
of transactions older than every transaction still running. The first two tests
pin the two interleavings that break a plain sequence cursor; the third runs
many writers committing in random order while a poller follows the cursor.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.config import Settings
from service.core.db import Database
from service.main import create_app
from tests.factories import auth, make_applicant, make_key

pytestmark = pytest.mark.postgres_only


class Poller:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client, self.token, self.cursor = client, token, None
        self.seen: list[str] = []

    async def poll(self) -> list[str]:
        params: dict[str, Any] = {"limit": 7, "types": "applicant.registered"}
        got: list[str] = []
        while True:
            if self.cursor is not None:
                params["after"] = self.cursor
            r = await self.client.get("/api/v1/events", params=params, headers=auth(self.token))
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["next_cursor"]
            self.cursor = body["next_cursor"]
            got += [e["data"]["applicant_id"] for e in body["items"]]
            if not body["items"]:
                self.seen += got
                return got


@pytest.fixture
async def world(fresh_database_url: str) -> AsyncIterator[tuple[Database, Poller]]:
    db = Database.from_url(fresh_database_url)
    async with db.sessionmaker() as s:
        token = await make_key(s, "admin")
        await s.commit()
    app = create_app(settings=Settings(database_url=fresh_database_url), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        poller = Poller(client, token)
        await poller.poll()
        yield db, poller
    await db.dispose()


async def _register(session: AsyncSession) -> str:
    return (await make_applicant(session)).id


async def test_an_older_transaction_committing_late_is_not_skipped(
    world: tuple[Database, Poller],
) -> None:
    db, poller = world
    async with db.sessionmaker() as a, db.sessionmaker() as b:
        first = await _register(a)  # the lower sequence number, still uncommitted
        second = await _register(b)
        await b.commit()
        # A sequence cursor would return `second` now and then skip `first`.
        assert await poller.poll() == []
        await a.commit()
    assert await poller.poll() == [first, second]


async def test_transaction_order_wins_over_insert_order(world: tuple[Database, Poller]) -> None:
    db, poller = world
    async with db.sessionmaker() as c, db.sessionmaker() as d:
        # c takes its transaction id first, then writes its event after d's.
        await c.execute(text("UPDATE centres SET name = name WHERE code = 'online'"))
        late = await _register(d)
        early = await _register(c)
        await d.commit()
        assert await poller.poll() == []
        await c.commit()
    assert await poller.poll() == [early, late]


async def test_many_writers_committing_in_random_order(world: tuple[Database, Poller]) -> None:
    db, poller = world
    rng = random.Random(19)
    written: list[str] = []
    done = asyncio.Event()

    async def writer(n: int) -> None:
        for _ in range(5):
            async with db.sessionmaker() as s:
                for _ in range(rng.randint(1, 3)):
                    written.append(await _register(s))
                    for _ in range(rng.randint(0, 3)):
                        await asyncio.sleep(0)
                await s.commit()

    async def follow() -> None:
        while True:
            finished = done.is_set()
            if not await poller.poll() and finished:
                return
            await asyncio.sleep(0)

    async def writers() -> None:
        await asyncio.gather(*(writer(n) for n in range(8)))
        done.set()

    await asyncio.wait_for(asyncio.gather(writers(), follow()), timeout=120)
    assert len(poller.seen) == len(set(poller.seen)), "an event was repeated"
    assert sorted(poller.seen) == sorted(written), "an event was skipped"
