"""Per-key rate limits on the write endpoints that partner apps call in bulk.

A token bucket per (API key, limited action), kept in process memory: each
bucket holds up to ``ENROLL_RATE_LIMIT_PER_MINUTE`` tokens and refills at that
many per minute; a request takes one token or is refused with 429 and a
``Retry-After`` saying when the next token arrives. ``0`` (the default) turns
the limit off.

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
from service.core.errors import ServiceError

# Buckets are pruned (full ones dropped) once there are this many.
MAX_BUCKETS = 10_000


class RateLimited(ServiceError):
    status, title, slug = 429, "Too many requests", "rate-limited"

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(
            f"Rate limit of {limit} requests per minute for this key reached; "
            f"retry in {retry_after} s.",
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


def _limiter(request: Request) -> RateLimiter | None:
    per_minute: int = request.app.state.settings.rate_limit_per_minute
    if per_minute <= 0:
        return None
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None or limiter.per_minute != per_minute:
        limiter = RateLimiter(per_minute)
        request.app.state.rate_limiter = limiter
    return limiter


def rate_limit(action: str) -> Any:
    """A route dependency: ``dependencies=[rate_limit("register")]``; declare 429 too."""

    async def check(request: Request, actor: Annotated[Actor, Depends(get_actor)]) -> None:
        limiter = _limiter(request)
        if limiter is None:
            return
        wait = limiter.take(actor.key_id, action)
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)), limiter.per_minute)

    return Depends(check)
