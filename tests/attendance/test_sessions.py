"""Sessions of a cohort: create one or many, list, read, delete while unmarked."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.attendance.helpers import PROBLEM, START, add_sessions, clock_at, mark, running_cohort
from tests.completions.helpers import enrolled
from tests.factories import auth, make_key


async def test_create_one_and_many_list_read_delete(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at()
    token = await make_key(session, "staff", centres=["isb-gitc"])
    cohort = await running_cohort(session)
    url = f"/api/v1/cohorts/{cohort.id}/sessions"

    one = await client.post(url, json={"date": "2026-03-02", "topic": "Intro"}, headers=auth(token))
    assert one.status_code == 201, one.text
    body = one.json()
    assert body["date"] == "2026-03-02"
    assert body["topic"] == "Intro"
    assert body["marked"] == 0
    assert one.headers["Location"] == f"/api/v1/sessions/{body['id']}"

    many = await client.post(
        url,
        json={"sessions": [{"date": "2026-03-03"}, {"date": "2026-03-03", "topic": "Lab"}]},
        headers=auth(token),
    )
    assert many.status_code == 201, many.text
    assert [s["date"] for s in many.json()["items"]] == ["2026-03-03", "2026-03-03"]

    listed = await client.get(url, headers=auth(token))
    assert [s["date"] for s in listed.json()["items"]] == ["2026-03-02", "2026-03-03", "2026-03-03"]

    read = await client.get(f"/api/v1/sessions/{body['id']}", headers=auth(token))
    assert read.json() == body

    gone = await client.delete(f"/api/v1/sessions/{body['id']}", headers=auth(token))
    assert gone.status_code == 204
    again = await client.get(f"/api/v1/sessions/{body['id']}", headers=auth(token))
    assert again.status_code == 404


async def test_dates_outside_the_cohort_and_bad_bodies_are_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await running_cohort(session)
    url = f"/api/v1/cohorts/{cohort.id}/sessions"

    early = await client.post(url, json={"date": "2026-03-01"}, headers=auth(token))
    assert early.status_code == 422
    assert early.headers["content-type"] == PROBLEM
    assert [e["field"] for e in early.json()["errors"]] == ["date"]

    bulk = await client.post(
        url,
        json={"sessions": [{"date": "2026-03-02"}, {"date": "2027-01-01"}]},
        headers=auth(token),
    )
    assert bulk.status_code == 422
    assert [e["field"] for e in bulk.json()["errors"]] == ["sessions.1.date"]

    for bad in ({}, {"date": "soon"}, {"date": "2026-03-02", "sessions": []}, {"x": 1}):
        r = await client.post(url, json=bad, headers=auth(token))
        assert r.status_code == 422, (bad, r.text)
    listed = await client.get(url, headers=auth(token))
    assert listed.json()["items"] == []


async def test_roles_and_scope(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await running_cohort(session)
    url = f"/api/v1/cohorts/{cohort.id}/sessions"
    assert (await client.get(url)).status_code == 401
    for role in ("client", "reporter"):
        token = await make_key(session, role)
        assert (await client.get(url, headers=auth(token))).status_code == 403
    online = await make_key(session, "staff", centres=["online"])
    r = await client.post(url, json={"date": "2026-03-02"}, headers=auth(online))
    assert r.status_code == 403
    admin = await make_key(session, "admin")
    assert (
        await client.get("/api/v1/cohorts/nope/sessions", headers=auth(admin))
    ).status_code == 404


async def test_a_marked_session_cannot_be_deleted(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at()
    token = await make_key(session, "staff")
    cohort = await running_cohort(session)
    trainee = await enrolled(session, cohort)
    [held] = await add_sessions(session, cohort, START)
    assert (
        await mark(client, token, held, [{"enrollment_id": trainee.id, "status": "late"}])
    ).status_code == 200
    r = await client.delete(f"/api/v1/sessions/{held}", headers=auth(token))
    assert r.status_code == 409
    assert r.json()["type"].endswith("session-marked")
