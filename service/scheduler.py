"""Work that runs on time, not on a request: the jobs every dispatcher round runs once.

A job is ``async def job(db, now) -> int``: it materialises what is due at
``now`` (offer expiries, follow-up windows opening, …) in bounded batches and
returns how many things it did, so the dispatcher keeps working while a job
has more to do. Jobs must be cheap when nothing is due (one indexed query) and
safe with any number of dispatchers running them at once (row locks with
``SKIP LOCKED``, or idempotent writes). Reads never wait for a job: the rule a
job materialises is applied by every read and write from the instant it is due.

Register a job by adding it to ``JOBS`` below.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from service.core.clock import Clock
from service.core.db import Database
from service.outcomes.due import emit_due as outcomes_due
from service.seats.sweep import expire_offers, release_pools

logger = logging.getLogger(__name__)

Job = Callable[[Database, datetime], Awaitable[int]]

JOBS: list[tuple[str, Job]] = [
    ("offer_expiries", expire_offers),
    ("pool_releases", release_pools),
    ("outcome.due", outcomes_due),
]


async def run_jobs(db: Database, clock: Clock, jobs: list[tuple[str, Job]] | None = None) -> int:
    """Run every job once at the clock's ``now``; the total of what they did."""
    done = 0
    now = clock.now()
    for name, job in JOBS if jobs is None else jobs:
        count = await job(db, now)
        if count:
            logger.info("scheduler: %s did %d", name, count)
        done += count
    return done
