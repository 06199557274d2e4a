"""The outbox through every write path: each write endpoint and the CLI emit what the
contract lists, in the change's transaction; a rolled-back request leaves none."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.clock import ManualClock
from service.core.db import Database, get_database, get_session
from service.models import Applicant, Event
from tests.applicants.helpers import csv_bytes, csv_row
from tests.factories import applicant_payload, auth, cohort_payload, make_key, unique
from tests.reliability.routes import app_routes
from tests.test_cli import run_cli

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
# Write routes that change nothing a partner or staff tool is told about.
NO_EVENTS = {
    ("POST", "/api/v1/programmes"),
    ("POST", "/api/v1/centres"),
    ("POST", "/api/v1/targets"),
    ("POST", "/api/v1/applicants/lookup"),
    ("POST", "/api/v1/districts"),
    ("PATCH", "/api/v1/districts/{district_code}"),
    ("POST", "/dashboard/login"),
    ("POST", "/dashboard/logout"),
    # The staff console's form post calls the same marking service as
    # PUT /api/v1/sessions/{session_id}/attendance (walked above); its events are
    # that route's (tests/dashboard/test_console.py).
    ("POST", "/dashboard/sessions/{session_id}/attendance"),
    ("POST", "/api/v1/webhooks"),
    ("PATCH", "/api/v1/webhooks/{webhook_id}"),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"),
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"),
    ("POST", "/api/v1/webhooks/{webhook_id}/replay"),
    # Its event goes to that one endpoint, never to the feed (tests/events/test_webhooks_api).
    ("POST", "/api/v1/webhooks/{webhook_id}/test"),
}


async def types_since(session: AsyncSession, seq: int) -> list[str]:
    rows = await session.scalars(select(Event.type).where(Event.seq > seq).order_by(Event.seq))
    return list(rows)


async def last_seq(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(Event.seq), 0))) or 0)


async def test_every_write_endpoint_emits_its_events(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = auth(await make_key(session, "admin"))
    ids: dict[str, str] = {}
    covered: set[tuple[str, str]] = set()

    async def step(
        method: str, template: str, expected: list[str], *, status: int = 200, **kw: Any
    ) -> dict[str, Any]:
        before = await last_seq(session)
        r = await client.request(method, template.format(**ids), headers=admin, **kw)
        assert r.status_code == status, (template, r.text)
        assert await types_since(session, before) == expected, (method, template)
        covered.add((method, template))
        body: dict[str, Any] = r.json() if r.content else {}
        return body

    ids["applicant_id"] = (
        await step(
            "POST",
            "/api/v1/applicants",
            ["applicant.registered"],
            status=201,
            json=applicant_payload(),
        )
    )["id"]
    second = (
        await step(
            "POST",
            "/api/v1/applicants",
            ["applicant.registered"],
            status=201,
            json=applicant_payload(),
        )
    )["id"]
    await step(
        "PATCH",
        "/api/v1/applicants/{applicant_id}",
        ["applicant.updated"],
        json={"district": "Multan"},
    )
    await step("PATCH", "/api/v1/applicants/{applicant_id}", [], json={"district": "Multan"})
    await step(
        "POST",
        "/api/v1/applicants/{applicant_id}/identity",
        ["applicant.identity_corrected"],
        json={"gender": "male", "reason": "mistyped at registration"},
    )
    csv = csv_bytes([csv_row(), csv_row()])
    await step(
        "POST",
        "/api/v1/applicants/import",
        ["applicant.registered", "applicant.registered"],
        files={"file": ("a.csv", io.BytesIO(csv), "text/csv")},
    )
    ids["cohort_id"] = (
        await step(
            "POST",
            "/api/v1/cohorts",
            ["cohort.created"],
            status=201,
            json=cohort_payload(code=unique("c"), capacity=1),
        )
    )["id"]
    await step(
        "POST",
        "/api/v1/cohorts/{cohort_id}/enrollments",
        ["enrollment.enrolled"],
        status=201,
        json={"applicant_id": ids["applicant_id"]},
    )
    ids["enrollment_id"] = (
        await step(
            "POST",
            "/api/v1/cohorts/{cohort_id}/enrollments",
            ["enrollment.waitlisted"],
            status=201,
            json={"applicant_id": second},
        )
    )["id"]
    # Raising capacity promotes inside the same request.
    await step(
        "PATCH",
        "/api/v1/cohorts/{cohort_id}",
        ["cohort.updated", "enrollment.enrolled"],
        json={"capacity": 3},
    )
    await step("POST", "/api/v1/enrollments/{enrollment_id}/drop", ["enrollment.dropped"])
    ids["enrollment_id"] = (
        await step(
            "POST",
            "/api/v1/cohorts/{cohort_id}/enrollments",
            ["enrollment.enrolled"],
            status=201,
            json={"applicant_id": second},
        )
    )["id"]
    await step("POST", "/api/v1/enrollments/{enrollment_id}/withdraw", ["enrollment.withdrawn"])
    ids["enrollment_id"] = (
        await step(
            "POST",
            "/api/v1/cohorts/{cohort_id}/enrollments",
            ["enrollment.enrolled"],
            status=201,
            json={"applicant_id": second},
        )
    )["id"]
    # Attendance: creating and deleting sessions emits nothing; a marking request that
    # takes a trainee below min_attendance with 3 sessions held emits attendance.at_risk.
    app.state.clock = ManualClock(datetime(2027, 1, 12, 9, tzinfo=UTC))
    held = await step(
        "POST",
        "/api/v1/cohorts/{cohort_id}/sessions",
        [],
        status=201,
        json={"sessions": [{"date": d} for d in ("2027-01-10", "2027-01-11", "2027-01-12")]},
    )
    ids["session_id"] = (
        await step(
            "POST",
            "/api/v1/cohorts/{cohort_id}/sessions",
            [],
            status=201,
            json={"date": "2027-01-13"},
        )
    )["id"]
    await step("DELETE", "/api/v1/sessions/{session_id}", [], status=204)
    ids["session_id"] = held["items"][0]["id"]
    await step(
        "PUT",
        "/api/v1/sessions/{session_id}/attendance",
        ["attendance.at_risk"],
        json=[{"enrollment_id": ids["enrollment_id"], "status": "present"}],
    )
    await step(
        "PUT",
        "/api/v1/sessions/{session_id}/attendance/import",
        [],
        files={"file": ("m.csv", io.BytesIO(b"enrollment_id,status\nnobody,late\n"), "text/csv")},
    )
    await step("POST", "/api/v1/cohorts/{cohort_id}/start", ["cohort.started"])
    done = await step(
        "POST",
        "/api/v1/enrollments/{enrollment_id}/complete",
        ["certificate.issued", "enrollment.completed"],
        json={"score": 90, "attendance": 90},
    )
    ids["code"] = done["certificate_code"]
    # Outcomes: recorded, corrected (a correction that changes nothing emits nothing), imported.
    ids["outcome_id"] = (
        await step(
            "POST",
            "/api/v1/enrollments/{enrollment_id}/outcomes",
            ["outcome.recorded"],
            status=201,
            json={"follow_up": "3m", "status": "employed", "source": "phone"},
        )
    )["id"]
    await step(
        "PATCH", "/api/v1/outcomes/{outcome_id}", ["outcome.recorded"], json={"status": "freelance"}
    )
    await step("PATCH", "/api/v1/outcomes/{outcome_id}", [], json={"status": "freelance"})
    outcome_csv = (
        f"enrollment_id,follow_up,status,source\n{ids['enrollment_id']},6m,unemployed,survey\n"
    )
    await step(
        "POST",
        "/api/v1/outcomes/import",
        ["outcome.recorded"],
        files={"file": ("o.csv", io.BytesIO(outcome_csv.encode()), "text/csv")},
    )
    # Bulk completions: the first applicant's enrollment fails, by CNIC.
    cnic = await cnic_of(session, ids["applicant_id"])
    await step(
        "POST",
        "/api/v1/cohorts/{cohort_id}/completions",
        ["enrollment.failed"],
        json=[{"cnic": cnic, "score": 10, "attendance": 10}],
    )
    # The CSV twin: a row naming nobody in the cohort is an error and changes nothing.
    await step(
        "POST",
        "/api/v1/cohorts/{cohort_id}/completions/import",
        [],
        files={
            "file": (
                "r.csv",
                io.BytesIO(b"cnic,score,attendance\n35202-0000000-1,90,90\n"),
                "text/csv",
            )
        },
    )
    await step(
        "POST",
        "/api/v1/certificates/{code}/revoke",
        ["certificate.revoked"],
        json={"reason": "error"},
    )
    await step("POST", "/api/v1/cohorts/{cohort_id}/complete", ["cohort.completed"])
    # Waitlist offers: a no-show's seat is offered, accepted; the next offer declined.
    ids["cohort_id"] = (
        await step(
            "POST",
            "/api/v1/cohorts",
            ["cohort.created"],
            status=201,
            json=cohort_payload(code=unique("c"), capacity=1, waitlist_mode="offer"),
        )
    )["id"]
    third = (
        await step(
            "POST",
            "/api/v1/applicants",
            ["applicant.registered"],
            status=201,
            json=applicant_payload(),
        )
    )["id"]
    offer_ids = []
    for applicant_id, status in (
        (ids["applicant_id"], "enrolled"),
        (second, "waitlisted"),
        (third, "waitlisted"),
    ):
        made = await step(
            "POST",
            "/api/v1/cohorts/{cohort_id}/enrollments",
            [f"enrollment.{status}"],
            status=201,
            json={"applicant_id": applicant_id},
        )
        offer_ids.append(made["id"])
    ids["enrollment_id"] = offer_ids[0]
    no_show = ["enrollment.no_show", "enrollment.offered"]
    await step("POST", "/api/v1/enrollments/{enrollment_id}/no-show", no_show)
    ids["enrollment_id"] = offer_ids[1]
    await step("POST", "/api/v1/enrollments/{enrollment_id}/accept", ["enrollment.enrolled"])
    await step("POST", "/api/v1/enrollments/{enrollment_id}/no-show", no_show)
    ids["enrollment_id"] = offer_ids[2]
    await step("POST", "/api/v1/enrollments/{enrollment_id}/decline", ["enrollment.declined"])
    ids["cohort_id"] = (
        await step(
            "POST",
            "/api/v1/cohorts",
            ["cohort.created"],
            status=201,
            json=cohort_payload(code=unique("c"), capacity=1),
        )
    )["id"]
    await step(
        "POST",
        "/api/v1/cohorts/{cohort_id}/enrollments",
        ["enrollment.enrolled"],
        status=201,
        json={"applicant_id": ids["applicant_id"]},
    )
    await step(
        "POST", "/api/v1/cohorts/{cohort_id}/cancel", ["cohort.cancelled", "enrollment.cancelled"]
    )

    writes = {(m, p) for m, p in app_routes(app) if m in WRITE_METHODS}
    missing = sorted(writes - covered - NO_EVENTS)
    assert not missing, f"write routes the outbox walk does not cover: {missing}"


async def cnic_of(session: AsyncSession, applicant_id: str) -> str:
    found = await session.scalar(select(Applicant.cnic).where(Applicant.id == applicant_id))
    assert found is not None
    return found


@pytest.fixture
def failing_commits(app: FastAPI) -> None:
    """Every request's unit of work fails where it would commit: it is rolled back."""

    async def session_that_cannot_commit(request: Request) -> AsyncIterator[AsyncSession]:
        async with get_database(request).sessionmaker() as s:
            try:
                yield s
            finally:
                await s.rollback()
            raise RuntimeError("commit failed")

    app.dependency_overrides[get_session] = session_that_cannot_commit


@pytest.mark.usefixtures("failing_commits")
async def test_a_rolled_back_request_leaves_no_event(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    before = await last_seq(session)
    r = await client.post("/api/v1/applicants", json=applicant_payload(), headers=auth(token))
    assert r.status_code == 500
    r = await client.post(
        "/api/v1/cohorts", json=cohort_payload(code=unique("c")), headers=auth(token)
    )
    assert r.status_code == 500
    assert await types_since(session, before) == []


async def test_cli_import_emits_in_its_transaction(fresh_database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "applicants.csv"
    path.write_bytes(csv_bytes([csv_row(), csv_row(), csv_row(phone="nope")]))
    dry = run_cli(fresh_database_url, "import", "applicants", str(path), "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert await committed_types(fresh_database_url) == []
    real = run_cli(fresh_database_url, "import", "applicants", str(path))
    assert real.returncode == 1, real.stderr
    assert await committed_types(fresh_database_url) == ["applicant.registered"] * 2


async def committed_types(url: str) -> list[str]:
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as s:
            return await types_since(s, 0)
    finally:
        await db.dispose()
