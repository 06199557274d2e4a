"""The database goes away under a running dispatcher: it backs off, then resumes by itself."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from service.core.db import Database
from service.keys import create_key
from service.models import ApiKey, Webhook, WebhookDelivery
from service.webhooks.config import WebhookSettings
from service.webhooks.dispatcher import Dispatcher
from service.webhooks.signing import new_secret
from tests.events.receiver import receiver
from tests.factories import make_applicant
from tests.reliability.proxy import TcpProxy

pytestmark = pytest.mark.postgres_only


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for ``condition`` (the dispatcher task does the work), failing after a minute."""
    deadline = time.monotonic() + 60
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_dispatcher_survives_a_database_outage(fresh_database_url: str) -> None:
    real = make_url(fresh_database_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    direct = Database.from_url(fresh_database_url)
    through_proxy = Database.from_url(proxied)
    settings = WebhookSettings(webhook_allow_private=True, webhook_poll_seconds=0.05)
    dispatcher = Dispatcher(through_proxy, settings)
    stop = asyncio.Event()
    try:
        with receiver() as rx:
            async with direct.sessionmaker() as s:
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
            await asyncio.to_thread(proxy.cut)
            task = asyncio.create_task(dispatcher.run(stop))

            async def failing() -> bool:
                return dispatcher.failed_rounds >= 3

            await wait_for(failing, "rounds failing while the database is away")
            assert not task.done(), "the dispatcher died with the database"
            async with direct.sessionmaker() as s:
                ids = {(await make_applicant(s)).id for _ in range(5)}
                await s.commit()
            assert rx.received == []
            await asyncio.to_thread(proxy.restore)

            async def delivered() -> bool:
                async with direct.sessionmaker() as s:
                    done = await s.scalar(
                        select(func.count())
                        .select_from(WebhookDelivery)
                        .where(WebhookDelivery.status == "succeeded")
                    )
                return done == len(ids)

            await wait_for(delivered, "deliveries after the database came back")
            assert {json.loads(b)["data"]["applicant_id"] for b in rx.bodies()} == ids
            stop.set()
            await asyncio.wait_for(task, timeout=30)
    finally:
        stop.set()
        await dispatcher.close()
        await through_proxy.dispose()
        await direct.dispose()
        proxy.stop()
