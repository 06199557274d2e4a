"""The dispatcher: turns events into deliveries and makes the attempts.

One way to claim work: a delivery is leased to one dispatcher (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, the write lock on SQLite) until ``leased_until``; a
dispatcher that dies leaves its leases to run out, and another takes the
attempts over. One clock (``service.core.clock``) decides what is due, so tests
move time by hand. Delivery is at least once: a result is recorded only after
the receiver answered, and only while the lease is still held.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

from service.core.clock import Clock, SystemClock
from service.core.db import Database
from service.events import repository as events_repo
from service.events.schemas import ChangeEvent
from service.events.service import filters
from service.events.visibility import present
from service.scheduler import run_jobs
from service.webhooks import metrics, repository, signing
from service.webhooks.config import WebhookSettings
from service.webhooks.repository import Owner
from service.webhooks.urls import guarded_client, shape_error

logger = logging.getLogger(__name__)

FANOUT_BATCH = 1000
FAILING_DISABLES_AFTER = timedelta(days=5)
JITTER = 0.1  # each retry delay is moved by up to ±10 %
MAX_BACKOFF_SECONDS = 30.0
PRUNE_EVERY_SECONDS = 300.0
PRUNE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Dispatcher:
    def __init__(
        self,
        db: Database,
        settings: WebhookSettings | None = None,
        *,
        clock: Clock | None = None,
        name: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or WebhookSettings()
        self.clock = clock or SystemClock()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.rng = rng or random.Random()  # noqa: S311 - retry jitter, not a secret
        self.schedule = self.settings.retry_schedule()
        self.client: httpx.AsyncClient = guarded_client(
            allow_private=self.settings.webhook_allow_private,
            timeout=self.settings.webhook_timeout_seconds,
            max_connections=max(self.settings.webhook_batch_size, 10),
        )
        self._per_endpoint: dict[str, asyncio.Semaphore] = {}
        self.failed_rounds = 0  # rounds lost to a database outage (observability, tests)
        self._last_prune = 0.0

    async def close(self) -> None:
        await self.client.aclose()

    # --- one round -----------------------------------------------------------------

    async def run_once(self) -> int:
        """Run the scheduled jobs, fan new events out to endpoints, attempt every due delivery."""
        scheduled = await run_jobs(self.db, self.clock)
        queued = await self.fan_out()
        attempted = await self.deliver_due()
        return scheduled + queued + attempted

    async def fan_out(self) -> int:
        """Queue a delivery per (final event, endpoint that subscribes and may see it)."""
        async with self.db.sessionmaker() as session:
            bound = await events_repo.horizon(session)
            state = await repository.lock_fanout(session)
            if state is None:  # another dispatcher is fanning out
                return 0
            start = (state.after_xid, state.after_seq)
            batch = await events_repo.page(session, bound, start, [], FANOUT_BATCH)
            if not batch:
                await session.rollback()
                return 0
            end = (int(batch[-1].xid), int(batch[-1].seq))
            endpoints = await repository.enabled_endpoints(session)
            owners = await repository.owners(session, [e.api_key_id for e in endpoints])
            now = self.clock.now()
            queued = 0
            for endpoint in endpoints:
                owner = owners.get(endpoint.api_key_id)
                if owner is None:  # the key was revoked
                    continue
                where = [
                    events_repo.up_to(end),
                    # An endpoint gets what happens from its creation on (replay: earlier).
                    events_repo.occurred_since(endpoint.created_at),
                    *filters(owner.actor, json.loads(endpoint.events)),
                ]
                rows = await events_repo.page(session, bound, start, where, FANOUT_BATCH)
                queued += await repository.queue(session, endpoint.id, [r.seq for r in rows], now)
            state.after_xid, state.after_seq = end
            await session.commit()
        metrics.EVENTS_FANNED_OUT.inc(len(batch))
        return queued

    async def deliver_due(self) -> int:
        now = self.clock.now()
        async with self.db.sessionmaker() as session:
            rows = await repository.claim(
                session,
                worker=self.name,
                now=now,
                lease=self.settings.webhook_lease_seconds,
                limit=self.settings.webhook_batch_size,
            )
            owners = await repository.owners(session, [r.api_key_id for r in rows])
            await session.commit()
        if not rows:
            return 0
        outcomes = await asyncio.gather(*(self._attempt(r, owners.get(r.api_key_id)) for r in rows))
        await self._record(rows, outcomes)
        return len(rows)

    # --- one attempt -----------------------------------------------------------------

    async def _attempt(self, row: Any, owner: Owner | None) -> Outcome:
        if owner is None:
            return Outcome(None, "the endpoint's API key is revoked")
        error = shape_error(row.url, allow_private=self.settings.webhook_allow_private)
        if error:
            return Outcome(None, f"url: {error}")
        event = present(
            id_=row.event_id,
            type_=row.type,
            occurred_at=row.occurred_at,
            data=row.data,
            actor=owner.actor,
            pseudonyms=owner.pseudonyms,
        )
        body = ChangeEvent.model_validate(event).model_dump_json().encode()
        at = self.clock.now()
        live = [row.secret]
        expires = row.previous_secret_expires_at
        if row.previous_secret and expires is not None and expires > at:
            live.append(row.previous_secret)
        headers = signing.headers(row.event_id, at, body, live)
        headers["content-type"] = "application/json"
        semaphore = self._per_endpoint.setdefault(
            row.webhook_id, asyncio.Semaphore(self.settings.webhook_concurrency_per_endpoint)
        )
        timeout = self.settings.webhook_timeout_seconds
        async with semaphore:
            try:
                async with asyncio.timeout(timeout):
                    response = await self.client.post(row.url, content=body, headers=headers)
            except TimeoutError:
                return Outcome(None, f"no answer within {timeout:g} s")
            except httpx.HTTPError as exc:
                return Outcome(None, f"{type(exc).__name__}: {exc}"[:300])
        code = response.status_code
        if 300 <= code < 400:
            return Outcome(code, f"redirect ({code}) not followed")
        if 200 <= code < 300:
            return Outcome(code, None)
        return Outcome(code, f"HTTP {code}", _retry_after(response, self.clock))

    async def _record(self, rows: Sequence[Any], outcomes: Sequence[Outcome]) -> None:
        now = self.clock.now()
        async with self.db.sessionmaker() as session:
            # Successes, the common case, in one statement per status code; then each
            # failure on its own (its next attempt and the endpoint's failing run).
            succeeded: dict[int, list[Any]] = {}
            for row, outcome in zip(rows, outcomes, strict=True):
                if outcome.ok and outcome.status_code is not None:
                    succeeded.setdefault(outcome.status_code, []).append(row)
            for code, group in succeeded.items():
                done = set(
                    await repository.succeed(session, [r.id for r in group], self.name, code, now)
                )
                for webhook_id in {r.webhook_id for r in group if r.id in done}:
                    await repository.mark_success(session, webhook_id)
                metrics.DELIVERIES.labels("succeeded").inc(len(done))
            for row, outcome in zip(rows, outcomes, strict=True):
                if outcome.ok:
                    continue
                attempts = row.attempts + 1
                values: dict[str, Any] = {
                    "attempts": attempts,
                    "last_status_code": outcome.status_code,
                    "last_error": outcome.error,
                    "updated_at": now,
                }
                gone = outcome.status_code == 410
                if gone or attempts > len(self.schedule):
                    values |= {"status": "failed", "next_attempt_at": None}
                else:
                    delay = self._delay(attempts, outcome.retry_after)
                    values |= {"next_attempt_at": now + timedelta(seconds=delay)}
                if not await repository.finish(session, row.id, self.name, values):
                    continue  # the lease ran out and another dispatcher owns it now
                await repository.mark_failure(
                    session,
                    row.webhook_id,
                    now,
                    disable_reason="the receiver answered 410 Gone" if gone else None,
                    failing_for=FAILING_DISABLES_AFTER,
                )
                metrics.ENDPOINT_FAILURES.labels(row.webhook_id).inc()
                metrics.DELIVERIES.labels(values.get("status", "retry")).inc()
            await session.commit()

    def _delay(self, attempts: int, retry_after: float | None) -> float:
        base = self.schedule[attempts - 1]
        delay = base * (1 + self.rng.uniform(-JITTER, JITTER))
        return max(delay, retry_after or 0.0)

    # --- the loop -------------------------------------------------------------------

    async def prune(self) -> int:
        """Retention, one bounded batch: finished deliveries and (when configured) events."""
        now = self.clock.now()
        days = self.settings.delivery_retention_days
        event_days = self.settings.event_retention_days
        async with self.db.sessionmaker() as session:
            state = await repository.lock_fanout(session)
            if state is None:
                return 0
            removed = await repository.prune(
                session,
                deliveries_before=now - timedelta(days=days) if days > 0 else None,
                events_before=now - timedelta(days=event_days) if event_days else None,
                fanned_out=(state.after_xid, state.after_seq),
                batch=PRUNE_BATCH,
            )
            await session.commit()
        return removed

    async def release(self) -> None:
        async with self.db.sessionmaker() as session:
            await repository.release(session, self.name)
            await session.commit()

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: work while there is work, poll when idle, back off on outages.

        On stop the attempts in flight finish and are recorded; leases left are released.
        """
        poll = self.settings.webhook_poll_seconds
        wait = poll
        while not stop.is_set():
            done = 0
            try:
                done = await self.run_once()
                if time.monotonic() - self._last_prune > PRUNE_EVERY_SECONDS:
                    self._last_prune = time.monotonic()
                    await self.prune()
                await self._observe()
                wait = poll
            except (SQLAlchemyError, OSError) as exc:
                self.failed_rounds += 1
                metrics.DISPATCHER_OUTAGES.inc()
                logger.warning(
                    "dispatcher: database unavailable (%s); retrying", type(exc).__name__
                )
                wait = min(max(wait * 2, poll), MAX_BACKOFF_SECONDS)
            if done == 0 or wait > poll:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
        try:
            await self.release()
        except (SQLAlchemyError, OSError):
            logger.warning("dispatcher: could not release leases; they run out by themselves")

    async def _observe(self) -> None:
        async with self.db.sessionmaker() as session:
            oldest = await repository.oldest_pending(session)
        age = 0.0 if oldest is None else (self.clock.now() - oldest).total_seconds()
        metrics.OLDEST_PENDING.set(max(age, 0.0))


def _retry_after(response: httpx.Response, clock: Clock) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), when the receiver sent one."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - clock.now()).total_seconds(), 0.0)
