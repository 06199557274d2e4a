"""PUT /api/v1/sessions/{id}/attendance: per-row results, re-marks recorded, JSON or CSV."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import AttendanceMark, AttendanceMarkChange
from tests.attendance.helpers import TODAY, add_sessions, clock_at, mark, running_cohort
from tests.completions.helpers import enrolled
from tests.factories import auth, make_enrollment, make_key


async def test_rows_are_marked_or_reported_one_by_one(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at()
    token = await make_key(session, "staff", centres=["isb-gitc"])
    cohort = await running_cohort(session)
    other = await running_cohort(session)
    a = await enrolled(session, cohort)
    b = await enrolled(session, cohort, cnic="35202-1234567-1")
    waiting = await make_enrollment(session, cohort, status="waitlisted")
    foreign = await enrolled(session, other)
    [held] = await add_sessions(session, cohort, TODAY)

    r = await mark(
        client,
        token,
        held,
        [
            {"enrollment_id": a.id, "status": "present"},
            {"cnic": "3520212345671", "status": "LATE"},
            {"enrollment_id": waiting.id, "status": "present"},
            {"enrollment_id": foreign.id, "status": "present"},
            {"enrollment_id": a.id, "status": "absent"},
            {"enrollment_id": a.id},
            {"status": "present"},
            {"enrollment_id": b.id, "status": "sick"},
            "nope",
        ],
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["present", "late"] + ["error"] * 7
    assert results[0] == {
        "row": 1,
        "status": "present",
        "enrollment_id": a.id,
        "previous": None,
        "error": None,
    }
    assert results[1]["enrollment_id"] == b.id
    assert "waitlisted, not enrolled" in results[2]["error"]
    assert results[3]["error"] == "no enrollment with this id in this cohort"
    assert results[4]["error"] == "the same enrollment is already in row 1"
    assert results[5]["error"] == "status is required"
    assert results[6]["error"] == "enrollment_id or cnic is required"
    assert results[7]["error"].startswith("status must be one of")

    again = await mark(client, token, held, [{"enrollment_id": a.id, "status": "excused"}])
    assert again.json()["results"][0]["previous"] == "present"
    marks = (
        await session.execute(select(AttendanceMark.enrollment_id, AttendanceMark.status))
    ).all()
    assert sorted(marks) == sorted([(a.id, "excused"), (b.id, "late")])
    history = (
        await session.scalars(
            select(AttendanceMarkChange)
            .where(AttendanceMarkChange.enrollment_id == a.id)
            .order_by(AttendanceMarkChange.id)
        )
    ).all()
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, "present"),
        ("present", "excused"),
    ]
    assert {h.actor for h in history} == {token.name}


async def test_a_future_session_cannot_be_marked(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at(TODAY, hour=23)
    token = await make_key(session, "admin")
    cohort = await running_cohort(session)
    a = await enrolled(session, cohort)
    [tomorrow] = await add_sessions(session, cohort, TODAY + timedelta(days=1))
    r = await mark(client, token, tomorrow, [{"enrollment_id": a.id, "status": "present"}])
    assert r.status_code == 409
    assert r.json()["type"].endswith("session-in-future")
    app.state.clock = clock_at(TODAY + timedelta(days=1), hour=0)
    r = await mark(client, token, tomorrow, [{"enrollment_id": a.id, "status": "present"}])
    assert r.status_code == 200


async def test_csv_upload_and_twin_operation(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at()
    token = await make_key(session, "staff")
    cohort = await running_cohort(session)
    a = await enrolled(session, cohort)
    b = await enrolled(session, cohort, cnic="61101-7654321-9")
    [held] = await add_sessions(session, cohort, TODAY)
    csv = f"enrollment_id,cnic,status\n{a.id},,present\n,61101 7654321 9,absent\n,,\n{a.id},,x\n"
    url = f"/api/v1/sessions/{held}/attendance"
    r = await client.put(url, files={"file": ("marks.csv", csv, "text/csv")}, headers=auth(token))
    assert r.status_code == 200, r.text
    assert [(x["row"], x["status"]) for x in r.json()["results"]] == [
        (2, "present"),
        (3, "absent"),
        (5, "error"),
    ]
    assert r.json()["results"][1]["enrollment_id"] == b.id
    twin = await client.put(
        f"{url}/import",
        files={"file": ("m.csv", "cnic,status\n61101-7654321-9,late\n", "text/csv")},
        headers=auth(token),
    )
    assert twin.json()["results"][0] | {} == {
        "row": 2,
        "status": "late",
        "enrollment_id": b.id,
        "previous": "absent",
        "error": None,
    }
    bad = await client.put(
        url, files={"file": ("m.csv", "name\nx\n", "text/csv")}, headers=auth(token)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "file"
    not_array = await client.put(url, json={"status": "present"}, headers=auth(token))
    assert not_array.status_code == 422


async def test_roles_and_scope_of_marking(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at()
    cohort = await running_cohort(session)
    [held] = await add_sessions(session, cohort, TODAY)
    url = f"/api/v1/sessions/{held}/attendance"
    assert (await client.put(url, json=[])).status_code == 401
    client_key = await make_key(session, "client")
    assert (await client.put(url, json=[], headers=auth(client_key))).status_code == 403
    online = await make_key(session, "staff", centres=["online"])
    assert (await client.put(url, json=[], headers=auth(online))).status_code == 403
    admin = await make_key(session, "admin")
    r = await client.put("/api/v1/sessions/nope/attendance", json=[], headers=auth(admin))
    assert r.status_code == 404
