"""Running the dispatcher: inside each `serve` process, or as `python -m service worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from service.core.db import Database
from service.webhooks.config import WebhookSettings, get_webhook_settings
from service.webhooks.dispatcher import Dispatcher

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def background_dispatcher(
    db: Database, *, enabled: bool, settings: WebhookSettings | None = None
) -> AsyncIterator[Dispatcher | None]:
    """A dispatcher task for the app's lifetime (unless ``ENROLL_DISPATCHER=off``).

    On shutdown the attempts in flight finish (at most the delivery timeout)
    and the leases left are released.
    """
    settings = settings or get_webhook_settings()
    if not enabled or settings.dispatcher == "off":
        yield None
        return
    dispatcher = Dispatcher(db, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop), name="webhook-dispatcher")
    try:
        yield dispatcher
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=settings.webhook_timeout_seconds + 5)
        except TimeoutError:
            logger.warning("dispatcher: stopped with attempts in flight; their leases run out")
        await dispatcher.close()


async def run_worker(db: Database, settings: WebhookSettings | None = None) -> None:
    """A standalone dispatcher until SIGTERM or SIGINT (any number may run at once)."""
    settings = settings or get_webhook_settings()
    dispatcher = Dispatcher(db, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logger.info("worker %s: delivering webhooks", dispatcher.name)
    try:
        await dispatcher.run(stop)
    finally:
        await dispatcher.close()
