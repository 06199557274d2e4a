"""Dispatcher processes on PostgreSQL: SIGKILL one in the middle of a batch; the others
take its claims over when the leases run out, and every event arrives at least once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from service.core.db import Database
from service.keys import create_key
from service.models import ApiKey, Webhook, WebhookDelivery
from service.webhooks.signing import new_secret
from tests.events.receiver import Receiver, receiver
from tests.factories import make_applicant

pytestmark = pytest.mark.postgres_only

EVENTS = 60


@contextmanager
def worker(url: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "ENROLL_DATABASE_URL": url,
        "ENROLL_WEBHOOK_ALLOW_PRIVATE": "true",
        "ENROLL_WEBHOOK_LEASE_SECONDS": "2",
        "ENROLL_WEBHOOK_POLL_SECONDS": "0.1",
        "ENROLL_WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1",
        "ENROLL_WEBHOOK_BATCH_SIZE": "25",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def until(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    """Wait for ``condition`` (a real process does the work), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def received_ids(rx: Receiver) -> set[str]:
    return {json.loads(b)["data"]["applicant_id"] for b in rx.bodies()}


async def test_sigkill_mid_batch_loses_nothing(fresh_database_url: str) -> None:
    url = fresh_database_url
    db = Database.from_url(url)
    try:
        with receiver(mode="hang") as rx:
            async with db.sessionmaker() as s:
                await create_key(s, role="admin", name="partner")
                key_id = await s.scalar(select(ApiKey.id).where(ApiKey.name == "partner"))
                assert key_id is not None
                s.add(
                    Webhook(
                        api_key_id=key_id,
                        url=rx.url,
                        events='["applicant.registered"]',
                        enabled=True,
                        secret=new_secret(),
                    )
                )
                await s.commit()
                ids = {(await make_applicant(s)).id for _ in range(EVENTS)}
                await s.commit()
            with worker(url) as first:
                # The first dispatcher claims a batch; every attempt hangs in the receiver.
                await asyncio.to_thread(until, lambda: len(rx.received) >= 5, "a batch in flight")
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
            rx.mode = "answer"
            rx.release.set()
            with worker(url), worker(url):
                await asyncio.to_thread(
                    until, lambda: received_ids(rx) >= ids, "every event at least once"
                )
                await asyncio.to_thread(until, lambda: _all_succeeded(url), "deliveries recorded")
        assert received_ids(rx) == ids
    finally:
        await db.dispose()


def _all_succeeded(url: str) -> bool:
    async def check() -> bool:
        db = Database.from_url(url)
        try:
            async with db.sessionmaker() as s:
                rows = await s.execute(
                    select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
                )
                counts = {status: int(n) for status, n in rows}
        finally:
            await db.dispose()
        return counts == {"succeeded": EVENTS}

    return asyncio.run(check())
