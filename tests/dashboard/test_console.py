"""The staff console's attendance pages, in process: the roster form marks a session in
one post (CSRF-checked like sign-in), defaults to the current marks, works without JS."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import AttendanceMark
from tests.attendance.helpers import START, add_sessions, clock_at, running_cohort
from tests.completions.helpers import enrolled
from tests.dashboard.helpers import ORIGIN, sign_in
from tests.factories import make_key


async def test_staff_mark_a_session_in_one_form_post(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    today = START + timedelta(days=3)
    app.state.clock = clock_at(today)
    cohort = await running_cohort(session, name="Cloud basics")
    ayesha = await enrolled(session, cohort, full_name="Ayesha Khan")
    bilal = await enrolled(session, cohort, full_name="Bilal Ahmed")
    held = await add_sessions(
        session, cohort, START, START + timedelta(days=1), START + timedelta(days=2), today
    )
    [future] = await add_sessions(session, cohort, today + timedelta(days=1))
    staff = await make_key(session, "staff", centres=["isb-gitc"])
    await sign_in(client, staff)

    board = await client.get("/dashboard")
    assert 'id="attendance-panel"' in board.text
    assert f"/dashboard/cohorts/{cohort.id}/attendance" in board.text
    assert "not marked" in board.text

    url = f"/dashboard/sessions/{held[-1]}/attendance"
    form = await client.get(url)
    assert form.status_code == 200
    assert "Ayesha Khan" in form.text
    assert "checked" not in form.text
    assert "<script" not in form.text

    posted = await client.post(
        url,
        data={f"mark:{ayesha.id}": "present", f"mark:{bilal.id}": "late"},
        headers={"Origin": ORIGIN},
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == f"{url}?saved=2"
    marks = dict(
        (await session.execute(select(AttendanceMark.enrollment_id, AttendanceMark.status))).all()
    )
    assert marks == {ayesha.id: "present", bilal.id: "late"}

    again = await client.get(posted.headers["location"])
    assert "Saved 2 marks." in again.text
    assert again.text.count("checked") == 2
    assert f'name="mark:{bilal.id}" value="late" id=' in again.text

    cohort_page = await client.get(f"/dashboard/cohorts/{cohort.id}/attendance")
    assert cohort_page.status_code == 200
    assert f"/dashboard/sessions/{future}/attendance" not in cohort_page.text  # upcoming
    board = await client.get("/dashboard")
    assert ">marked<" in board.text

    # Cross-site posts are refused; a future session is a 409 page, not JSON.
    for headers in ({}, {"Origin": "http://evil.example"}):
        refused = await client.post(url, data={f"mark:{ayesha.id}": "absent"}, headers=headers)
        assert refused.status_code == 403
    ahead = await client.post(
        f"/dashboard/sessions/{future}/attendance",
        data={f"mark:{ayesha.id}": "present"},
        headers={"Origin": ORIGIN},
    )
    assert ahead.status_code == 409
    assert ahead.headers["content-type"].startswith("text/html")
    assert (await client.get("/dashboard/sessions/nope/attendance")).status_code == 404


async def test_who_may_open_the_console(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at()
    cohort = await running_cohort(session)
    [held] = await add_sessions(session, cohort, START)
    url = f"/dashboard/sessions/{held}/attendance"
    anonymous = await client.get(url)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/dashboard/login")
    await sign_in(client, await make_key(session, "reporter"))
    assert (await client.get(url)).status_code == 403
    client.cookies.clear()
    await sign_in(client, await make_key(session, "staff", centres=["online"]))
    assert (await client.get(url)).status_code == 403
    assert (await client.get(f"/dashboard/cohorts/{cohort.id}/attendance")).status_code == 403
