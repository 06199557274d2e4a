"""GET /api/v1/events: every change in commit order, what each key may see, the cursor."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.events.types import DATA_KEYS
from tests.events.helpers import read_all, walk
from tests.factories import auth, make_key


def since(items: list[dict[str, Any]], ids: set[str]) -> list[tuple[str, Any]]:
    """(type, subject) of the events about the walk's applicants and cohorts."""
    out = []
    for e in items:
        d = e["data"]
        subject = d.get("enrollment_id") or d.get("applicant_id") or d.get("cohort_id")
        if d.get("applicant_id") in ids or d.get("cohort_id") in ids:
            out.append((e["type"], subject))
    return out


async def test_walk_emits_every_change_in_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await walk(client, session)
    items, _ = await read_all(client, w.admin)
    a, e = w.applicant_ids, w.enrollment_ids
    got = since(items, {*a, w.cohort_id, w.other_cohort_id})
    assert got == [
        ("applicant.registered", a[0]),
        ("applicant.registered", a[1]),
        ("applicant.registered", a[2]),
        ("applicant.updated", a[0]),
        ("cohort.created", w.cohort_id),
        ("cohort.updated", w.cohort_id),
        ("enrollment.enrolled", e[0]),
        ("enrollment.waitlisted", e[1]),
        ("enrollment.withdrawn", e[0]),
        ("enrollment.enrolled", e[1]),
        ("cohort.started", w.cohort_id),
        ("certificate.issued", e[1]),
        ("enrollment.completed", e[1]),
        ("certificate.revoked", e[1]),
        ("cohort.created", w.other_cohort_id),
        ("enrollment.enrolled", e[2]),
        ("cohort.cancelled", w.other_cohort_id),
        ("enrollment.cancelled", e[2]),
    ]
    by_type = {(x["type"], x["data"].get("enrollment_id")): x for x in items}
    waitlisted = by_type[("enrollment.waitlisted", e[1])]["data"]
    assert waitlisted["from"] is None
    assert waitlisted["to"] == waitlisted["status"] == "waitlisted"
    assert waitlisted["waitlist_position"] == 1
    assert waitlisted["cohort"].startswith("c-")
    assert waitlisted["programme"] == "zte-ict"
    assert waitlisted["centre"] == "isb-gitc"
    promoted = by_type[("enrollment.enrolled", e[1])]["data"]
    assert promoted["from"] == "waitlisted"
    assert promoted["reason"] == "promoted from waitlist"
    issued = by_type[("certificate.issued", e[1])]
    assert issued["data"]["certificate_code"] == w.certificate_code
    revoked = by_type[("certificate.revoked", e[1])]["data"]
    assert revoked["reason"] == "issued in error"
    for item in items:
        assert set(item) == {"id", "type", "timestamp", "data"}
        assert item["timestamp"].endswith(("Z", "+00:00"))


