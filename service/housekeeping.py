"""Housekeeping: delete what is kept only for a while, on a schedule.

- ``Idempotency-Key`` records past ``ENROLL_IDEMPOTENCY_TTL_HOURS`` (their stored
  answers carry personal data that nobody may replay any more);
- dashboard sessions whose cookie has expired.

``purge`` is one pass, for whatever runs it (today the periodic task that every
``serve`` process starts in its lifespan; a background worker can call the same
function). ``run_periodically`` takes its clock and its sleep as arguments so
tests drive it without waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from service.core.db import Database
from service.core.idempotency import purge_expired
from service.dashboard.repository import purge_expired_sessions
from service.models.base import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    idempotency_records: int
    dashboard_sessions: int


async def purge(db: Database, *, idempotency_ttl_hours: int, now: datetime | None = None) -> Purged:
    """Delete expired idempotency records and dashboard sessions, in one transaction."""
    at = now or utcnow()
    async with db.sessionmaker() as session, session.begin():
        records = await purge_expired(session, ttl_hours=idempotency_ttl_hours, now=at)
        sessions = await purge_expired_sessions(session, now=at)
    purged = Purged(idempotency_records=records, dashboard_sessions=sessions)
    if records or sessions:
        logger.info(
            "purged expired records",
            extra={"idempotency_records": records, "dashboard_sessions": sessions},
        )
    return purged


async def run_periodically(
    task: Callable[[], Awaitable[object]],
    *,
    interval: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run ``task`` now and then every ``interval`` seconds until cancelled.

    A failing pass (the database down, say) is logged and tried again next time.
    """
    while True:
        try:
            await task()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("housekeeping pass failed; trying again in %s s", interval)
        await sleep(interval)
