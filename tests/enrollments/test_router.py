"""Enrollments over HTTP: enrol, withdraw, drop, reads, events; every role and centre scope."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ApiKey, Applicant, Cohort
from tests.enrollments.helpers import assert_cohort_consistent, enrollment_statuses
from tests.factories import (
    auth,
    make_applicant,
    make_certificate,
    make_cohort,
    make_enrollment,
    make_key,
)

ENROLLMENT_KEYS = {
    "pool",
    "id",
    "cohort_id",
    "applicant_id",
    "status",
    "waitlist_position",
    "score",
    "attendance",
    "completed_at",
    "offer_expires_at",
    "certificate_code",
    "created_at",
    "updated_at",
}


def enrol_url(cohort: Cohort) -> str:
    return f"/api/v1/cohorts/{cohort.id}/enrollments"


async def client_with_applicant(session: AsyncSession) -> tuple[dict[str, str], Applicant]:
    token = await make_key(session, "client")
    applicant = await make_applicant(session, created_by_key_id=token.id)
    return auth(token), applicant


# --- POST /cohorts/{id}/enrollments ------------------------------------------------


async def test_enrol_then_waitlist_in_request_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=2)
    token = await make_key(session, "admin")
    results = []
    for _ in range(4):
        applicant = await make_applicant(session)
        r = await client.post(
            enrol_url(cohort), json={"applicant_id": applicant.id}, headers=auth(token)
        )
        assert r.status_code == 201, r.text
        assert set(r.json()) == ENROLLMENT_KEYS
        assert (r.json()["cohort_id"], r.json()["applicant_id"]) == (cohort.id, applicant.id)
        results.append((r.json()["status"], r.json()["waitlist_position"]))
    assert results == [("enrolled", None), ("enrolled", None), ("waitlisted", 1), ("waitlisted", 2)]
    c = (await client.get(f"/api/v1/cohorts/{cohort.id}", headers=auth(token))).json()
    assert (c["seats_taken"], c["seats_available"], c["waitlist_length"]) == (2, 0, 2)
    await assert_cohort_consistent(session, cohort.id)


async def test_creation_event_has_null_from_and_key_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session)
    headers, applicant = await client_with_applicant(session)
    r = await client.post(enrol_url(cohort), json={"applicant_id": applicant.id}, headers=headers)
    assert r.status_code == 201, r.text
    events = await client.get(f"/api/v1/enrollments/{r.json()['id']}/events", headers=headers)
    assert events.status_code == 200
    [event] = events.json()["items"]
    assert set(event) == {"from", "to", "actor", "at", "reason"}
    registrar = await session.get(ApiKey, applicant.created_by_key_id)
    assert registrar is not None
    assert (event["from"], event["to"], event["actor"], event["reason"]) == (
        None,
        "enrolled",
        registrar.name,
        None,
    )


async def test_enrol_roles_and_scope(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session)
    applicant = await make_applicant(session)
    body = {"applicant_id": applicant.id}
    assert (await client.post(enrol_url(cohort), json=body)).status_code == 401
    reporter = auth(await make_key(session, "reporter"))
    assert (await client.post(enrol_url(cohort), json=body, headers=reporter)).status_code == 403
    other_staff = auth(await make_key(session, "staff", centres=["online"]))
    r = await client.post(enrol_url(cohort), json=body, headers=other_staff)
    assert r.status_code == 403
    assert r.json()["detail"] == "This key is not scoped to the cohort's centre."
    staff = auth(await make_key(session, "staff", centres=["isb-gitc"]))
    r = await client.post(enrol_url(cohort), json=body, headers=staff)
    assert r.status_code == 201
    assert r.json()["status"] == "enrolled"


async def test_client_may_enrol_only_its_own_applicants(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session)
    mine_headers, _mine = await client_with_applicant(session)
    _other_headers, theirs = await client_with_applicant(session)
    r = await client.post(enrol_url(cohort), json={"applicant_id": theirs.id}, headers=mine_headers)
    assert r.status_code == 404
    assert r.json()["detail"] == "No applicant with this id."


async def test_unknown_cohort_and_applicant_are_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session)
    applicant = await make_applicant(session)
    headers = auth(await make_key(session, "admin"))
    r = await client.post(
        "/api/v1/cohorts/nope/enrollments", json={"applicant_id": applicant.id}, headers=headers
    )
    assert (r.status_code, r.json()["detail"]) == (404, "No cohort with this id.")
    r = await client.post(enrol_url(cohort), json={"applicant_id": "nope"}, headers=headers)
    assert (r.status_code, r.json()["detail"]) == (404, "No applicant with this id.")
    r = await client.post(enrol_url(cohort), json={}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "applicant_id", "message": "This field is required.", "code": "field.required"}
    ]


async def test_live_duplicate_is_409_and_reenrol_after_withdraw(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=1)
    applicant = await make_applicant(session)
    headers = auth(await make_key(session, "admin"))
    body = {"applicant_id": applicant.id}
    first = await client.post(enrol_url(cohort), json=body, headers=headers)
    assert first.status_code == 201
    dup = await client.post(enrol_url(cohort), json=body, headers=headers)
    assert dup.status_code == 409
    assert dup.json()["existing_id"] == first.json()["id"]
    assert dup.json()["title"] == "Already enrolled"
    w = await client.post(f"/api/v1/enrollments/{first.json()['id']}/withdraw", headers=headers)
    assert w.json()["status"] == "withdrawn"
    again = await client.post(enrol_url(cohort), json=body, headers=headers)
    assert again.status_code == 201
    assert again.json()["status"] == "enrolled"
    assert again.json()["id"] != first.json()["id"]
    await assert_cohort_consistent(session, cohort.id)


async def test_waitlisted_duplicate_is_409(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=1)
    await make_enrollment(session, cohort)
    waiting = await make_enrollment(session, cohort, status="waitlisted")
    headers = auth(await make_key(session, "admin"))
    r = await client.post(
        enrol_url(cohort), json={"applicant_id": waiting.applicant_id}, headers=headers
    )
    assert r.status_code == 409
    assert r.json()["existing_id"] == waiting.id


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        (date(2009, 1, 10), True),  # 18 on the start date exactly
        (date(2009, 1, 11), False),  # 17 on the start date
        (date(1991, 1, 11), True),  # 35 on the start date
        (date(1991, 1, 10), False),  # 36 on the start date
    ],
)
async def test_age_on_start_date(
    client: httpx.AsyncClient, session: AsyncSession, born: date, ok: bool
) -> None:
    cohort = await make_cohort(session, start_date=date(2027, 1, 10))
    applicant = await make_applicant(session, date_of_birth=born)
    headers = auth(await make_key(session, "admin"))
    r = await client.post(enrol_url(cohort), json={"applicant_id": applicant.id}, headers=headers)
    if ok:
        assert r.status_code == 201, r.text
        return
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "applicant_id"
    age = 17 if born.year == 2009 else 36
    assert error["message"] == (
        f"The applicant is {age} on the cohort's start date (2027-01-10); "
        "this cohort takes ages 18 to 35."
    )
    c = (await client.get(f"/api/v1/cohorts/{cohort.id}", headers=headers)).json()
    assert c["seats_taken"] == 0


@pytest.mark.parametrize("status", ["in_progress", "completed", "cancelled"])
async def test_enrol_in_cohort_not_open_is_409(
    client: httpx.AsyncClient, session: AsyncSession, status: str
) -> None:
    cohort = await make_cohort(session, status=status)
    applicant = await make_applicant(session)
    headers = auth(await make_key(session, "admin"))
    r = await client.post(enrol_url(cohort), json={"applicant_id": applicant.id}, headers=headers)
    assert r.status_code == 409
    assert r.json()["detail"] == f"The cohort is {status}; only open cohorts take enrollments."


async def test_enrol_is_idempotent(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session)
    applicant = await make_applicant(session)
    headers = {**auth(await make_key(session, "admin")), "Idempotency-Key": "enrol-1"}
    body = {"applicant_id": applicant.id}
    first = await client.post(enrol_url(cohort), json=body, headers=headers)
    again = await client.post(enrol_url(cohort), json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    await assert_cohort_consistent(session, cohort.id)


# --- withdraw and drop ---------------------------------------------------------------


async def test_withdraw_enrolled_promotes_head_of_waitlist(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=1)
    seat = await make_enrollment(session, cohort)
    first, second = [await make_enrollment(session, cohort, status="waitlisted") for _ in "ab"]
    token = await make_key(session, "admin")
    r = await client.post(
        f"/api/v1/enrollments/{seat.id}/withdraw",
        json={"reason": "moved to Karachi"},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["waitlist_position"]) == ("withdrawn", None)
    assert await enrollment_statuses(session, [first.id, second.id]) == ["enrolled", "waitlisted"]
    got = await client.get(f"/api/v1/enrollments/{second.id}", headers=auth(token))
    assert got.json()["waitlist_position"] == 1
    name = token.name
    events = (
        await client.get(f"/api/v1/enrollments/{seat.id}/events", headers=auth(token))
    ).json()["items"]
    assert [(e["from"], e["to"], e["actor"], e["reason"]) for e in events] == [
        ("enrolled", "withdrawn", name, "moved to Karachi")
    ]
    promoted = (
        await client.get(f"/api/v1/enrollments/{first.id}/events", headers=auth(token))
    ).json()["items"]
    assert [(e["from"], e["to"], e["reason"]) for e in promoted] == [
        ("waitlisted", "enrolled", "promoted from waitlist")
    ]
    await assert_cohort_consistent(session, cohort.id)


async def test_withdraw_waitlisted_closes_the_gap(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=1)
    await make_enrollment(session, cohort)
    waiting = [await make_enrollment(session, cohort, status="waitlisted") for _ in range(3)]
    headers = auth(await make_key(session, "admin"))
    r = await client.post(f"/api/v1/enrollments/{waiting[0].id}/withdraw", headers=headers)
    assert r.json()["status"] == "withdrawn"
    positions = [
        (await client.get(f"/api/v1/enrollments/{e.id}", headers=headers)).json()[
            "waitlist_position"
        ]
        for e in waiting
    ]
    assert positions == [None, 1, 2]
    await assert_cohort_consistent(session, cohort.id)


async def test_withdraw_in_progress_cohort_promotes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=1, status="in_progress")
    seat = await make_enrollment(session, cohort)
    waiting = await make_enrollment(session, cohort, status="waitlisted")
    headers = auth(await make_key(session, "admin"))
    r = await client.post(f"/api/v1/enrollments/{seat.id}/drop", headers=headers)
    assert r.json()["status"] == "dropped"
    assert await enrollment_statuses(session, [waiting.id]) == ["enrolled"]
    await assert_cohort_consistent(session, cohort.id)


@pytest.mark.parametrize(
    ("status", "action", "code"),
    [
        ("enrolled", "withdraw", 200),
        ("waitlisted", "withdraw", 200),
        ("withdrawn", "withdraw", 409),
        ("dropped", "withdraw", 409),
        ("completed", "withdraw", 409),
        ("failed", "withdraw", 409),
        ("cancelled", "withdraw", 409),
        ("enrolled", "drop", 200),
        ("waitlisted", "drop", 409),
        ("withdrawn", "drop", 409),
        ("dropped", "drop", 409),
        ("completed", "drop", 409),
        ("failed", "drop", 409),
        ("cancelled", "drop", 409),
    ],
)
async def test_transitions(
    client: httpx.AsyncClient, session: AsyncSession, status: str, action: str, code: int
) -> None:
    cohort = await make_cohort(session, capacity=1)
    if status == "waitlisted":
        await make_enrollment(session, cohort)
    enrollment = await make_enrollment(session, cohort, status=status)
    headers = auth(await make_key(session, "staff", centres=["isb-gitc"]))
    r = await client.post(f"/api/v1/enrollments/{enrollment.id}/{action}", headers=headers)
    assert r.status_code == code, r.text
    if code == 200:
        assert r.json()["status"] == {"withdraw": "withdrawn", "drop": "dropped"}[action]
    else:
        assert r.json()["title"] == "Invalid status change"
        verb = {"withdraw": "withdrawn", "drop": "dropped"}[action]
        assert r.json()["detail"].startswith(f"An enrollment that is {status} cannot be {verb}")
        assert await enrollment_statuses(session, [enrollment.id]) == [status]
    await assert_cohort_consistent(session, cohort.id)


async def test_withdraw_and_drop_roles_and_scope(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=5)
    own_headers, applicant = await client_with_applicant(session)
    enrollment = await make_enrollment(session, cohort, applicant)
    url = f"/api/v1/enrollments/{enrollment.id}"
    assert (await client.post(f"{url}/withdraw")).status_code == 401
    other_client = auth(await make_key(session, "client"))
    other_staff = auth(await make_key(session, "staff", centres=["online"]))
    reporter = auth(await make_key(session, "reporter"))
    for headers, code in [(other_client, 404), (other_staff, 404), (reporter, 403)]:
        r = await client.post(f"{url}/withdraw", headers=headers)
        assert r.status_code == code
    assert (await client.post(f"{url}/drop", headers=own_headers)).status_code == 403
    assert (await client.post(f"{url}/drop", headers=other_staff)).status_code == 404
    r = await client.post(f"{url}/drop", headers=other_staff)
    assert r.json()["detail"] == "No enrollment with this id."
    r = await client.post(f"{url}/withdraw", json={"reason": "changed mind"}, headers=own_headers)
    assert r.status_code == 200
    assert r.json()["status"] == "withdrawn"


async def test_unknown_enrollment_and_bad_body(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin"))
    for action in ("withdraw", "drop"):
        r = await client.post(f"/api/v1/enrollments/nope/{action}", headers=headers)
        assert (r.status_code, r.json()["detail"]) == (404, "No enrollment with this id.")
    cohort = await make_cohort(session)
    enrollment = await make_enrollment(session, cohort)
    r = await client.post(
        f"/api/v1/enrollments/{enrollment.id}/withdraw", json={"why": "x"}, headers=headers
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "why"


# --- reads ---------------------------------------------------------------------------


async def test_get_enrollment_visibility(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session)
    own_headers, applicant = await client_with_applicant(session)
    enrollment = await make_enrollment(session, cohort, applicant)
    url = f"/api/v1/enrollments/{enrollment.id}"
    assert (await client.get(url)).status_code == 401
    visible = [
        own_headers,
        auth(await make_key(session, "admin")),
        auth(await make_key(session, "staff")),
        auth(await make_key(session, "staff", centres=["isb-gitc"])),
    ]
    for headers in visible:
        r = await client.get(url, headers=headers)
        assert r.status_code == 200
        assert r.json()["id"] == enrollment.id
        assert r.json()["status"] == "enrolled"
    for headers in [
        auth(await make_key(session, "client")),
        auth(await make_key(session, "staff", centres=["online"])),
    ]:
        r = await client.get(url, headers=headers)
        assert r.status_code == 404
        r = await client.get(f"{url}/events", headers=headers)
        assert r.status_code == 404
    reporter = auth(await make_key(session, "reporter"))
    assert (await client.get(url, headers=reporter)).status_code == 403
    assert (await client.get(f"{url}/events", headers=reporter)).status_code == 403


async def test_completed_enrollment_shows_certificate_code(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, status="in_progress")
    enrollment = await make_enrollment(session, cohort, status="completed", score=88, attendance=95)
    cert = await make_certificate(session, enrollment, code="ZTE-AAAA-BBBB-CCCC")
    headers = auth(await make_key(session, "admin"))
    r = await client.get(f"/api/v1/enrollments/{enrollment.id}", headers=headers)
    assert (r.json()["status"], r.json()["certificate_code"], r.json()["score"]) == (
        "completed",
        cert.code,
        88,
    )
    listed = await client.get(
        f"/api/v1/cohorts/{cohort.id}/enrollments", params={"status": "completed"}, headers=headers
    )
    assert [e["certificate_code"] for e in listed.json()["items"]] == [cert.code]


async def test_cohort_enrollment_list(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session, capacity=2)
    own_headers, applicant = await client_with_applicant(session)
    mine = await make_enrollment(session, cohort, applicant)
    other = await make_enrollment(session, cohort)
    waiting = [await make_enrollment(session, cohort, status="waitlisted") for _ in range(3)]
    url = f"/api/v1/cohorts/{cohort.id}/enrollments"
    admin = auth(await make_key(session, "admin"))

    all_ = (await client.get(url, headers=admin)).json()
    assert [e["id"] for e in all_["items"]] == [mine.id, other.id] + [w.id for w in waiting]
    assert [e["waitlist_position"] for e in all_["items"]] == [None, None, 1, 2, 3]
    wl = (
        await client.get(url, params={"status": "waitlisted", "limit": "2"}, headers=admin)
    ).json()
    assert [e["waitlist_position"] for e in wl["items"]] == [1, 2]
    rest = (
        await client.get(
            url, params={"status": "waitlisted", "cursor": wl["next_cursor"]}, headers=admin
        )
    ).json()
    assert [e["id"] for e in rest["items"]] == [waiting[2].id]
    assert rest["next_cursor"] is None

    own = (await client.get(url, headers=own_headers)).json()
    assert [e["id"] for e in own["items"]] == [mine.id]
    other_staff = auth(await make_key(session, "staff", centres=["online"]))
    assert (await client.get(url, headers=other_staff)).status_code == 403
    reporter = auth(await make_key(session, "reporter"))
    assert (await client.get(url, headers=reporter)).status_code == 403
    assert (await client.get(url)).status_code == 401
    bad = await client.get(url, params={"status": "paused"}, headers=admin)
    assert bad.status_code == 422
    missing = await client.get("/api/v1/cohorts/nope/enrollments", headers=admin)
    assert missing.status_code == 404


async def test_applicant_enrollment_list(client: httpx.AsyncClient, session: AsyncSession) -> None:
    own_headers, applicant = await client_with_applicant(session)
    isb = await make_cohort(session)
    online = await make_cohort(session, centre_code="online")
    a = await make_enrollment(session, isb, applicant, status="withdrawn")
    b = await make_enrollment(session, isb, applicant)
    c = await make_enrollment(session, online, applicant)
    url = f"/api/v1/applicants/{applicant.id}/enrollments"
    r = await client.get(url, headers=own_headers)
    assert [e["id"] for e in r.json()["items"]] == [a.id, b.id, c.id]
    r = await client.get(url, params={"status": "enrolled"}, headers=own_headers)
    assert [e["id"] for e in r.json()["items"]] == [b.id, c.id]
    scoped = auth(await make_key(session, "staff", centres=["online"]))
    r = await client.get(url, headers=scoped)
    assert [e["id"] for e in r.json()["items"]] == [c.id]
    other_client = auth(await make_key(session, "client"))
    r = await client.get(url, headers=other_client)
    assert (r.status_code, r.json()["detail"]) == (404, "No applicant with this id.")
    reporter = auth(await make_key(session, "reporter"))
    assert (await client.get(url, headers=reporter)).status_code == 403
    assert (await client.get(url)).status_code == 401
