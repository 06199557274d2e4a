"""Every report endpoint: 401 without a token, 403 for clients, 200 for report roles."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key

ENDPOINTS = [
    "/api/v1/reports/progress",
    "/api/v1/reports/breakdown?dimension=province",
    "/api/v1/reports/completions",
    "/api/v1/reports/completions.csv",
    "/metrics",
]


@pytest.mark.parametrize("url", ENDPOINTS)
async def test_roles(client: httpx.AsyncClient, session: AsyncSession, url: str) -> None:
    r = await client.get(url)
    assert r.status_code == 401
    assert r.json()["status"] == 401
    r = await client.get(url, headers={"Authorization": "Bearer enr_not-a-key"})
    assert r.status_code == 401
    r = await client.get(url, headers=auth(await make_key(session, "client")))
    assert r.status_code == 403
    assert r.json()["title"] == "Forbidden"
    for role in ("reporter", "staff", "admin"):
        r = await client.get(url, headers=auth(await make_key(session, role)))
        assert r.status_code == 200, (role, r.text)
