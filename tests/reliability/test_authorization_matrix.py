"""Who may call what: every route the app serves, as every role and with no token.

The routes come from the app itself, so a new route without an entry in
``MATRIX`` fails the test. For a role the route allows, the answer must not be
401/403/404 (in-scope data is used); a role it does not allow gets 403; no token
gets 401; public routes answer without a token.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import AttendanceSession, Outcome, Webhook
from tests.factories import (
    Key,
    applicant_payload,
    auth,
    centre,
    make_applicant,
    make_certificate,
    make_cohort,
    make_enrollment,
    make_key,
    unique,
)
from tests.reliability.routes import app_routes

ADMIN = frozenset({"admin"})
STAFF = frozenset({"admin", "staff"})
REGISTRAR = frozenset({"admin", "staff", "client"})
REPORT = frozenset({"admin", "staff", "reporter"})
ALL = frozenset({"admin", "staff", "client", "reporter"})
PUBLIC: frozenset[str] = frozenset()  # no token needed
# Browser pages signed in by session cookie, not bearer token: their sign-in,
# role and cookie rules are asserted in tests/dashboard.
COOKIE: frozenset[str] = frozenset({"cookie"})
ROLES = ("admin", "staff", "client", "reporter")
CERTIFICATE_CODE = "ZTE-7K3M-9QXA-2WPD-H4TR"  # the canonical form of a generated code

# (method, path) -> roles allowed; PUBLIC means anyone, token or not.
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/init.js"): PUBLIC,
    ("GET", "/docs/swagger-ui-bundle.js"): PUBLIC,
    ("GET", "/docs/swagger-ui.css"): PUBLIC,
    ("GET", "/api/v1/programmes"): ALL,
    ("POST", "/api/v1/programmes"): ADMIN,
    ("GET", "/api/v1/centres"): ALL,
    ("POST", "/api/v1/centres"): ADMIN,
    ("GET", "/api/v1/targets"): ALL,
    ("POST", "/api/v1/targets"): ADMIN,
    ("POST", "/api/v1/applicants"): REGISTRAR,
    ("POST", "/api/v1/applicants/lookup"): REGISTRAR,
    ("POST", "/api/v1/applicants/import"): STAFF,
    ("GET", "/api/v1/applicants/{applicant_id}"): REGISTRAR,
    ("PATCH", "/api/v1/applicants/{applicant_id}"): REGISTRAR,
    ("POST", "/api/v1/applicants/{applicant_id}/identity"): ADMIN,
    ("GET", "/api/v1/applicants/{applicant_id}/enrollments"): REGISTRAR,
    ("GET", "/api/v1/districts"): ALL,
    ("POST", "/api/v1/districts"): ADMIN,
    ("PATCH", "/api/v1/districts/{district_code}"): ADMIN,
    ("POST", "/api/v1/cohorts"): STAFF,
    ("GET", "/api/v1/cohorts"): REGISTRAR,
    ("GET", "/api/v1/cohorts/{cohort_id}"): REGISTRAR,
    ("PATCH", "/api/v1/cohorts/{cohort_id}"): STAFF,
    ("POST", "/api/v1/cohorts/{cohort_id}/start"): STAFF,
    ("POST", "/api/v1/cohorts/{cohort_id}/complete"): STAFF,
    ("POST", "/api/v1/cohorts/{cohort_id}/cancel"): STAFF,
    ("POST", "/api/v1/cohorts/{cohort_id}/enrollments"): REGISTRAR,
    ("GET", "/api/v1/cohorts/{cohort_id}/enrollments"): REGISTRAR,
    ("GET", "/api/v1/enrollments/{enrollment_id}"): REGISTRAR,
    ("GET", "/api/v1/enrollments/{enrollment_id}/events"): REGISTRAR,
    ("POST", "/api/v1/enrollments/{enrollment_id}/withdraw"): REGISTRAR,
    ("POST", "/api/v1/enrollments/{enrollment_id}/drop"): STAFF,
    ("POST", "/api/v1/enrollments/{enrollment_id}/accept"): REGISTRAR,
    ("POST", "/api/v1/enrollments/{enrollment_id}/decline"): REGISTRAR,
    ("POST", "/api/v1/enrollments/{enrollment_id}/no-show"): STAFF,
    ("POST", "/api/v1/enrollments/{enrollment_id}/complete"): STAFF,
    ("POST", "/api/v1/cohorts/{cohort_id}/completions"): STAFF,
    ("POST", "/api/v1/cohorts/{cohort_id}/completions/import"): STAFF,
    ("GET", "/certificates/{code}"): PUBLIC,
    ("GET", "/dashboard"): COOKIE,
    ("GET", "/dashboard/login"): COOKIE,
    ("POST", "/dashboard/login"): COOKIE,
    ("POST", "/dashboard/logout"): COOKIE,
    ("GET", "/dashboard/static/dashboard.css"): PUBLIC,
    ("GET", "/progress"): PUBLIC,
    ("GET", "/certificates/{code}.html"): PUBLIC,
    ("GET", "/api/v1/certificates/{code}"): STAFF,
    ("POST", "/api/v1/certificates/{code}/revoke"): ADMIN,
    ("GET", "/api/v1/reports/progress"): REPORT,
    ("GET", "/api/v1/reports/breakdown"): REPORT,
    ("GET", "/api/v1/reports/completions"): REPORT,
    ("GET", "/api/v1/reports/completions.csv"): REPORT,
    ("GET", "/api/v1/reports/outcomes"): REPORT,
    ("POST", "/api/v1/enrollments/{enrollment_id}/outcomes"): REGISTRAR,
    ("GET", "/api/v1/enrollments/{enrollment_id}/outcomes"): REGISTRAR,
    ("GET", "/api/v1/outcomes/due"): REGISTRAR,
    ("POST", "/api/v1/outcomes/import"): REGISTRAR,
    ("GET", "/api/v1/outcomes/{outcome_id}"): REGISTRAR,
    ("PATCH", "/api/v1/outcomes/{outcome_id}"): REGISTRAR,
    ("POST", "/api/v1/cohorts/{cohort_id}/sessions"): STAFF,
    ("GET", "/api/v1/cohorts/{cohort_id}/sessions"): STAFF,
    ("GET", "/api/v1/sessions/{session_id}"): STAFF,
    ("DELETE", "/api/v1/sessions/{session_id}"): STAFF,
    ("PUT", "/api/v1/sessions/{session_id}/attendance"): STAFF,
    ("PUT", "/api/v1/sessions/{session_id}/attendance/import"): STAFF,
    ("GET", "/api/v1/enrollments/{enrollment_id}/attendance"): REGISTRAR,
    ("GET", "/api/v1/cohorts/{cohort_id}/attendance"): STAFF,
    ("GET", "/api/v1/reports/attendance"): REPORT,
    ("GET", "/dashboard/cohorts/{cohort_id}/attendance"): COOKIE,
    ("GET", "/dashboard/sessions/{session_id}/attendance"): COOKIE,
    ("POST", "/dashboard/sessions/{session_id}/attendance"): COOKIE,
    ("GET", "/metrics"): REPORT,
    ("GET", "/api/v1/events"): ALL,
    ("POST", "/api/v1/webhooks"): ALL,
    ("GET", "/api/v1/webhooks"): ALL,
    ("GET", "/api/v1/webhooks/{webhook_id}"): ALL,
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): ALL,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): ALL,
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): ALL,
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): ALL,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): ALL,
    ("POST", "/api/v1/webhooks/{webhook_id}/replay"): ALL,
}


@dataclass
class World:
    tokens: dict[str, str]
    ids: dict[str, str]
    # Ids only their own key may use (webhooks), by token; DELETE gets its own endpoint.
    own: dict[str, dict[str, str]] = field(default_factory=dict)


@pytest.fixture
async def world(session: AsyncSession) -> World:
    """In-scope data for every role: the staff key covers the cohort's centre."""
    isb = await centre(session, "isb-gitc")
    tokens: dict[str, Key] = {
        "admin": await make_key(session, "admin"),
        "staff": await make_key(session, "staff", centres=["isb-gitc"]),
        "client": await make_key(session, "client"),
        "reporter": await make_key(session, "reporter"),
    }
    client_key = tokens["client"].id
    applicant = await make_applicant(session, created_by_key_id=client_key)
    cohort = await make_cohort(session, capacity=50, centre_code="isb-gitc")
    enrollment = await make_enrollment(session, cohort, applicant)
    # The client's applicant completed once before (outcomes need a completed enrollment).
    done = await make_enrollment(
        session, cohort, applicant, status="completed", score=90, attendance=95
    )
    certificate = await make_certificate(session, done, code=CERTIFICATE_CODE)
    outcome = Outcome(
        enrollment_id=done.id,
        follow_up="3m",
        status="employed",
        source="phone",
        recorded_on=date.today(),
    )
    session.add(outcome)
    await session.flush()
    # A session of the cohort (its first day: in the future, so it cannot be marked, only
    # listed, read and refused); DELETE takes a session of its own per key.
    day = cohort.start_date
    meeting = AttendanceSession(cohort_id=cohort.id, date=day, topic="Intro")
    session.add(meeting)
    await session.flush()
    own: dict[str, dict[str, str]] = {
        str(token): {
            "webhook_id": await make_webhook(session, token.id),
            "doomed_webhook_id": await make_webhook(session, token.id),
            "doomed_session_id": await make_session(session, cohort.id, day),
        }
        for token in tokens.values()
    }
    return World(
        tokens=dict(tokens),
        ids={
            "applicant_id": applicant.id,
            "cohort_id": cohort.id,
            "enrollment_id": enrollment.id,
            "centre_id": isb.id,
            "code": certificate.code,
            "district_code": "pb-lahore",
            "outcome_id": outcome.id,
            "session_id": meeting.id,
        },
        own=own,
    )


