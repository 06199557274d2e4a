"""Scope between tenants of one role: client A vs client B, staff of centre A vs centre B."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Applicant, Cohort, Enrollment
from tests.factories import (
    applicant_payload,
    auth,
    cohort_payload,
    make_applicant,
    make_cohort,
    make_enrollment,
    make_key,
)
from tests.factories import centre as make_centre


@dataclass
class Tenants:
    client_a: str
    client_b: str
    staff_a: str  # scoped to centre A
    applicant_b: Applicant  # registered by client B
    cohort_a: Cohort
    cohort_b: Cohort
    enrollment_b: Enrollment  # client B's applicant in centre B's cohort


@pytest.fixture
async def tenants(session: AsyncSession) -> Tenants:
    await make_centre(session, "centre-a")
    await make_centre(session, "centre-b")
    client_a = await make_key(session, "client")
    client_b = await make_key(session, "client")
    staff_a = await make_key(session, "staff", centres=["centre-a"])
    applicant_b = await make_applicant(session, created_by_key_id=client_b.id)
    cohort_a = await make_cohort(session, centre_code="centre-a")
    cohort_b = await make_cohort(session, centre_code="centre-b")
    enrollment_b = await make_enrollment(session, cohort_b, applicant_b)
    return Tenants(client_a, client_b, staff_a, applicant_b, cohort_a, cohort_b, enrollment_b)


def _is_not_found(response: httpx.Response) -> bool:
    return (
        response.status_code == 404
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["status"] == 404
    )


async def test_a_client_cannot_see_or_touch_another_clients_applicant(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, applicant = auth(tenants.client_a), tenants.applicant_b
    base = f"/api/v1/applicants/{applicant.id}"
    assert _is_not_found(await client.get(base, headers=a))
    assert _is_not_found(await client.patch(base, json={"district": "Quetta"}, headers=a))
    assert _is_not_found(await client.get(f"{base}/enrollments", headers=a))
    lookup = await client.post(
        "/api/v1/applicants/lookup", json={"cnic": applicant.cnic}, headers=a
    )
    assert lookup.status_code == 200
    assert lookup.json() == {"items": []}
    # Registering the same CNIC for another person is a conflict that does not reveal the
    # other client's id (the same person is linked: tests/applicants/test_link.py).
    dup = await client.post(
        "/api/v1/applicants",
        json=applicant_payload(cnic=applicant.cnic, full_name="Someone Else"),
        headers=a,
    )
    assert dup.status_code == 409
    assert "existing_id" not in dup.json()
    # Its owner sees it.
    own = await client.get(base, headers=auth(tenants.client_b))
    assert own.status_code == 200
    assert own.json()["id"] == applicant.id


async def test_a_client_cannot_enrol_see_or_withdraw_another_clients_enrollment(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = auth(tenants.client_a)
    enrolment_url = f"/api/v1/enrollments/{tenants.enrollment_b.id}"
    assert _is_not_found(await client.get(enrolment_url, headers=a))
    assert _is_not_found(await client.get(f"{enrolment_url}/events", headers=a))
    assert _is_not_found(await client.post(f"{enrolment_url}/withdraw", headers=a))
    enrol = await client.post(
        f"/api/v1/cohorts/{tenants.cohort_a.id}/enrollments",
        json={"applicant_id": tenants.applicant_b.id},
        headers=a,
    )
    assert _is_not_found(enrol)
    listed = await client.get(f"/api/v1/cohorts/{tenants.cohort_b.id}/enrollments", headers=a)
    assert listed.status_code == 200
    assert tenants.enrollment_b.id not in listed.text


async def test_staff_of_one_centre_may_not_manage_another_centres_cohorts(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    s = auth(tenants.staff_a)
    other = f"/api/v1/cohorts/{tenants.cohort_b.id}"
    # Cohorts are not secret: readable, but not manageable (403).
    assert (await client.get(other, headers=s)).status_code == 200
    for response in (
        await client.patch(other, json={"name": "Mine now"}, headers=s),
        await client.post(f"{other}/start", headers=s),
        await client.post(f"{other}/cancel", headers=s),
        await client.post(f"{other}/complete", headers=s),
        await client.post(
            f"{other}/enrollments", json={"applicant_id": tenants.applicant_b.id}, headers=s
        ),
    ):
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
    body = cohort_payload(centre="centre-b", code="b-cohort-by-a")
    created = await client.post("/api/v1/cohorts", json=body, headers=s)
    assert created.status_code == 403, created.text
    # Its own centre's cohort is fine.
    own = await client.patch(
        f"/api/v1/cohorts/{tenants.cohort_a.id}", json={"name": "Renamed"}, headers=s
    )
    assert own.status_code == 200
    assert own.json()["name"] == "Renamed"


async def test_staff_of_one_centre_cannot_see_another_centres_enrollments(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    s = auth(tenants.staff_a)
    url = f"/api/v1/enrollments/{tenants.enrollment_b.id}"
    assert _is_not_found(await client.get(url, headers=s))
    assert _is_not_found(await client.get(f"{url}/events", headers=s))
    for action in ("withdraw", "drop", "accept", "decline", "no-show"):
        assert _is_not_found(await client.post(f"{url}/{action}", headers=s))
    listed = await client.get(f"/api/v1/cohorts/{tenants.cohort_b.id}/enrollments", headers=s)
    assert listed.status_code in (403, 404)
    assert tenants.enrollment_b.id not in listed.text
