"""The /api/v1/webhooks endpoints: create, read, change, delete, rotate, test, replay."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key

PUBLIC_URL = "https://93.184.216.34/hooks/enroll"


async def create(client: httpx.AsyncClient, token: str, **body: object) -> httpx.Response:
    payload: dict[str, object] = {"url": PUBLIC_URL, "events": ["enrollment.*"]}
    payload.update(body)
    return await client.post("/api/v1/webhooks", json=payload, headers=auth(token))


async def test_create_shows_the_secret_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    r = await create(client, token, description="SMS gateway")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["enrollment.*"]
    assert body["enabled"] is True
    assert body["url"] == PUBLIC_URL
    got = await client.get(f"/api/v1/webhooks/{body['id']}", headers=auth(token))
    assert got.status_code == 200
    assert "secret" not in got.json()
    assert got.json()["description"] == "SMS gateway"


async def test_each_key_sees_its_own_and_admin_all(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    mine, theirs, admin = (
        await make_key(session, "client"),
        await make_key(session, "staff"),
        await make_key(session, "admin"),
    )
    a = (await create(client, mine)).json()["id"]
    b = (await create(client, theirs)).json()["id"]
    listed = (await client.get("/api/v1/webhooks", headers=auth(mine))).json()["items"]
    assert [w["id"] for w in listed] == [a]
    every = (await client.get("/api/v1/webhooks?limit=500", headers=auth(admin))).json()["items"]
    assert {a, b} <= {w["id"] for w in every}
    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"description": "x"}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", None),
        ("POST", "/test", None),
        ("GET", "/deliveries", None),
        ("POST", "/replay", {"since": "2026-01-01T00:00:00Z"}),
    ]:
        r = await client.request(
            method, f"/api/v1/webhooks/{b}{path}", json=body, headers=auth(mine)
        )
        assert r.status_code == 404, (method, path, r.text)
    assert (await client.get(f"/api/v1/webhooks/{b}", headers=auth(admin))).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://93.184.216.34/hook"}, "url"),
        ({"url": "https://127.0.0.1/hook"}, "url"),
        ({"url": "https://10.1.2.3/hook"}, "url"),
        ({"url": "https://192.168.0.10/hook"}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "https://[::1]/hook"}, "url"),
        ({"url": "https://224.0.0.1/hook"}, "url"),
        ({"url": "https://localhost/hook"}, "url"),
        ({"url": "https://93.184.216.34/" + "a" * 2000}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": ["enrollment.*", "nope.*"]}, "events"),
        ({"events": ["enrollment.teleported"]}, "events"),
        ({"events": []}, "events"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, body: dict[str, object], field: str
) -> None:
    token = await make_key(session, "client")
    r = await create(client, token, **body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_patch_rotate_delete(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "reporter")
    created = (await create(client, token, events=["certificate.*"])).json()
    url = f"/api/v1/webhooks/{created['id']}"
    r = await client.patch(url, json={"events": ["certificate.issued"]}, headers=auth(token))
    assert r.status_code == 200
    assert r.json()["events"] == ["certificate.issued"]
    r = await client.patch(url, json={"url": "https://10.0.0.1/"}, headers=auth(token))
    assert r.status_code == 422
    r = await client.post(f"{url}/rotate-secret", headers=auth(token))
    assert r.status_code == 200
    assert r.json()["secret"].startswith("whsec_")
    assert r.json()["secret"] != created["secret"]
    r = await client.post(f"{url}/test", headers=auth(token))
    assert r.status_code == 202
    event_id = r.json()["event_id"]
    r = await client.get(f"{url}/deliveries", headers=auth(token))
    assert [(d["event_id"], d["event_type"], d["status"]) for d in r.json()["items"]] == [
        (event_id, "webhook.test", "pending")
    ]
    # A test event is for this endpoint alone: never in the feed.
    feed = await client.get("/api/v1/events", headers=auth(await make_key(session, "admin")))
    assert event_id not in {e["id"] for e in feed.json()["items"]}
    r = await client.delete(url, headers=auth(token))
    assert r.status_code == 204
    assert (await client.get(url, headers=auth(token))).status_code == 404


async def test_deliveries_status_filter_is_validated(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    created = (await create(client, token)).json()
    r = await client.get(
        f"/api/v1/webhooks/{created['id']}/deliveries?status=lost", headers=auth(token)
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["status"]


async def test_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/webhooks")).status_code == 401