async def make_webhook(session: AsyncSession, api_key_id: str) -> str:
    webhook = Webhook(
        api_key_id=api_key_id,
        url="https://93.184.216.34/hook",
        events='["*"]',
        enabled=True,
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )
    session.add(webhook)
    await session.flush()
    return webhook.id


async def make_session(session: AsyncSession, cohort_id: str, day: date) -> str:
    meeting = AttendanceSession(cohort_id=cohort_id, date=day)
    session.add(meeting)
    await session.flush()
    return meeting.id


def _body(method: str, path: str, world: World) -> dict[str, Any]:
    """Request arguments that pass validation, so the answer is about authorization."""
    today = date.today()
    if method not in ("POST", "PATCH", "PUT"):
        return {}
    if path == "/api/v1/sessions/{session_id}/attendance/import":
        csv = f"enrollment_id,status\n{world.ids['enrollment_id']},present\n"
        return {"files": {"file": ("m.csv", io.BytesIO(csv.encode()), "text/csv")}}
    if path == "/api/v1/applicants/import":
        csv = "cnic,full_name\n"
        return {"files": {"file": ("a.csv", io.BytesIO(csv.encode()), "text/csv")}}
    if path == "/api/v1/outcomes/import":
        csv = "enrollment_id,follow_up,status,source\n"
        return {"files": {"file": ("o.csv", io.BytesIO(csv.encode()), "text/csv")}}
    if path == "/api/v1/cohorts/{cohort_id}/completions/import":
        csv = f"enrollment_id,score,attendance\n{world.ids['enrollment_id']},80,90\n"
        return {"files": {"file": ("r.csv", io.BytesIO(csv.encode()), "text/csv")}}
    bodies: dict[str, Any] = {
        "/api/v1/programmes": {"code": unique("p"), "name": "P", "partner": "ZTE"},
        "/api/v1/centres": {"code": unique("c"), "name": "C"},
        "/api/v1/targets": {
            "code": unique("t"),
            "name": "T",
            "goal": 10,
            "metric": "completions",
            "programmes": ["zte-ict"],
        },
        "/api/v1/applicants": applicant_payload(),
        "/api/v1/applicants/lookup": {"cnic": "12345-1234567-1"},
        "/api/v1/applicants/{applicant_id}": {"district": "Multan"},
        "/api/v1/applicants/{applicant_id}/identity": {"gender": "male", "reason": "test"},
        "/api/v1/cohorts": {
            "programme": "zte-ict",
            "centre": "isb-gitc",
            "code": unique("cohort"),
            "name": "N",
            "track": "cloud",
            "start_date": str(today + timedelta(days=30)),
            "end_date": str(today + timedelta(days=60)),
            "capacity": 5,
            "mode": "onsite",
        },
        "/api/v1/cohorts/{cohort_id}": {"name": "Renamed"},
        "/api/v1/cohorts/{cohort_id}/enrollments": {"applicant_id": world.ids["applicant_id"]},
        "/api/v1/enrollments/{enrollment_id}/complete": {"score": 80, "attendance": 90},
        "/api/v1/cohorts/{cohort_id}/completions": [
            {"enrollment_id": world.ids["enrollment_id"], "score": 80, "attendance": 90}
        ],
        "/api/v1/certificates/{code}/revoke": {"reason": "test"},
        "/api/v1/cohorts/{cohort_id}/sessions": {"date": str(today + timedelta(days=31))},
        "/api/v1/sessions/{session_id}/attendance": [
            {"enrollment_id": world.ids["enrollment_id"], "status": "present"}
        ],
        "/api/v1/enrollments/{enrollment_id}/outcomes": {
            "follow_up": "6m",
            "status": "employed",
            "source": "phone",
        },
        "/api/v1/outcomes/{outcome_id}": {"status": "freelance"},
        "/api/v1/districts": {
            "code": unique("pb-new"),
            "name": unique("Newpur"),
            "name_ur": "نیا ضلع",
            "province": "punjab",
        },
        "/api/v1/districts/{district_code}": {"aliases": [unique("Lahore-alias")]},
        "/api/v1/webhooks": {"url": "https://93.184.216.34/hook", "events": ["*"]},
        "/api/v1/webhooks/{webhook_id}": {"description": "d"},
        "/api/v1/webhooks/{webhook_id}/replay": {"since": "2026-01-01T00:00:00Z"},
    }
    return {"json": bodies[path]} if path in bodies else {}


