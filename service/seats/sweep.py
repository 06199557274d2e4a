"""The offer-expiry sweep (and the pool releases): scheduler jobs that materialise
expired offers and released reserved-seat pools.

Every read and write already treats an offer as expired from its
``offer_expires_at`` (``service.seats.service``); this job only writes it down
for cohorts nobody touches, and makes the next offers, so such a cohort still
moves. It works in bounded batches, one cohort and at most ``EXPIRY_BATCH``
offers per transaction, so it holds a cohort's lock briefly; it takes the
cohort's lock with ``SKIP LOCKED`` (a cohort a request or another dispatcher
is working on is left to them, or to the next round), cohort row before
enrollment rows as everywhere else. Any number of dispatchers may run it.
"""

from __future__ import annotations

from datetime import datetime

from service.core.db import Database
from service.seats import pool_repository, repository
from service.seats.service import EXPIRY_BATCH, expire_due, release_due

# Cohorts one run visits at most; the dispatcher runs the job again while it has work.
COHORTS_PER_RUN = 50


async def expire_offers(db: Database, now: datetime, *, batch: int = EXPIRY_BATCH) -> int:
    """Materialise offers expired at ``now`` in bounded batches; how many expired."""
    async with db.sessionmaker() as session:
        cohort_ids = await repository.cohorts_with_due_offers(session, now, batch)
    done = 0
    for cohort_id in cohort_ids[:COHORTS_PER_RUN]:
        async with db.sessionmaker() as session, session.begin():
            cohort = await repository.try_lock(session, cohort_id)
            if cohort is not None:
                done += await expire_due(session, cohort, now, limit=batch)
    return done


async def release_pools(db: Database, now: datetime) -> int:
    """Materialise reserved-seat pool releases due at ``now`` (``pools.released``): the
    unfilled seats become open seats and go to the waitlist at once. One cohort per
    transaction, taken with ``SKIP LOCKED``; how many cohorts released pools."""
    async with db.sessionmaker() as session:
        cohort_ids = await pool_repository.cohorts_with_due_releases(
            session, now.date(), COHORTS_PER_RUN
        )
    done = 0
    for cohort_id in cohort_ids:
        async with db.sessionmaker() as session, session.begin():
            cohort = await repository.try_lock(session, cohort_id)
            if cohort is not None:
                done += await release_due(session, cohort, now)
    return done
