"""GET /api/v1/reports/attendance: average and at-risk count by cohort and centre."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import true
from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance import summary
from tests.attendance.helpers import START, add_sessions, clock_at, days, mark, running_cohort
from tests.completions.helpers import enrolled
from tests.factories import auth, make_key


async def test_by_cohort_and_centre_with_reporter_suppression(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    today = START + timedelta(days=2)
    app.state.clock = clock_at(today)
    staff = await make_key(session, "staff", centres=["isb-gitc"])
    big = await running_cohort(session)
    small = await running_cohort(session)
    await running_cohort(session)  # no sessions: not in the report
    big_trainees = [await enrolled(session, big) for _ in range(6)]
    lone = await enrolled(session, small)
    big_days = await add_sessions(session, big, *days(3))
    [small_day] = await add_sessions(session, small, today)
    for i, s in enumerate(big_days):
        # trainee k is absent on day i when k < i + 1 ... so 0, 1, 2 absences: 100 / 66.67 / 33.33
        await mark(client, staff, s, [
            {"enrollment_id": t.id, "status": "absent" if k < i else "present"}
            for k, t in enumerate(big_trainees)
        ])  # fmt: skip
    await mark(client, staff, small_day, [{"enrollment_id": lone.id, "status": "present"}])

    r = await client.get("/api/v1/reports/attendance", headers=auth(staff))
    assert r.status_code == 200, r.text
    rows = {x["key"]: x for x in r.json()["rows"]}
    assert set(rows) == {big.code, small.code}
    # Percents: k=0: 33.33, k=1: 66.67, k>=2: 100 (x4): mean 83.333.. → 83.33
    assert rows[big.code] == {
        "key": big.code,
        "trainees": 6,
        "average_percent": 83.33,
        "at_risk": 2,
    }
    assert rows[small.code]["average_percent"] == 100.0

    by_centre = await client.get("/api/v1/reports/attendance?group=centre", headers=auth(staff))
    [centre] = by_centre.json()["rows"]
    assert (centre["key"], centre["trainees"], centre["at_risk"]) == ("isb-gitc", 7, 2)

    reporter = await make_key(session, "reporter")
    hidden = await client.get("/api/v1/reports/attendance", headers=auth(reporter))
    rows = {x["key"]: x for x in hidden.json()["rows"]}
    assert rows[big.code]["trainees"] == 6
    assert rows[big.code]["at_risk"] == "<5"
    assert rows[small.code] == {
        "key": small.code,
        "trainees": "<5",
        "average_percent": None,
        "at_risk": "<5",
    }
    online = await make_key(session, "staff", centres=["online"])
    assert (await client.get("/api/v1/reports/attendance", headers=auth(online))).json()[
        "rows"
    ] == []
    client_key = await make_key(session, "client")
    assert (
        await client.get("/api/v1/reports/attendance", headers=auth(client_key))
    ).status_code == 403
    assert (
        await client.get("/api/v1/reports/attendance?group=x", headers=auth(staff))
    ).status_code == 422

    panel = {c.code: c for c in await summary.in_progress(session, today, true())}
    assert panel[big.code].at_risk == 2
    assert (panel[big.code].sessions_today, panel[big.code].marked_today) == (1, 1)
    assert (panel[small.code].sessions_today, panel[small.code].enrolled) == (1, 1)
