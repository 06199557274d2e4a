"""GET /api/v1/reports/completions: commit order, cursors, masking, revocations.

What a reporter may link (pseudonyms, no codes) and centre scoping: test_reporter_links.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Certificate
from tests.factories import auth, make_key
from tests.reports.fixtures import build_world

URL = "/api/v1/reports/completions"


async def poll(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = await client.get(URL, params=params, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert isinstance(body["next_cursor"], str)
    assert body["next_cursor"]
    return body


async def test_empty_feed_gives_a_start_cursor(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "reporter"))
    first = await poll(client, headers)
    assert first["items"] == []
    again = await poll(client, headers, after=first["next_cursor"])
    assert again == {"items": [], "next_cursor": first["next_cursor"]}


async def test_feed_order_cursor_and_revocations(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    headers = auth(await make_key(session, "admin"))
    page1 = await poll(client, headers, limit=4)
    page2 = await poll(client, headers, after=page1["next_cursor"], limit=4)
    items = page1["items"] + page2["items"]
    # Certificates were issued A-isb, A-online, A-ali, B-isb, C-isb; then C's was revoked.
    keys = ["A-isb", "A-online", "A-ali", "B-isb", "C-isb", "C-isb"]
    assert [i["enrollment_id"] for i in items] == [world.enrollments[k].id for k in keys]
    assert [i["kind"] for i in items] == ["completion"] * 5 + ["revocation"]
    positions = [i["position"] for i in items]
    assert positions == sorted(positions)
    assert len(set(positions)) == 6
    # Nothing new: the same cursor comes back.
    idle = await poll(client, headers, after=page2["next_cursor"])
    assert idle == {"items": [], "next_cursor": page2["next_cursor"]}

    a = world.people["A"]
    first = items[0]
    assert first == {
        "position": first["position"],
        "kind": "completion",
        "enrollment_id": world.enrollments["A-isb"].id,
        "applicant_id": a.id,
        "cnic": a.cnic,
        "programme": "zte-ict",
        "cohort": "zte-isb-1",
        "track": "cloud",
        "centre": "isb-gitc",
        "province": "punjab",
        "district": "Lahore",
        "gender": "female",
        "age_band": "25-29",
        "score": 80.0,
        "attendance": 90.0,
        "completed_at": first["completed_at"],
        "certificate_code": "ZTE-TEST-A-ISB",
        "revoked_at": None,
        "reason": None,
    }
    assert datetime.fromisoformat(first["completed_at"]) < datetime.now(UTC)
    revocation = items[-1]
    assert revocation["certificate_code"] == "ZTE-TEST-C-ISB"
    assert revocation["reason"] == "issued in error"
    assert revocation["revoked_at"] is not None
    for item in items:
        assert not {"full_name", "email", "phone"} & set(item)

    # A later revocation appears after the cursor, once.
    await session.execute(
        update(Certificate)
        .where(Certificate.id == world.certificates["B-isb"].id)
        .values(revoked_at=datetime.now(UTC), revoked_reason="duplicate")
    )
    later = await poll(client, headers, after=page2["next_cursor"])
    assert [(i["kind"], i["enrollment_id"]) for i in later["items"]] == [
        ("revocation", world.enrollments["B-isb"].id)
    ]
    assert later["items"][0]["position"] > positions[-1]


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_staff_and_admin_see_full_cnic(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    world = await build_world(session)
    body = await poll(client, auth(await make_key(session, role)))
    assert body["items"][0]["cnic"] == world.people["A"].cnic


@pytest.mark.parametrize("cursor", ["garbage", "ZmVlZDp4", "-1", "x" * 300])
async def test_bad_cursor_is_422(
    client: httpx.AsyncClient, session: AsyncSession, cursor: str
) -> None:
    r = await client.get(
        URL, params={"after": cursor}, headers=auth(await make_key(session, "reporter"))
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["after"]
