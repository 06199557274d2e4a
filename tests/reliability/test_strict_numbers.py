"""Found by fuzzing: integer fields took `true` (as 1) and numeric strings."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_cohort, make_key

COHORT = {
    "programme": "zte-ict",
    "centre": "isb-gitc",
    "code": "strict-1",
    "name": "N",
    "track": "cloud",
    "start_date": "2031-01-01",
    "end_date": "2031-02-01",
    "capacity": 5,
    "mode": "onsite",
}


@pytest.mark.parametrize("value", [True, "5", 5.5])
async def test_cohort_integers_must_be_json_integers(
    client: httpx.AsyncClient, session: AsyncSession, value: object
) -> None:
    token = await make_key(session, "admin")
    cohort = await make_cohort(session)
    created = await client.post(
        "/api/v1/cohorts", json={**COHORT, "capacity": value}, headers=auth(token)
    )
    assert created.status_code == 422
    assert [e["field"] for e in created.json()["errors"]] == ["capacity"]
    patched = await client.patch(
        f"/api/v1/cohorts/{cohort.id}", json={"min_attendance": value}, headers=auth(token)
    )
    assert patched.status_code == 422
    assert [e["field"] for e in patched.json()["errors"]] == ["min_attendance"]


async def test_a_target_goal_must_be_a_json_integer(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    body = {"code": "t-strict", "name": "T", "metric": "completions", "programmes": ["zte-ict"]}
    for goal in (True, "10"):
        response = await client.post(
            "/api/v1/targets", json={**body, "goal": goal}, headers=auth(token)
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["goal"]
    ok = await client.post("/api/v1/targets", json={**body, "goal": 10}, headers=auth(token))
    assert ok.status_code == 201
