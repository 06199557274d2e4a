"""Cohorts: create, read, list, patch and the open → in_progress → completed lifecycle."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Cohort
from tests.enrollments.helpers import assert_cohort_consistent, enrollment_statuses
from tests.factories import auth, cohort_payload, make_cohort, make_enrollment, make_key

URL = "/api/v1/cohorts"


COHORT_KEYS = {
    "pools",
    "id",
    "code",
    "programme",
    "centre",
    "name",
    "track",
    "start_date",
    "end_date",
    "capacity",
    "mode",
    "min_age",
    "max_age",
    "pass_score",
    "min_attendance",
    "status",
    "seats_taken",
    "seats_available",
    "waitlist_length",
    "waitlist_mode",
    "offer_hours",
    "offers_pending",
    "created_at",
    "updated_at",
}


async def test_admin_creates_cohort_with_defaults(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin"))
    r = await client.post(URL, json=cohort_payload(), headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == COHORT_KEYS
    assert body | {"id": "x", "created_at": "x", "updated_at": "x"} == {
        "id": "x",
        "code": "zte-cloud-2027-01",
        "programme": "zte-ict",
        "centre": "isb-gitc",
        "name": "Cloud fundamentals, January 2027",
        "track": "cloud",
        "start_date": "2027-01-10",
        "end_date": "2027-03-10",
        "capacity": 30,
        "mode": "onsite",
        "min_age": 18,
        "max_age": 35,
        "pass_score": 50,
        "min_attendance": 75,
        "status": "open",
        "seats_taken": 0,
        "seats_available": 30,
        "waitlist_length": 0,
        "waitlist_mode": "auto",
        "offer_hours": 48,
        "offers_pending": 0,
        "pools": [],
        "created_at": "x",
        "updated_at": "x",
    }
    got = await client.get(f"{URL}/{body['id']}", headers=headers)
    assert got.json() == body


async def test_staff_scoped_to_centre(client: httpx.AsyncClient, session: AsyncSession) -> None:
    online_staff = auth(await make_key(session, "staff", centres=["online"]))
    r = await client.post(URL, json=cohort_payload(), headers=online_staff)
    assert r.status_code == 403
    assert r.json()["detail"] == "This key is not scoped to the cohort's centre."
    r = await client.post(
        URL, json=cohort_payload(centre="online", mode="online"), headers=online_staff
    )
    assert r.status_code == 201, r.text
    assert r.json()["centre"] == "online"
    unscoped = auth(await make_key(session, "staff"))
    r = await client.post(URL, json=cohort_payload(code="other"), headers=unscoped)
    assert r.status_code == 201


@pytest.mark.parametrize("role", ["client", "reporter"])
async def test_create_refused_to_other_roles(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    r = await client.post(URL, json=cohort_payload(), headers=auth(await make_key(session, role)))
    assert r.status_code == 403
    assert r.json()["title"] == "Forbidden"


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    for r in [
        await client.post(URL, json=cohort_payload()),
        await client.get(URL),
        await client.get(f"{URL}/x"),
        await client.patch(f"{URL}/x", json={}),
        await client.post(f"{URL}/x/start"),
    ]:
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"


async def test_duplicate_code_is_409(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = auth(await make_key(session, "admin"))
    assert (await client.post(URL, json=cohort_payload(), headers=headers)).status_code == 201
    r = await client.post(URL, json=cohort_payload(), headers=headers)
    assert r.status_code == 409
    assert r.json()["detail"] == "A cohort with code 'zte-cloud-2027-01' exists."


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_date": "2027-01-09"}, "end_date", "Must be on or after start_date (2027-01-10)."),
        ({"capacity": 0}, "capacity", "Input should be greater than 0"),
        ({"min_age": 40}, "min_age", "Must be at most max_age (35)."),
        ({"min_age": 30, "max_age": 20}, "max_age", "Must be at least min_age (30)."),
        ({"pass_score": 101}, "pass_score", "Input should be less than or equal to 100"),
        ({"min_attendance": -1}, "min_attendance", "Input should be greater than or equal to 0"),
        ({"programme": "nope"}, "programme", "Unknown programme: nope."),
        ({"centre": "nowhere"}, "centre", "Unknown centre: nowhere."),
        ({"mode": "by-post"}, "mode", "Input should be 'onsite', 'online' or 'hybrid'"),
        ({"start_date": "soon"}, "start_date", None),
    ],
)
async def test_create_validation(
    client: httpx.AsyncClient,
    session: AsyncSession,
    overrides: dict[str, object],
    field: str,
    message: str | None,
) -> None:
    headers = auth(await make_key(session, "admin"))
    r = await client.post(URL, json=cohort_payload(**overrides), headers=headers)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    if message is not None:
        assert errors[0]["message"] == message


async def test_missing_fields_are_all_named(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin"))
    r = await client.post(URL, json={"programme": "zte-ict"}, headers=headers)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {
        "centre",
        "code",
        "name",
        "track",
        "start_date",
        "end_date",
        "capacity",
        "mode",
    }


async def test_create_is_idempotent(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = {**auth(await make_key(session, "admin")), "Idempotency-Key": "c-1"}
    first = await client.post(URL, json=cohort_payload(), headers=headers)
    again = await client.post(URL, json=cohort_payload(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("role", ["admin", "staff", "client"])
async def test_reads_for_every_non_reporter_role(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    cohort = await make_cohort(session, capacity=2)
    await make_enrollment(session, cohort)
    await make_enrollment(session, cohort)
    await make_enrollment(session, cohort, status="waitlisted")
    headers = auth(await make_key(session, role, centres=["online"] if role == "staff" else None))
    r = await client.get(f"{URL}/{cohort.id}", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert (body["seats_taken"], body["seats_available"], body["waitlist_length"]) == (2, 0, 1)
    listed = await client.get(URL, params={"centre": "isb-gitc"}, headers=headers)
    assert cohort.id in [c["id"] for c in listed.json()["items"]]


async def test_reporter_may_not_read(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session)
    headers = auth(await make_key(session, "reporter"))
    assert (await client.get(URL, headers=headers)).status_code == 403
    assert (await client.get(f"{URL}/{cohort.id}", headers=headers)).status_code == 403


async def test_unknown_cohort_is_404(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = auth(await make_key(session, "admin"))
    for r in [
        await client.get(f"{URL}/nope", headers=headers),
        await client.patch(f"{URL}/nope", json={"name": "x"}, headers=headers),
        await client.post(f"{URL}/nope/start", headers=headers),
    ]:
        assert r.status_code == 404
        assert r.json()["detail"] == "No cohort with this id."


async def test_list_filters_and_pages(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = auth(await make_key(session, "admin"))
    ali = await make_cohort(session, programme_code="alibaba-ecommerce", centre_code="online")
    zte = await make_cohort(session)
    started = await make_cohort(session, status="in_progress")

    async def ids(**params: str) -> list[str]:
        r = await client.get(URL, params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert await ids(programme="alibaba-ecommerce") == [ali.id]
    assert await ids(centre="isb-gitc", status="open") == [zte.id]
    assert await ids(status="in_progress") == [started.id]
    assert await ids(programme="unknown") == []
    bad = await client.get(URL, params={"status": "paused"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "status"
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(URL, params=params, headers=headers)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [ali.id, zte.id, started.id]


# --- PATCH -------------------------------------------------------------------------


async def test_patch_changes_fields(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session, start_date=date(2027, 2, 1))
    headers = auth(await make_key(session, "staff", centres=["isb-gitc"]))
    r = await client.patch(
        f"{URL}/{cohort.id}",
        json={"name": "Renamed", "mode": "hybrid", "end_date": "2027-02-01", "pass_score": 60},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["mode"], body["end_date"], body["pass_score"]) == (
        "Renamed",
        "hybrid",
        "2027-02-01",
        60,
    )
    assert (await client.get(f"{URL}/{cohort.id}", headers=headers)).json() == body


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"end_date": "2027-01-31"}, "end_date", "Must be on or after start_date (2027-02-01)."),
        ({"start_date": "2027-06-01"}, "start_date", "Must be on or before end_date (2027-04-02)."),
        ({"min_age": 36}, "min_age", "Must be at most max_age (35)."),
        ({"max_age": 17}, "max_age", "Must be at least min_age (18)."),
        ({"capacity": 0}, "capacity", "Input should be greater than 0"),
        ({"min_attendance": 101}, "min_attendance", "Input should be less than or equal to 100"),
        ({"name": None}, "name", "May not be null."),
        ({"status": "completed"}, "status", "Extra inputs are not permitted"),
    ],
)
async def test_patch_validation_uses_stored_values(
    client: httpx.AsyncClient,
    session: AsyncSession,
    patch: dict[str, object],
    field: str,
    message: str,
) -> None:
    cohort = await make_cohort(session, start_date=date(2027, 2, 1))
    headers = auth(await make_key(session, "admin"))
    r = await client.patch(f"{URL}/{cohort.id}", json=patch, headers=headers)
    assert r.status_code == 422, r.text
    errors = [{"field": e["field"], "message": e["message"]} for e in r.json()["errors"]]
    assert errors == [{"field": field, "message": message}]


async def test_patch_scope_and_roles(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session)
    other = auth(await make_key(session, "staff", centres=["online"]))
    r = await client.patch(f"{URL}/{cohort.id}", json={"name": "x"}, headers=other)
    assert r.status_code == 403
    client_key = auth(await make_key(session, "client"))
    assert (
        await client.patch(f"{URL}/{cohort.id}", json={"name": "x"}, headers=client_key)
    ).status_code == 403


async def test_raising_capacity_promotes_fifo(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=1)
    await make_enrollment(session, cohort)
    waiting = [await make_enrollment(session, cohort, status="waitlisted") for _ in range(3)]
    headers = auth(await make_key(session, "admin"))
    r = await client.patch(f"{URL}/{cohort.id}", json={"capacity": 3}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["capacity"], body["seats_taken"], body["waitlist_length"]) == (3, 3, 1)
    statuses = await enrollment_statuses(session, [e.id for e in waiting])
    assert statuses == ["enrolled", "enrolled", "waitlisted"]
    last = (await client.get(f"/api/v1/enrollments/{waiting[2].id}", headers=headers)).json()
    assert last["waitlist_position"] == 1
    events = (
        await client.get(f"/api/v1/enrollments/{waiting[0].id}/events", headers=headers)
    ).json()["items"]
    assert [(e["from"], e["to"], e["reason"]) for e in events] == [
        ("waitlisted", "enrolled", "promoted from waitlist")
    ]
    await assert_cohort_consistent(session, cohort.id)


async def test_lowering_capacity_below_seats_is_409(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=3)
    await make_enrollment(session, cohort)
    await make_enrollment(session, cohort)
    headers = auth(await make_key(session, "admin"))
    r = await client.patch(f"{URL}/{cohort.id}", json={"capacity": 1}, headers=headers)
    assert r.status_code == 409
    assert r.json()["detail"].startswith("Capacity 1 is below the 2 seats taken")
    r = await client.patch(f"{URL}/{cohort.id}", json={"capacity": 2}, headers=headers)
    assert r.status_code == 200
    assert (r.json()["seats_available"], r.json()["capacity"]) == (0, 2)


@pytest.mark.parametrize("status", ["completed", "cancelled"])
async def test_patch_closed_cohort_is_409(
    client: httpx.AsyncClient, session: AsyncSession, status: str
) -> None:
    cohort = await make_cohort(session, status=status)
    headers = auth(await make_key(session, "admin"))
    r = await client.patch(f"{URL}/{cohort.id}", json={"name": "x"}, headers=headers)
    assert r.status_code == 409
    assert r.json()["detail"] == f"The cohort is {status}; it can no longer be changed."


# --- lifecycle ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "action", "result"),
    [
        ("open", "start", "in_progress"),
        ("in_progress", "complete", "completed"),
        ("open", "cancel", "cancelled"),
        ("in_progress", "cancel", "cancelled"),
    ],
)
async def test_allowed_transitions(
    client: httpx.AsyncClient, session: AsyncSession, start: str, action: str, result: str
) -> None:
    cohort = await make_cohort(session, status=start)
    headers = auth(await make_key(session, "staff", centres=["isb-gitc"]))
    r = await client.post(f"{URL}/{cohort.id}/{action}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == result
    assert set(r.json()) == COHORT_KEYS


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("open", "complete"),
        ("in_progress", "start"),
        ("completed", "start"),
        ("completed", "complete"),
        ("completed", "cancel"),
        ("cancelled", "start"),
        ("cancelled", "complete"),
        ("cancelled", "cancel"),
    ],
)
async def test_refused_transitions(
    client: httpx.AsyncClient, session: AsyncSession, start: str, action: str
) -> None:
    cohort = await make_cohort(session, status=start)
    headers = auth(await make_key(session, "admin"))
    r = await client.post(f"{URL}/{cohort.id}/{action}", headers=headers)
    assert r.status_code == 409
    assert r.json()["detail"].startswith(f"A cohort that is {start} cannot be")
    assert (await session.get(Cohort, cohort.id, populate_existing=True)).status == start  # type: ignore[union-attr]


async def test_actions_scope_and_roles(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session)
    other = auth(await make_key(session, "staff", centres=["online"]))
    for action in ("start", "complete", "cancel"):
        r = await client.post(f"{URL}/{cohort.id}/{action}", headers=other)
        assert r.status_code == 403
        for role in ("client", "reporter"):
            r = await client.post(
                f"{URL}/{cohort.id}/{action}", headers=auth(await make_key(session, role))
            )
            assert r.status_code == 403


async def test_start_before_start_date(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session, start_date=date(2099, 1, 1))
    headers = auth(await make_key(session, "admin"))
    r = await client.post(f"{URL}/{cohort.id}/start", headers=headers)
    assert r.json()["status"] == "in_progress"


async def test_cancel_cancels_every_live_enrollment(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=2)
    enrolled = await make_enrollment(session, cohort)
    done = await make_enrollment(session, cohort, status="withdrawn")
    await make_enrollment(session, cohort)
    waiting = await make_enrollment(session, cohort, status="waitlisted")
    headers = auth(await make_key(session, "admin"))
    r = await client.post(f"{URL}/{cohort.id}/cancel", headers=headers)
    assert r.status_code == 200
    assert (r.json()["seats_taken"], r.json()["waitlist_length"]) == (0, 0)
    assert await enrollment_statuses(session, [enrolled.id, done.id, waiting.id]) == [
        "cancelled",
        "withdrawn",
        "cancelled",
    ]
    events = (await client.get(f"/api/v1/enrollments/{waiting.id}/events", headers=headers)).json()[
        "items"
    ]
    assert [(e["from"], e["to"], e["reason"]) for e in events] == [
        ("waitlisted", "cancelled", "cohort cancelled")
    ]
    await assert_cohort_consistent(session, cohort.id)


async def test_complete_cancels_leftover_waitlist(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=2, status="in_progress")
    passed = await make_enrollment(session, cohort, status="completed", score=80, attendance=90)
    enrolled = await make_enrollment(session, cohort)
    waiting = await make_enrollment(session, cohort, status="waitlisted")
    headers = auth(await make_key(session, "admin"))
    r = await client.post(f"{URL}/{cohort.id}/complete", headers=headers)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["seats_taken"], r.json()["waitlist_length"]) == (
        "completed",
        2,
        0,
    )
    assert await enrollment_statuses(session, [passed.id, enrolled.id, waiting.id]) == [
        "completed",
        "enrolled",
        "cancelled",
    ]
    await assert_cohort_consistent(session, cohort.id)