async def test_no_personal_data_in_any_event(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await walk(client, session)
    items, _ = await read_all(client, w.admin)
    types = {e["type"] for e in items}
    assert {"applicant.registered", "applicant.updated", "certificate.revoked"} <= types
    personal = set()
    for p in w.payloads:
        for name in ("cnic", "full_name", "email", "phone"):
            personal.add(str(p[name]))
            personal.add(str(p[name]).replace("-", ""))
    personal |= {"+92" + str(p["phone"])[1:] for p in w.payloads}
    for item in items:
        assert set(item["data"]) <= DATA_KEYS, item
        flat = repr(item)
        for value in personal:
            assert value not in flat, (item["type"], "carries personal data")


async def test_cursor_pages_never_skip_or_repeat(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await walk(client, session)
    everything, last = await read_all(client, w.admin)
    one_by_one, last_again = await read_all(client, w.admin, limit=1)
    assert [e["id"] for e in one_by_one] == [e["id"] for e in everything]
    assert len({e["id"] for e in everything}) == len(everything)
    assert last_again == last
    # Nothing new: the cursor comes back as given, never null.
    r = await client.get("/api/v1/events", params={"after": last}, headers=auth(w.admin))
    assert r.json() == {"items": [], "next_cursor": last}
    # A new change appears after the cursor.
    r = await client.patch(
        f"/api/v1/applicants/{w.applicant_ids[1]}",
        json={"district": "Multan"},
        headers=auth(w.client_token),
    )
    r = await client.get("/api/v1/events", params={"after": last}, headers=auth(w.admin))
    assert [(e["type"], e["data"]) for e in r.json()["items"]] == [
        ("applicant.updated", {"applicant_id": w.applicant_ids[1]})
    ]


async def test_types_filter(client: httpx.AsyncClient, session: AsyncSession) -> None:
    w = await walk(client, session)
    items, _ = await read_all(client, w.admin, types="enrollment.*, certificate.issued")
    types = {e["type"] for e in items}
    assert types == {
        "enrollment.enrolled",
        "enrollment.waitlisted",
        "enrollment.withdrawn",
        "enrollment.completed",
        "enrollment.cancelled",
        "certificate.issued",
    }


async def test_client_sees_only_its_applicants(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await walk(client, session)
    mine, _ = await read_all(client, w.client_token)
    assert mine
    assert all(e["data"]["applicant_id"] in w.applicant_ids for e in mine)
    assert not any(e["type"].startswith("cohort.") for e in mine)
    assert {"applicant.registered", "enrollment.enrolled", "certificate.issued"} <= {
        e["type"] for e in mine
    }
    other = await make_key(session, "client")
    theirs, _ = await read_all(client, other)
    assert theirs == []


async def test_staff_sees_its_centres_and_every_applicant_event(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await walk(client, session)
    ours = await make_key(session, "staff", centres=["isb-gitc"])
    elsewhere = await make_key(session, "staff", centres=["online"])
    ours_items, _ = await read_all(client, ours)
    ids = {*w.applicant_ids, w.cohort_id, w.other_cohort_id}
    assert len(since(ours_items, ids)) == 18
    other_items, _ = await read_all(client, elsewhere)
    assert {t for t, _ in since(other_items, ids)} == {"applicant.registered", "applicant.updated"}


async def test_reporter_sees_certificates_pseudonymised(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await walk(client, session)
    reporter = await make_key(session, "reporter")
    items, _ = await read_all(client, reporter)
    assert {e["type"] for e in items} == {"certificate.issued", "certificate.revoked"}
    issued, revoked = items[-2:]
    for item in (issued, revoked):
        assert "certificate_code" not in item["data"]
        assert item["data"]["enrollment_id"] != w.enrollment_ids[1]
        assert item["data"]["applicant_id"] not in w.applicant_ids
    # Stable for one key (a revocation matches its completion), different for another.
    assert issued["data"]["enrollment_id"] == revoked["data"]["enrollment_id"]
    again, _ = await read_all(client, reporter)
    assert again == items
    # Exactly the completions feed's pseudonyms: a job can join the two.
    feed = await client.get("/api/v1/reports/completions", headers=auth(reporter))
    assert issued["data"]["enrollment_id"] in {i["enrollment_id"] for i in feed.json()["items"]}
    assert issued["data"]["applicant_id"] in {i["applicant_id"] for i in feed.json()["items"]}
    second = await make_key(session, "reporter")
    others, _ = await read_all(client, second)
    assert others[-1]["data"]["enrollment_id"] != revoked["data"]["enrollment_id"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"types": "enrollment.*,nope.*"}, "types"),
        ({"types": "enrollment.teleported"}, "types"),
        ({"after": "not-a-cursor"}, "after"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, params: dict[str, str], field: str
) -> None:
    token = await make_key(session, "admin")
    r = await client.get("/api/v1/events", params=params, headers=auth(token))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_needs_a_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/events")
    assert r.status_code == 401


async def test_emit_is_one_call_and_follows_visibility(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from service.events import emit
    from tests.factories import centre, make_applicant

    isb = await centre(session, "isb-gitc")
    applicant = await make_applicant(session)
    emit(
        session,
        "attendance.at_risk",
        {"applicant_id": applicant.id, "percent": 62.5},
        centre_id=isb.id,
    )
    await session.flush()
    ours = await make_key(session, "staff", centres=["isb-gitc"])
    theirs = await make_key(session, "staff", centres=["online"])
    got, _ = await read_all(client, ours, types="attendance.*")
    assert [(e["type"], e["data"]) for e in got] == [
        ("attendance.at_risk", {"applicant_id": applicant.id, "percent": 62.5})
    ]
    assert (await read_all(client, theirs, types="attendance.*"))[0] == []
    with pytest.raises(ValueError, match="cnic"):
        emit(session, "applicant.linked", {"applicant_id": applicant.id, "cnic": "x"})
    with pytest.raises(ValueError, match="unknown event type"):
        emit(session, "applicant.teleported", {})
