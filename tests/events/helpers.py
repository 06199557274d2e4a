"""Walk the write endpoints and read the events feed back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import applicant_payload, auth, cohort_payload, make_key, unique


async def read_all(
    client: httpx.AsyncClient, token: str, *, types: str | None = None, limit: int = 500
) -> tuple[list[dict[str, Any]], str]:
    """Every event the key may see, polling with next_cursor until a page is empty."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["after"] = cursor
        if types is not None:
            params["types"] = types
        r = await client.get("/api/v1/events", params=params, headers=auth(token))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["next_cursor"] is not None
        items.extend(body["items"])
        if not body["items"]:
            return items, body["next_cursor"]
        cursor = body["next_cursor"]


@dataclass
class Walk:
    """What the walk created, for assertions."""

    admin: str
    client_token: str
    applicant_ids: list[str] = field(default_factory=list)
    payloads: list[dict[str, object]] = field(default_factory=list)
    cohort_id: str = ""
    other_cohort_id: str = ""
    enrollment_ids: list[str] = field(default_factory=list)
    certificate_code: str = ""


async def walk(client: httpx.AsyncClient, session: AsyncSession) -> Walk:
    """Register, update, create cohorts, enrol (one waitlisted), withdraw (a promotion),
    start, complete (a certificate), revoke, cancel a cohort (cancellations)."""
    w = Walk(admin=await make_key(session, "admin"), client_token=await make_key(session, "client"))
    admin, client_h = auth(w.admin), auth(w.client_token)
    for _ in range(3):
        payload = applicant_payload()
        r = await client.post("/api/v1/applicants", json=payload, headers=client_h)
        assert r.status_code == 201, r.text
        w.applicant_ids.append(r.json()["id"])
        w.payloads.append(payload)
    r = await client.patch(
        f"/api/v1/applicants/{w.applicant_ids[0]}",
        json={"district": "Multan"},
        headers=client_h,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/cohorts", json=cohort_payload(code=unique("c"), capacity=1), headers=admin
    )
    assert r.status_code == 201, r.text
    w.cohort_id = r.json()["id"]
    r = await client.patch(
        f"/api/v1/cohorts/{w.cohort_id}", json={"name": "Renamed"}, headers=admin
    )
    assert r.status_code == 200, r.text
    for applicant_id in w.applicant_ids[:2]:
        r = await client.post(
            f"/api/v1/cohorts/{w.cohort_id}/enrollments",
            json={"applicant_id": applicant_id},
            headers=client_h,
        )
        assert r.status_code == 201, r.text
        w.enrollment_ids.append(r.json()["id"])
    r = await client.post(f"/api/v1/enrollments/{w.enrollment_ids[0]}/withdraw", headers=client_h)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/cohorts/{w.cohort_id}/start", headers=admin)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/enrollments/{w.enrollment_ids[1]}/complete",
        json={"score": 90, "attendance": 95},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    w.certificate_code = r.json()["certificate_code"]
    r = await client.post(
        f"/api/v1/certificates/{w.certificate_code}/revoke",
        json={"reason": "issued in error"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/cohorts", json=cohort_payload(code=unique("c"), capacity=5), headers=admin
    )
    assert r.status_code == 201, r.text
    w.other_cohort_id = r.json()["id"]
    r = await client.post(
        f"/api/v1/cohorts/{w.other_cohort_id}/enrollments",
        json={"applicant_id": w.applicant_ids[2]},
        headers=client_h,
    )
    assert r.status_code == 201, r.text
    w.enrollment_ids.append(r.json()["id"])
    r = await client.post(f"/api/v1/cohorts/{w.other_cohort_id}/cancel", headers=admin)
    assert r.status_code == 200, r.text
    return w
