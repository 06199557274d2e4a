"""The attendance percent: SQL against a direct computation, and the same figure everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance import percent
from service.models import AttendanceMark, AttendanceSession
from tests.attendance.helpers import START, TODAY, add_sessions, clock_at, mark, running_cohort
from tests.completions.helpers import enrolled, many_enrolled
from tests.factories import auth, make_enrollment, make_key

MARKS = (None, "present", "late", "excused", "absent")


def expected(statuses: Sequence[str | None]) -> float | None:
    """The contract's formula, directly: statuses of the sessions held by today."""
    attended = sum(s in ("present", "late") for s in statuses)
    counted = len(statuses) - sum(s == "excused" for s in statuses)
    if counted == 0:
        return None
    exact = Fraction(attended * 100, counted)
    rounded = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return float(rounded)


history = st.lists(
    # (days from today: > 0 is a future session, mark per trainee)
    st.tuples(st.integers(-40, 3), st.lists(st.sampled_from(MARKS), min_size=3, max_size=3)),
    max_size=40,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sessions=history)
async def test_sql_matches_the_formula_over_random_histories(
    session: AsyncSession, sessions: list[tuple[int, list[str | None]]]
) -> None:
    savepoint = await session.begin_nested()
    try:
        cohort = await running_cohort(
            session, start_date=TODAY - timedelta(days=40), end_date=TODAY + timedelta(days=3)
        )
        trainees = [e for e, _ in await many_enrolled(session, cohort, 3)]
        made = [
            AttendanceSession(cohort_id=cohort.id, date=TODAY + timedelta(days=offset))
            for offset, _ in sessions
        ]
        session.add_all(made)
        await session.flush()
        rows = [
            {"session_id": s.id, "enrollment_id": trainees[i], "status": status}
            for s, (offset, marks) in zip(made, sessions, strict=True)
            for i, status in enumerate(marks)
            if status is not None and offset <= 0  # a future session is never marked
        ]
        if rows:
            await session.execute(insert(AttendanceMark), rows)
        figures = await percent.figures(session, TODAY, cohort_id=cohort.id)
        for i, trainee in enumerate(trainees):
            held = [marks[i] for offset, marks in sessions if offset <= 0]
            assert figures[trainee].percent == expected(held), (i, held)
            assert figures[trainee].held == len(held)
    finally:
        await savepoint.rollback()


def test_the_reference_rounds_half_up() -> None:
    assert expected(["present"] * 1 + ["absent"] * 31) == 3.13  # 3.125
    assert expected(["present", "absent", "absent"]) == 33.33
    assert expected(["late", "late", "absent"]) == 66.67
    assert expected(["excused"]) is None
    assert expected([]) is None


async def test_enrollment_and_roster_show_the_same_figure(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at(START + timedelta(days=3))
    token = await make_key(session, "staff", centres=["isb-gitc"])
    cohort = await running_cohort(session)
    a = await enrolled(session, cohort)
    b = await enrolled(session, cohort)
    c = await enrolled(session, cohort)
    await make_enrollment(session, cohort, status="waitlisted")
    s1, s2, s3, _future = await add_sessions(
        session, cohort, START, START + timedelta(days=1), START + timedelta(days=1),
        START + timedelta(days=9),
    )  # fmt: skip
    before = await client.get(f"/api/v1/enrollments/{a.id}/attendance", headers=auth(token))
    assert before.json()["percent"] == 0.0  # three held sessions unmarked = absent

    await mark(client, token, s1, [
        {"enrollment_id": a.id, "status": "present"},
        {"enrollment_id": b.id, "status": "excused"},
        {"enrollment_id": c.id, "status": "excused"},
    ])  # fmt: skip
    await mark(client, token, s2, [
        {"enrollment_id": a.id, "status": "late"},
        {"enrollment_id": c.id, "status": "excused"},
    ])  # fmt: skip
    await mark(client, token, s3, [{"enrollment_id": c.id, "status": "excused"}])

    r = await client.get(f"/api/v1/enrollments/{a.id}/attendance", headers=auth(token))
    assert r.status_code == 200
    body = r.json()
    assert body["percent"] == 66.67
    assert [(s["session_id"], s["status"]) for s in body["sessions"]] == [
        (s1, "present"),
        (s2, "late"),
        (s3, None),
    ]
    roster = await client.get(f"/api/v1/cohorts/{cohort.id}/attendance", headers=auth(token))
    assert roster.status_code == 200
    rows = {x["enrollment_id"]: x for x in roster.json()["items"]}
    assert set(rows) == {a.id, b.id, c.id}
    assert rows[a.id]["percent"] == 66.67
    assert rows[a.id]["at_risk"] is True
    assert rows[b.id]["percent"] == 0.0
    assert rows[c.id]["percent"] is None
    assert rows[c.id]["at_risk"] is False
    assert roster.json()["sessions_held"] == 3

    below = await client.get(
        f"/api/v1/cohorts/{cohort.id}/attendance?below=50", headers=auth(token)
    )
    assert [x["enrollment_id"] for x in below.json()["items"]] == [b.id]
    paged = await client.get(f"/api/v1/cohorts/{cohort.id}/attendance?limit=2", headers=auth(token))
    assert len(paged.json()["items"]) == 2
    rest = await client.get(
        f"/api/v1/cohorts/{cohort.id}/attendance?limit=2&cursor={paged.json()['next_cursor']}",
        headers=auth(token),
    )
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None

    # Before the first session: null.
    app.state.clock = clock_at(date(2026, 3, 1))
    early = await client.get(f"/api/v1/enrollments/{a.id}/attendance", headers=auth(token))
    assert early.json()["percent"] is None
    assert early.json()["sessions"] == []


async def test_who_may_read_attendance(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    app.state.clock = clock_at()
    cohort = await running_cohort(session)
    a = await enrolled(session, cohort)
    url = f"/api/v1/enrollments/{a.id}/attendance"
    assert (await client.get(url)).status_code == 401
    reporter = await make_key(session, "reporter")
    assert (await client.get(url, headers=auth(reporter))).status_code == 403
    stranger = await make_key(session, "client")
    assert (await client.get(url, headers=auth(stranger))).status_code == 404
    online = await make_key(session, "staff", centres=["online"])
    assert (await client.get(url, headers=auth(online))).status_code == 404
    roster = f"/api/v1/cohorts/{cohort.id}/attendance"
    assert (await client.get(roster, headers=auth(online))).status_code == 403
    assert (await client.get(f"{roster}?below=101", headers=auth(online))).status_code == 422
