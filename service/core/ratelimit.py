"""Per-key rate limits on the write endpoints that partner apps call in bulk.

A token bucket per (API key, limited action), kept in process memory: each
bucket holds up to the action's limit of tokens and refills at that many per
minute; a request takes one token or is refused with 429 and a
``Retry-After`` saying when the next token arrives.

The limit of an action is the lower of ``ENROLL_RATE_LIMIT_PER_MINUTE`` (every
key and limited action; ``0``, the default, is off) and the action's own
setting: ``ENROLL_REGISTER_RATE_LIMIT_PER_MINUTE`` (default 600; ``0`` is off)
for registrations by client keys. That one is on by default because a partner
app registering people never needs more, while a script probing CNICs (a 409,
or a link, tells it a CNIC is registered) does; staff and admin keys may read
every applicant anyway, and bulk work goes through the CSV import. Tests
control the buckets' clock with ``app.state.rate_limit_clock``.

The state is per server process and safe to lose (a restart only forgets how
much of their budget callers used). With N worker processes a caller whose
requests are spread over all of them may get up to N times the configured
rate; the limit is there to stop a runaway client, not to meter it exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from service.core.auth import Actor, get_actor
from service.core.config import Settings
from service.core.errors import ServiceError
from service.core.i18n import msg
from service.models.enums import Role

# Buckets are pruned (full ones dropped) once there are this many.
MAX_BUCKETS = 10_000


class RateLimited(ServiceError):
    status, title, slug = 429, "Too many requests", "rate-limited"

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(
            msg(
                "rate_limit.reached",
                "Rate limit of {limit} requests per minute for this key reached; "
                "retry in {seconds} s.",
                limit=limit,
                seconds=retry_after,
            ),
            extra={"limit_per_minute": limit},
            headers={"Retry-After": str(retry_after)},
        )


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """Token buckets for one process. Not thread-safe; one event loop uses it."""

    per_minute: int
    clock: Any = time.monotonic
    buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def _refill(self, bucket: _Bucket, now: float) -> None:
        rate = self.per_minute / 60.0
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now

    def take(self, key: str, action: str) -> float:
        """Take one token; return 0 when allowed, else the seconds until a token is due."""
        now = float(self.clock())
        bucket = self.buckets.get((key, action))
        if bucket is None:
            if len(self.buckets) >= MAX_BUCKETS:
                self._prune(now)
            bucket = self.buckets[(key, action)] = _Bucket(float(self.per_minute), now)
        self._refill(bucket, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) * 60.0 / self.per_minute

    def _prune(self, now: float) -> None:
        for name, bucket in list(self.buckets.items()):
            self._refill(bucket, now)
            if bucket.tokens >= self.per_minute:
                del self.buckets[name]


def limit_for(settings: Settings, action: str, role: Role) -> int:
    """Requests per minute a key of ``role`` may make of ``action``; 0 when not limited."""
    own = 0
    if action == "register" and role is Role.client:
        own = settings.register_rate_limit_per_minute
    limits = [n for n in (settings.rate_limit_per_minute, own) if n > 0]
    return min(limits, default=0)


def _limiter(request: Request, action: str, role: Role) -> RateLimiter | None:
    per_minute = limit_for(request.app.state.settings, action, role)
    if per_minute <= 0:
        return None
    state = request.app.state
    limiters: dict[str, RateLimiter] | None = getattr(state, "rate_limiters", None)
    if limiters is None:
        limiters = state.rate_limiters = {}
    # One set of buckets per limit (buckets are keyed by API key and action).
    limiter = limiters.get(f"{action}:{per_minute}")
    if limiter is None:
        clock = getattr(state, "rate_limit_clock", None) or time.monotonic
        limiter = limiters[f"{action}:{per_minute}"] = RateLimiter(per_minute, clock=clock)
    return limiter


def rate_limit(action: str) -> Any:
    """A route dependency: ``dependencies=[rate_limit("register")]``; declare 429 too."""

    async def check(request: Request, actor: Annotated[Actor, Depends(get_actor)]) -> None:
        limiter = _limiter(request, action, actor.role)
        if limiter is None:
            return
        wait = limiter.take(actor.key_id, action)
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)), limiter.per_minute)

    return Depends(check)
