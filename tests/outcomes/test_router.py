"""Recording, reading and correcting outcomes: roles, scope, every documented error."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key
from tests.outcomes.helpers import PERSONAL, URL, completer, events_of, outcome


async def test_record_read_and_list(client: httpx.AsyncClient, session: AsyncSession) -> None:
    partner = await make_key(session, "client")
    done = await completer(session, days_ago=175, client_key_id=partner.id)
    body = outcome(
        income_band="25k_50k", online_store=True, export_orders=2, export_value_usd=1500.5
    )
    r = await client.post(URL.format(done.id), json=body, headers=auth(partner))
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"/api/v1/outcomes/{created['id']}"
    assert {k: created[k] for k in body} == body
    assert created["enrollment_id"] == done.id
    assert created["applicant_id"] == done.applicant_id
    assert created["recorded_on"]
    assert created["corrections"] == []
    read = await client.get(f"/api/v1/outcomes/{created['id']}", headers=auth(partner))
    assert read.json() == created
    listed = await client.get(URL.format(done.id), headers=auth(partner))
    assert listed.json() == {"items": [created]}
    [event] = await events_of(session, "outcome.recorded")
    assert event["enrollment_id"] == done.id
    assert event["follow_up"] == "6m"
    assert event["status"] == "employed"
    assert {"cohort_id", "cohort", "programme", "centre", "applicant_id"} <= set(event)
    assert not set(event) & set(PERSONAL)


async def test_errors(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = auth(await make_key(session, "admin"))
    done = await completer(session)
    url = URL.format(done.id)
    assert (await client.post(url, json=outcome())).status_code == 401
    reporter = auth(await make_key(session, "reporter"))
    assert (await client.post(url, json=outcome(), headers=reporter)).status_code == 403
    # Another client's enrollment, and a staff key of another centre: not found.
    other = auth(await make_key(session, "client"))
    assert (await client.post(url, json=outcome(), headers=other)).status_code == 404
    elsewhere = auth(await make_key(session, "staff", centres=["online"]))
    assert (await client.post(url, json=outcome(), headers=elsewhere)).status_code == 404
    missing = await client.post(URL.format("no-such-id"), json=outcome(), headers=admin)
    assert missing.status_code == 404
    # Unknown enum values and negative figures name the field.
    for field, value in [
        ("status", "retired"),
        ("income_band", "rich"),
        ("source", "pigeon"),
        ("follow_up", "2m"),
        ("export_orders", -1),
        ("export_value_usd", -0.5),
        ("export_orders", 1.5),
    ]:
        r = await client.post(url, json=outcome(**{field: value}), headers=admin)
        assert r.status_code == 422, (field, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field]
    future = await client.post(url, json=outcome(recorded_on="2999-01-01"), headers=admin)
    assert [e["field"] for e in future.json()["errors"]] == ["recorded_on"]
    # Once per follow-up.
    first = await client.post(url, json=outcome(), headers=admin)
    assert first.status_code == 201
    again = await client.post(url, json=outcome(status="unemployed"), headers=admin)
    assert again.status_code == 409
    assert again.json()["existing_id"] == first.json()["id"]
    assert (await client.post(url, json=outcome(follow_up="12m"), headers=admin)).status_code == 201
    # Not completed.
    failed = await completer(session, status="failed")
    r = await client.post(URL.format(failed.id), json=outcome(), headers=admin)
    assert r.status_code == 409
    assert r.json()["current_status"] == "failed"


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_correction_keeps_an_audit_trail(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    key = await make_key(session, role, centres=["isb-gitc"] if role == "staff" else None)
    done = await completer(session)
    created = (await client.post(URL.format(done.id), json=outcome(), headers=auth(key))).json()
    url = f"/api/v1/outcomes/{created['id']}"
    r = await client.patch(
        url, json={"status": "self_employed", "export_orders": 3}, headers=auth(key)
    )
    assert r.status_code == 200, r.text
    fixed = r.json()
    assert (fixed["status"], fixed["export_orders"]) == ("self_employed", 3)
    [correction] = fixed["corrections"]
    assert correction["actor"] == key.name
    assert correction["changes"] == {
        "status": {"from": "employed", "to": "self_employed"},
        "export_orders": {"from": None, "to": 3},
    }
    # Nothing changed: no correction, no event.
    same = await client.patch(url, json={"status": "self_employed"}, headers=auth(key))
    assert len(same.json()["corrections"]) == 1
    assert [e["status"] for e in await events_of(session, "outcome.recorded")] == [
        "employed",
        "self_employed",
    ]
    for body in ({"status": None}, {"status": "gone"}, {"export_value_usd": -1}):
        bad = await client.patch(url, json=body, headers=auth(key))
        assert bad.status_code == 422, body
        assert [e["field"] for e in bad.json()["errors"]] == list(body)
    other = auth(await make_key(session, "client"))
    assert (await client.patch(url, json={"status": "freelance"}, headers=other)).status_code == 404
    assert (await client.get(url, headers=other)).status_code == 404
    assert (await client.get(URL.format(done.id), headers=other)).status_code == 404
