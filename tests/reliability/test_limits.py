"""Timeouts, rate limits and the error mapping that keeps a slow or absent database a 503."""

from __future__ import annotations

import asyncio
import re
import socket

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.config import Settings
from service.core.db import Database, SessionDep
from service.core.errors import is_database_unavailable
from service.core.idempotency import MAX_PATH_LENGTH, stored_path
from service.core.ratelimit import RateLimiter
from service.main import create_app
from tests.factories import applicant_payload, auth, make_applicant, make_cohort, make_key
from tests.reliability.routes import app_routes


@pytest.mark.postgres_only
async def test_statement_timeout_is_a_503_not_a_hang(fresh_database_url: str) -> None:
    settings = Settings(database_url=fresh_database_url, statement_timeout_ms=200)
    app = create_app(settings=settings)

    @app.get("/slow")
    async def slow(session: SessionDep) -> dict[str, str]:
        await session.execute(text("SELECT pg_sleep(5)"))
        return {"slept": "yes"}

    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await asyncio.wait_for(client.get("/slow"), timeout=4)
    finally:
        await app.state.db.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    assert response.json()["status"] == 503


async def test_unreachable_database_is_a_fast_503() -> None:
    """Nothing listens on the port: every request is a 503 with Retry-After, at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none"
    app = create_app(settings=Settings(database_url=url, connect_timeout=1))
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            api = await asyncio.wait_for(
                client.post("/api/v1/applicants", json=applicant_payload(), headers=auth("x")),
                timeout=4,
            )
            health = await asyncio.wait_for(client.get("/health"), timeout=4)
    finally:
        await app.state.db.dispose()
    assert api.status_code == 503
    assert api.headers["content-type"] == "application/problem+json"
    assert api.headers["retry-after"] == "2"
    assert api.json()["detail"] == "The database is unavailable; retry shortly."
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable", "database": "unavailable"}


def test_connection_errors_are_recognised() -> None:
    import asyncpg.exceptions as pg
    from sqlalchemy.exc import DBAPIError, IntegrityError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    wrapped = DBAPIError("COMMIT", None, pg.ConnectionDoesNotExistError("closed"))
    for exc in (
        ConnectionRefusedError(),
        TimeoutError(),
        PoolTimeout(),
        pg.ConnectionDoesNotExistError("closed"),
        pg.InterfaceError("connection is closed"),
        pg.QueryCanceledError("canceling statement due to statement timeout"),
        wrapped,
    ):
        assert is_database_unavailable(exc), exc
    assert not is_database_unavailable(ValueError("bug"))
    assert not is_database_unavailable(IntegrityError("INSERT", None, Exception("dup")))


def test_token_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=3, clock=lambda: now[0])
    assert [limiter.take("k", "register") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("k", "register") == pytest.approx(20.0)  # one token per 20 s
    assert limiter.take("other", "register") == 0.0  # per key
    assert limiter.take("k", "enroll") == 0.0  # per action
    now[0] = 20.0
    assert limiter.take("k", "register") == 0.0
    assert limiter.take("k", "register") > 0


@pytest.fixture
def limited_app(database: Database, settings: Settings) -> FastAPI:
    return create_app(
        settings=settings.model_copy(update={"rate_limit_per_minute": 2}), database=database
    )


async def test_registration_and_enrolment_are_rate_limited_per_key(
    limited_app: FastAPI, session: AsyncSession
) -> None:
    token, other = await make_key(session, "staff"), await make_key(session, "staff")
    cohort = await make_cohort(session)
    applicants = [await make_applicant(session) for _ in range(3)]
    transport = httpx.ASGITransport(app=limited_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        statuses = [
            (
                await client.post(
                    "/api/v1/applicants", json=applicant_payload(), headers=auth(token)
                )
            ).status_code
            for _ in range(2)
        ]
        assert statuses == [201, 201]
        refused = await client.post(
            "/api/v1/applicants", json=applicant_payload(), headers=auth(token)
        )
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["limit_per_minute"] == 2
        # Another key has its own budget.
        fine = await client.post(
            "/api/v1/applicants", json=applicant_payload(), headers=auth(other)
        )
        assert fine.status_code == 201

        url = f"/api/v1/cohorts/{cohort.id}/enrollments"
        codes = [
            (await client.post(url, json={"applicant_id": a.id}, headers=auth(token))).status_code
            for a in applicants
        ]
        assert codes == [201, 201, 429]
        # Reads are not limited.
        assert (await client.get(url, headers=auth(token))).status_code == 200


async def test_general_rate_limit_is_off_by_default(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Only registration by client keys has a default limit (600 a minute, far above
    this): tests/applicants/test_rate_limit.py."""
    token = await make_key(session, "client")
    for _ in range(5):
        response = await client.post(
            "/api/v1/applicants", json=applicant_payload(), headers=auth(token)
        )
        assert response.status_code == 201


async def test_an_idempotency_key_on_an_overlong_path_is_never_a_500(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Every operation with a path parameter, given a 600-character value and an
    Idempotency-Key: the path no longer fits the record's 500-character column (on
    PostgreSQL that was a 500). The answer is the one the bad id gets without the key."""
    token = await make_key(session, "admin")
    operations = sorted(
        (method, path)
        for method, path in app_routes(app)
        if method in ("POST", "PATCH", "PUT", "DELETE") and "{" in path
    )
    assert len(operations) >= 3, operations
    long_value = "x" * 600
    for method, template in operations:
        path = re.sub(r"\{[^}]+\}", long_value, template)
        statuses = []
        for key in ("overlong-path", None):
            headers = {**auth(token), **({"Idempotency-Key": key} if key else {})}
            r = await client.request(method, path, json={}, headers=headers)
            assert 400 <= r.status_code < 500, (method, template, key, r.status_code, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            statuses.append(r.status_code)
        assert statuses[0] == statuses[1], (method, template, statuses)


def test_stored_paths_fit_the_column() -> None:
    assert stored_path("/api/v1/centres") == "/api/v1/centres"
    for odd in ("/api/v1/cohorts/" + "x" * 600 + "/enrollments", "/api/v1/cohorts/a\x00b"):
        stored = stored_path(odd)
        assert len(stored) <= MAX_PATH_LENGTH
        assert stored.isprintable()
        assert stored == stored_path(odd)  # the same path, the same record
    assert stored_path("/a/" + "x" * 600) != stored_path("/a/" + "x" * 601)
