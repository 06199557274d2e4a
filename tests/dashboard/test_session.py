"""Signing in and out: cookie flags, expiry, tampering, revocation, roles, CSRF."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.dashboard import config
from service.dashboard import session as cookies
from service.dashboard.config import DashboardSettings
from service.models import ApiKey, DashboardSession
from service.models.base import utcnow
from tests.dashboard.conftest import SECRET
from tests.dashboard.helpers import ORIGIN, cookie_attributes, session_cookie, sign_in
from tests.factories import make_key

CSP = "default-src 'none'"


async def test_unauthenticated_dashboard_redirects_to_login(client: httpx.AsyncClient) -> None:
    r = await client.get("/dashboard")
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard/login"
    assert "set-cookie" not in r.headers


async def test_login_form(client: httpx.AsyncClient) -> None:
    r = await client.get("/dashboard/login")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"].startswith(CSP)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["referrer-policy"] == "same-origin"
    assert 'name="api_key"' in r.text
    assert 'action="/dashboard/login"' in r.text
    assert "<script" not in r.text


@pytest.mark.parametrize("token", ["enr_not-a-key", "", "   "])
async def test_bad_key_is_401_with_the_form(client: httpx.AsyncClient, token: str) -> None:
    r = await sign_in(client, token)
    assert r.status_code == 401
    assert 'name="api_key"' in r.text
    assert "unknown or has been revoked" in r.text
    assert "set-cookie" not in r.headers


async def test_client_key_is_refused(client: httpx.AsyncClient, session: AsyncSession) -> None:
    r = await sign_in(client, await make_key(session, "client"))
    assert r.status_code == 403
    assert 'name="api_key"' in r.text
    assert "A client key cannot open the dashboard" in r.text
    assert "set-cookie" not in r.headers
    assert (await client.get("/dashboard")).status_code == 303


@pytest.mark.parametrize("role", ["reporter", "staff", "admin"])
async def test_sign_in_sets_a_strict_httponly_expiring_cookie(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    r = await sign_in(client, await make_key(session, role))
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard"
    header = session_cookie(r)
    attrs = cookie_attributes(header)
    assert "httponly" in attrs
    assert attrs["samesite"].lower() == "strict"
    assert attrs["path"] == "/dashboard"
    assert attrs["max-age"] == str(8 * 3600)
    assert "secure" not in attrs  # plain HTTP here
    # The cookie carries a key id and an expiry, never the token.
    value = header.split(";", 1)[0].split("=", 1)[1]
    claim = cookies.read(SECRET, value)
    assert claim is not None
    row = await session.get(DashboardSession, claim.session_id)
    assert row is not None
    assert row.expires_at.timestamp() == claim.expires_at
    key = await session.get(ApiKey, row.api_key_id)
    assert key is not None
    assert key.role == role
    assert abs(claim.expires_at - (time.time() + 8 * 3600)) < 120
    page = await client.get("/dashboard")
    assert page.status_code == 200, page.text
    assert key.name in page.text


async def test_cookie_is_secure_over_https(app: FastAPI, session: AsyncSession) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as c:
        r = await c.post(
            "/dashboard/login",
            data={"api_key": await make_key(session, "reporter")},
            headers={"Origin": "https://test"},
        )
        assert r.status_code == 303
        assert "secure" in cookie_attributes(session_cookie(r))
        assert (await c.get("/dashboard")).status_code == 200


async def test_session_hours_setting(
    client: httpx.AsyncClient, session: AsyncSession, dashboard_settings: DashboardSettings
) -> None:
    dashboard_settings.dashboard_session_hours = 0.5
    r = await sign_in(client, await make_key(session, "reporter"))
    assert cookie_attributes(session_cookie(r))["max-age"] == "1800"


async def _rejected(client: httpx.AsyncClient, value: str) -> None:
    client.cookies.clear()
    r = await client.get("/dashboard", headers={"Cookie": f"{cookies.COOKIE_NAME}={value}"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/dashboard/login"
    # The bad cookie is cleared.
    assert "max-age=0" in session_cookie(r).lower()


async def test_tampered_forged_or_expired_cookies_are_rejected(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    reporter = await make_key(session, "reporter")
    admin_id = await session.scalar(select(ApiKey.id).where(ApiKey.role == "admin").limit(1))
    if admin_id is None:
        await make_key(session, "admin")
        admin_id = await session.scalar(select(ApiKey.id).where(ApiKey.role == "admin"))
    assert admin_id is not None
    r = await sign_in(client, reporter)
    good = session_cookie(r).split(";", 1)[0].split("=", 1)[1]
    payload, _, signature = good.rpartition(".")
    # One character of the signature changed
    # (The first: the last base64 character also carries padding bits.)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    await _rejected(client, f"{payload}.{flipped}")
    # The payload swapped for another key's, the old signature kept.
    claim = cookies.read(SECRET, good)
    assert claim is not None
    other = URLSafeTimedSerializer(SECRET, salt="x").dumps({"s": claim.session_id, "e": 2**40})
    await _rejected(client, other.rsplit(".", 2)[0] + good[len(good.rsplit(".", 2)[0]) :])
    # Signed with another secret.
    await _rejected(client, cookies.issue("not-the-secret", claim.session_id, 2**40))
    # Validly signed but expired.
    await _rejected(client, cookies.issue(SECRET, claim.session_id, int(time.time()) - 3600))
    # Validly signed, unexpired, but naming no session on the server (as after sign-out).
    await _rejected(client, cookies.issue(SECRET, admin_id, 2**40))
    # Garbage.
    await _rejected(client, "not-a-cookie")
    # The genuine cookie still works.
    r = await client.get("/dashboard", headers={"Cookie": f"{cookies.COOKIE_NAME}={good}"})
    assert r.status_code == 200


def test_read_rejects_wrong_shapes() -> None:
    s = URLSafeTimedSerializer(SECRET, salt=cookies._SALT)
    assert cookies.read(SECRET, s.dumps(["s", 1])) is None
    assert cookies.read(SECRET, s.dumps({"s": 1, "e": 2**40})) is None
    assert cookies.read(SECRET, s.dumps({"s": "x", "e": "never"})) is None
    assert cookies.read(SECRET, s.dumps({"s": "x", "e": True})) is None
    assert cookies.read(SECRET, s.dumps({"k": "x", "e": 2**40})) is None  # a v1 cookie's shape
    assert cookies.read(SECRET, "x" * 2000) is None
    assert cookies.read(SECRET, None) is None
    assert cookies.read(SECRET, s.dumps({"s": "x", "e": 2**40})) is not None


async def test_revoking_the_key_ends_the_session(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await sign_in(client, await make_key(session, "staff"))
    assert (await client.get("/dashboard")).status_code == 200
    await session.execute(update(ApiKey).where(ApiKey.role == "staff").values(revoked_at=utcnow()))
    r = await client.get("/dashboard")
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard/login"


async def test_logout_clears_the_cookie(client: httpx.AsyncClient, session: AsyncSession) -> None:
    old = session_cookie(await sign_in(client, await make_key(session, "reporter")))
    old_value = old.split(";", 1)[0].split("=", 1)[1]
    assert (await client.get("/dashboard")).status_code == 200
    r = await client.post("/dashboard/logout", headers={"Origin": ORIGIN})
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard/login"
    attrs = cookie_attributes(session_cookie(r))
    assert attrs["max-age"] == "0"
    assert "httponly" in attrs
    assert attrs["samesite"].lower() == "strict"
    assert (await client.get("/dashboard")).status_code == 303
    # A copy of the old cookie (kept by a browser that ignored the clearing, or stolen)
    # no longer opens the dashboard: the session ended on the server.
    client.cookies.clear()
    r = await client.get("/dashboard", headers={"Cookie": f"{cookies.COOKIE_NAME}={old_value}"})
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard/login"
    assert "max-age=0" in session_cookie(r).lower()
    claim = cookies.read(SECRET, old_value)
    assert claim is not None
    assert await session.get(DashboardSession, claim.session_id) is None


async def test_other_sessions_survive_one_sign_out(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Sign-out ends that browser's session, not every session of the key."""
    token = await make_key(session, "staff")
    await sign_in(client, token)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as other:
        await sign_in(other, token)
        r = await client.post("/dashboard/logout", headers={"Origin": ORIGIN})
        assert r.status_code == 303
        assert (await client.get("/dashboard")).status_code == 303
        assert (await other.get("/dashboard")).status_code == 200


