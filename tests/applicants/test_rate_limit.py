"""Registration by client keys is rate limited by default: a partner app never meets the
limit, a script probing CNICs does. The buckets run on a controlled clock."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.config import Settings
from service.core.ratelimit import RateLimiter, limit_for
from service.models.enums import Role
from tests.applicants.helpers import register
from tests.factories import make_key

DEFAULT = Settings.model_fields["register_rate_limit_per_minute"].default


def test_the_default_limits_client_registrations_only() -> None:
    settings = Settings(register_rate_limit_per_minute=DEFAULT, rate_limit_per_minute=0)
    assert DEFAULT == 600
    assert limit_for(settings, "register", Role.client) == 600
    for role in (Role.staff, Role.admin):
        assert limit_for(settings, "register", role) == 0
    assert limit_for(settings, "enroll", Role.client) == 0
    # The general limit, when set, applies to every key; the lower one wins.
    both = settings.model_copy(update={"rate_limit_per_minute": 30})
    assert limit_for(both, "register", Role.client) == 30
    assert limit_for(both, "register", Role.staff) == 30
    off = settings.model_copy(update={"register_rate_limit_per_minute": 0})
    assert limit_for(off, "register", Role.client) == 0


def test_a_partner_app_at_campaign_peak_never_meets_it_a_probing_script_does() -> None:
    now = [0.0]
    limiter = RateLimiter(DEFAULT, clock=lambda: now[0])
    # A partner app at a national campaign's peak hour: 4 sign-ups a second for an
    # hour, plus a burst of 300 queued offline sign-ups sent at once every ten minutes.
    refused = 0
    for tick in range(4 * 3600):
        now[0] = tick / 4
        refused += limiter.take("partner", "register") > 0
        if tick % (4 * 600) == 0:
            refused += sum(limiter.take("partner", "register") > 0 for _ in range(300))
    assert refused == 0
    # A script probing CNICs as fast as the service answers one key (~500/s, the
    # register benchmark) gets through 600 at once and then 10 a second.
    now[0] = 10_000.0
    admitted = 0
    for i in range(500 * 60):
        now[0] = 10_000.0 + i / 500
        admitted += limiter.take("script", "register") == 0
    assert 1190 <= admitted <= 1201  # of 30,000 probes in that minute: 4 %


async def test_a_client_key_meets_the_default_limit_through_the_api(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    now = [0.0]
    app.state.rate_limit_clock = lambda: now[0]
    token = await make_key(session, "client")
    assert (await register(client, token)).status_code == 201
    limiter: RateLimiter = app.state.rate_limiters[f"register:{DEFAULT}"]
    [(key, action)] = limiter.buckets
    assert [limiter.take(key, action) for _ in range(DEFAULT - 1)] == [0.0] * (DEFAULT - 1)

    refused = await register(client, token)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["limit_per_minute"] == DEFAULT
    now[0] += 60 / DEFAULT  # one token later
    assert (await register(client, token)).status_code == 201
    # Another client has its own budget; staff and admin keys are not limited.
    assert (await register(client, await make_key(session, "client"))).status_code == 201
    for role in ("staff", "admin"):
        assert (await register(client, await make_key(session, role))).status_code == 201
    assert len(limiter.buckets) == 2