Call = Callable[[str | None], Awaitable[httpx.Response]]


def _caller(client: httpx.AsyncClient, method: str, path: str, world: World) -> Call:
    async def call(token: str | None) -> httpx.Response:
        own = world.own.get(token or "", {})
        if method == "DELETE" and own:
            own = {"webhook_id": own["doomed_webhook_id"], "session_id": own["doomed_session_id"]}
        url = path.format(**(world.ids | {"webhook_id": "none"} | own))
        headers = auth(token) if token else {}
        return await client.request(method, url, headers=headers, **_body(method, path, world))

    return call


def test_every_route_has_an_expectation(app: FastAPI) -> None:
    served = app_routes(app)
    missing = sorted(served - MATRIX.keys())
    assert not missing, f"routes with no authorization expectation: {missing}"


async def test_authorization_matrix(app: FastAPI, client: httpx.AsyncClient, world: World) -> None:
    problems: list[str] = []
    for method, path in sorted(app_routes(app)):
        allowed = MATRIX[(method, path)]
        if allowed is COOKIE:
            continue
        call = _caller(client, method, path, world)
        anonymous = await call(None)
        if allowed is PUBLIC:
            if anonymous.status_code in (401, 403):
                problems.append(f"{method} {path} no token: {anonymous.status_code}, want public")
            continue
        if anonymous.status_code != 401:
            problems.append(f"{method} {path} no token: {anonymous.status_code}, want 401")
        elif anonymous.headers.get("www-authenticate") != "Bearer":
            problems.append(f"{method} {path} no token: no WWW-Authenticate: Bearer")
        bad = await call("enr_not-a-real-token")
        if bad.status_code != 401 or "enr_not-a-real-token" in bad.text:
            problems.append(f"{method} {path} bad token: {bad.status_code}")
        for role in ROLES:
            response = await call(world.tokens[role])
            status = response.status_code
            if role in allowed:
                if status in (401, 403, 404) or status >= 500:
                    problems.append(f"{method} {path} as {role}: {status} {response.text[:200]}")
            elif status != 403:
                problems.append(f"{method} {path} as {role}: {status}, want 403")
            elif response.headers["content-type"] != "application/problem+json":
                problems.append(f"{method} {path} as {role}: 403 is not problem+json")
    assert not problems, "\n".join(problems)
