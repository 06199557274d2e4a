"""ENROLL_ALLOWED_HOSTS: a foreign Host header is a 400 and never reflected in a redirect."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from service.core.config import Settings
from service.core.db import Database
from service.core.hosts import host_allowed, host_name
from service.main import create_app


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("example.pk", "example.pk"),
        ("Example.PK:8443", "example.pk"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("", ""),
        ("[broken", ""),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_host_patterns() -> None:
    allowed = ["enroll.example.pk", "*.gitc.example.pk", "[::1]"]
    assert host_allowed("enroll.example.pk", allowed)
    assert host_allowed("isb.gitc.example.pk", allowed)
    assert host_allowed("::1", allowed)
    assert not host_allowed("gitc.example.pk", allowed)
    assert not host_allowed("evilgitc.example.pk", allowed)
    assert not host_allowed("enroll.example.pk.evil.example", allowed)
    assert not host_allowed("", allowed)
    assert host_allowed("anything", ["*"])


def test_the_default_allows_any_host() -> None:
    assert Settings.model_fields["allowed_hosts"].default == ["*"]


async def test_a_redirect_never_reflects_the_host(client: httpx.AsyncClient) -> None:
    ok = await client.get("/api/v1/programmes/?limit=5", follow_redirects=False)
    assert ok.status_code in (307, 308)
    assert ok.headers["location"] == "/api/v1/programmes?limit=5"
    for host in ("evil.example", "evil.example:80"):
        r = await client.get("/api/v1/programmes/", headers={"Host": host}, follow_redirects=False)
        assert r.status_code in (307, 308)
        assert r.headers["location"] == "/api/v1/programmes"
        assert "evil" not in r.text
    followed = await client.get("/api/v1/programmes/", follow_redirects=True)
    assert followed.status_code == 401  # the redirect lands on the real route


async def test_a_foreign_host_is_refused_when_hosts_are_named(
    database: Database, database_url: str
) -> None:
    settings = Settings(database_url=database_url, allowed_hosts=["test", "*.example.pk"])
    app: FastAPI = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ok = await client.get("/api/v1/programmes/", follow_redirects=False)
        assert ok.status_code in (307, 308)
        assert ok.headers["location"] == "/api/v1/programmes"
        for host in ("evil.example", "test.evil.example", "evil.example:80"):
            r = await client.get(
                "/api/v1/programmes/", headers={"Host": host}, follow_redirects=False
            )
            assert r.status_code == 400
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["errors"] == [
                {
                    "field": "Host",
                    "message": "Not one of this service's host names.",
                    "code": "host.not_ours",
                }
            ]
            assert "location" not in r.headers
            assert "evil" not in r.text
            assert r.headers["x-request-id"]


async def test_the_setting_names_the_hosts(database: Database, database_url: str) -> None:
    settings = Settings(database_url=database_url, allowed_hosts=["enroll.example.pk"])
    app: FastAPI = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://enroll.example.pk") as c:
        assert (await c.get("/health")).status_code == 200
        assert (await c.get("/api/v1/targets", headers={"Host": "localhost"})).status_code == 400
        # Health checks are called by address (container and load-balancer probes).
        assert (await c.get("/health", headers={"Host": "10.1.2.3:8000"})).status_code == 200
