"""attendance.at_risk: once per crossing below min_attendance, with at least 3 sessions held."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Event
from tests.attendance.helpers import START, add_sessions, clock_at, days, mark, running_cohort
from tests.completions.helpers import enrolled
from tests.factories import auth, make_key


async def at_risk_events(session: AsyncSession) -> list[dict[str, object]]:
    rows = await session.scalars(
        select(Event.data).where(Event.type == "attendance.at_risk").order_by(Event.seq)
    )
    return [json.loads(r) for r in rows]


async def test_one_event_per_crossing(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    token = await make_key(session, "staff", centres=["isb-gitc"])
    cohort = await running_cohort(session)  # min_attendance 75
    a = await enrolled(session, cohort)
    b = await enrolled(session, cohort)
    sessions = await add_sessions(session, cohort, *days(6))

    async def day(i: int, a_status: str, b_status: str = "present") -> None:
        app.state.clock = clock_at(START + timedelta(days=i))
        r = await mark(client, token, sessions[i], [
            {"enrollment_id": a.id, "status": a_status},
            {"enrollment_id": b.id, "status": b_status},
        ])  # fmt: skip
        assert r.status_code == 200, r.text

    await day(0, "absent")  # 0%, but 1 session held: no warning yet
    await day(1, "present")  # 50%, 2 held
    assert await at_risk_events(session) == []
    await day(2, "late")  # 66.67%, 3 held, was not at risk: warn
    events = await at_risk_events(session)
    assert len(events) == 1
    assert events[0] == {
        "enrollment_id": a.id,
        "applicant_id": a.applicant_id,
        "cohort_id": cohort.id,
        "cohort": cohort.code,
        "programme": "zte-ict",
        "centre": "isb-gitc",
        "percent": 66.67,
        "reason": "attendance 66.67% is below the cohort's minimum 75% after 3 sessions",
    }
    await day(3, "absent")  # still below: no second warning
    assert len(await at_risk_events(session)) == 1
    # Re-marking day 0 as excused lifts a above the threshold (2/3 ... then 3 of 3 counted)
    app.state.clock = clock_at(START + timedelta(days=3))
    await mark(client, token, sessions[0], [{"enrollment_id": a.id, "status": "excused"}])
    await mark(client, token, sessions[3], [{"enrollment_id": a.id, "status": "present"}])
    assert len(await at_risk_events(session)) == 1  # 100%: recovered, no event
    await day(4, "absent")  # 75%: not below
    await day(5, "absent", "absent")  # 60%: a crosses again; b 83.33% stays above
    events = await at_risk_events(session)
    assert [e["enrollment_id"] for e in events] == [a.id, a.id]
    assert events[1]["percent"] == 60.0

    feed = await client.get("/api/v1/events?types=attendance.*", headers=auth(token))
    assert [e["type"] for e in feed.json()["items"]] == ["attendance.at_risk"] * 2
    other = await make_key(session, "staff", centres=["online"])
    hidden = await client.get("/api/v1/events?types=attendance.*", headers=auth(other))
    assert hidden.json()["items"] == []


async def test_creating_sessions_emits_nothing(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at()
    token = await make_key(session, "admin")
    cohort = await running_cohort(session)
    await enrolled(session, cohort)
    r = await client.post(
        f"/api/v1/cohorts/{cohort.id}/sessions",
        json={"sessions": [{"date": d.isoformat()} for d in days(5)]},
        headers=auth(token),
    )
    assert r.status_code == 201
    assert await at_risk_events(session) == []
