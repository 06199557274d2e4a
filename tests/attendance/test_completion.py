"""Completion uses the computed attendance when it is left out; a given value overrides it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.attendance.helpers import START, add_sessions, clock_at, days, mark, running_cohort
from tests.completions.helpers import enrolled, events_of
from tests.factories import auth, make_key


async def test_computed_given_and_missing_attendance(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at(START + timedelta(days=3))
    token = await make_key(session, "staff")
    cohort = await running_cohort(session)  # in progress, min_attendance 75, pass 50
    a, b, c, d = [await enrolled(session, cohort) for _ in range(4)]
    sessions = await add_sessions(session, cohort, *days(3))
    for s, status in zip(sessions, ("present", "late", "absent"), strict=True):
        await mark(client, token, s, [
            {"enrollment_id": a.id, "status": status},
            {"enrollment_id": b.id, "status": "present"},
            {"enrollment_id": c.id, "status": "present"},
            {"enrollment_id": d.id, "status": "excused"},
        ])  # fmt: skip

    done = await client.post(
        f"/api/v1/enrollments/{a.id}/complete", json={"score": 90}, headers=auth(token)
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["attendance"]) == ("failed", 66.67)
    assert (await events_of(session, a.id))[-1].reason == ("score 90, attendance 66.67 (computed)")

    override = await client.post(
        f"/api/v1/enrollments/{b.id}/complete",
        json={"score": 90, "attendance": 80},
        headers=auth(token),
    )
    assert override.json()["attendance"] == 80
    assert (await events_of(session, b.id))[-1].reason == (
        "score 90, attendance 80 (given; computed 100)"
    )

    bulk = await client.post(
        f"/api/v1/cohorts/{cohort.id}/completions",
        json=[{"enrollment_id": c.id, "score": 60}, {"enrollment_id": d.id, "score": 60}],
        headers=auth(token),
    )
    results = bulk.json()["results"]
    assert results[0]["status"] == "completed"
    assert results[1]["status"] == "error"
    assert "no percent can be computed" in results[1]["error"]

    single = await client.post(
        f"/api/v1/enrollments/{d.id}/complete", json={"score": 60}, headers=auth(token)
    )
    assert single.status_code == 422
    assert single.json()["errors"][0]["field"] == "attendance"


async def test_without_sessions_attendance_is_still_required(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await running_cohort(session)
    a = await enrolled(session, cohort)
    r = await client.post(
        f"/api/v1/enrollments/{a.id}/complete", json={"score": 60}, headers=auth(token)
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "attendance"
    bulk = await client.post(
        f"/api/v1/cohorts/{cohort.id}/completions",
        json=[{"enrollment_id": a.id, "score": 60}],
        headers=auth(token),
    )
    assert bulk.json()["results"][0]["error"] == "attendance is required"