async def test_signed_in_login_page_redirects(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await sign_in(client, await make_key(session, "reporter"))
    r = await client.get("/dashboard/login")
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard"


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "https://test"])
async def test_cross_origin_posts_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, origin: str
) -> None:
    r = await client.post(
        "/dashboard/login",
        data={"api_key": await make_key(session, "reporter")},
        headers={"Origin": origin},
    )
    assert r.status_code == 403
    assert r.json()["title"] == "Forbidden"
    assert "set-cookie" not in r.headers
    r = await client.post("/dashboard/logout", headers={"Origin": origin})
    assert r.status_code == 403


async def test_posts_without_origin_are_checked_by_referer(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    for headers in (
        {},
        {"Referer": "http://evil.example/dashboard/login"},
        {"Referer": "http://test.evil.example/dashboard/login"},
        {"Referer": "https://test/dashboard/login"},
        {"Referer": "/dashboard/login"},
    ):
        r = await client.post("/dashboard/login", data={"api_key": token}, headers=headers)
        assert r.status_code == 403, headers
        assert "set-cookie" not in r.headers
        r = await client.post("/dashboard/logout", headers=headers)
        assert r.status_code == 403, headers
    r = await client.post(
        "/dashboard/login",
        data={"api_key": token},
        headers={"Referer": f"{ORIGIN}/dashboard/login"},
    )
    assert r.status_code == 303
    r = await client.post("/dashboard/logout", headers={"Referer": f"{ORIGIN}/dashboard"})
    assert r.status_code == 303


def test_unset_secret_key_warns_and_generates_one(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("ENROLL_SECRET_KEY", raising=False)
    monkeypatch.setattr(
        DashboardSettings, "model_config", {**DashboardSettings.model_config, "env_file": None}
    )
    config.get_dashboard_settings.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="service.dashboard.config"):
            first = config.get_dashboard_settings()
        assert len(first.secret_key) >= 32
        assert "ENROLL_SECRET_KEY is not set" in caplog.text
        assert "restart" in caplog.text
        assert config.get_dashboard_settings().secret_key == first.secret_key  # per process
        monkeypatch.setenv("ENROLL_SECRET_KEY", "short")
        config.get_dashboard_settings.cache_clear()
        with pytest.raises(ValueError, match="at least 32 bytes"):
            config.get_dashboard_settings()
        monkeypatch.setenv("ENROLL_SECRET_KEY", "from-the-environment-" + "x" * 11)
        monkeypatch.setenv("ENROLL_DASHBOARD_SESSION_HOURS", "2")
        monkeypatch.setenv("ENROLL_PUBLIC_DASHBOARD", "true")
        config.get_dashboard_settings.cache_clear()
        configured = config.get_dashboard_settings()
        assert configured.secret_key == "from-the-environment-" + "x" * 11
        assert configured.dashboard_session_hours == 2
        assert configured.public_dashboard is True
    finally:
        config.get_dashboard_settings.cache_clear()
