"""Bring a seeded bench database to the steady state a running service keeps.

A database seeded by COPY has its time-based work still to do: follow-up
windows that opened long ago (``outcome.due``), offers already expired. A
server's dispatcher would catch up on that in its first minutes, competing
with whatever is being measured. Read scenarios measure the steady state, so
they run the scheduler's jobs to completion first (``drain``) and report how
long the catch-up took, a figure of its own (what a deployment sees once,
after a migration or an import of old completions).
"""

from __future__ import annotations

import asyncio
import time

from bench import harness


async def _drain(database: str) -> tuple[int, float]:
    from service.core.clock import SystemClock
    from service.core.db import Database
    from service.scheduler import run_jobs

    db = Database.from_url(harness.sqlalchemy_url(database))
    t0 = time.monotonic()
    done = 0
    try:
        while (did := await run_jobs(db, SystemClock())) > 0:
            done += did
    finally:
        await db.dispose()
    return done, time.monotonic() - t0


def drain(database: str) -> dict[str, float]:
    """Run every scheduler job until none has work; what they did and how long it took."""
    done, seconds = asyncio.run(_drain(database))
    return {"catch_up_jobs_done": done, "catch_up_s": round(seconds, 2)}
