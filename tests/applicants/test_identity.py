"""POST /api/v1/applicants/{id}/identity: an admin corrects a wrong registration, audited."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.identity import fingerprint
from service.core.config import Settings
from service.models import Applicant, ApplicantEvent
from tests.applicants.helpers import csv_bytes, csv_row, register, upload
from tests.factories import auth, make_applicant, make_key, random_cnic

URL = "/api/v1/applicants"


def identity_url(applicant_id: str) -> str:
    return f"{URL}/{applicant_id}/identity"


async def events(session: AsyncSession, applicant_id: str) -> list[ApplicantEvent]:
    stmt = select(ApplicantEvent).where(ApplicantEvent.applicant_id == applicant_id)
    return list(await session.scalars(stmt.order_by(ApplicantEvent.id)))


async def test_roles_and_unknown_applicant(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    applicant = await make_applicant(session)
    body = {"full_name": "Bilal Ahmed", "reason": "Squatted registration"}
    assert (await client.post(identity_url(applicant.id), json=body)).status_code == 401
    for role in ("client", "staff", "reporter"):
        token = await make_key(session, role)
        r = await client.post(identity_url(applicant.id), json=body, headers=auth(token))
        assert r.status_code == 403, role
        assert r.headers["content-type"].startswith("application/problem+json")
    admin = await make_key(session, "admin")
    r = await client.post(identity_url("no-such-applicant"), json=body, headers=auth(admin))
    assert r.status_code == 404
    assert r.json()["detail"] == "No applicant with this id."
    assert (await session.get(Applicant, applicant.id)) is not None
    assert await events(session, applicant.id) == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"full_name": "Bilal Ahmed"}, "reason", "This field is required."),
        ({"full_name": "Bilal Ahmed", "reason": "  "}, "reason", "must not be empty"),
        ({"reason": "typo"}, "body", "Give full_name, date_of_birth and/or gender"),
        ({"full_name": None, "reason": "typo"}, "full_name", "cannot be removed"),
        ({"date_of_birth": "2002-02-30", "reason": "typo"}, "date_of_birth", "real date"),
        ({"gender": "other", "reason": "typo"}, "gender", "female"),
        ({"cnic": "35202-1234567-1", "reason": "typo"}, "cnic", "Extra inputs"),
        ({"email": "a@b.pk", "reason": "typo"}, "email", "Extra inputs"),
    ],
)
async def test_bad_corrections_are_422_naming_the_field(
    client: httpx.AsyncClient,
    session: AsyncSession,
    body: dict[str, object],
    field: str,
    message: str,
) -> None:
    applicant = await make_applicant(session)
    admin = await make_key(session, "admin")
    r = await client.post(identity_url(applicant.id), json=body, headers=auth(admin))
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert message in errors[field], errors
    assert await events(session, applicant.id) == []


async def test_correction_changes_identity_and_audits_a_fingerprint_not_the_values(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    squatter = await make_key(session, "client")
    cnic = random_cnic()
    wrong = await register(
        client, squatter, cnic=cnic, full_name="Zarqa Squatter", date_of_birth="1999-01-02"
    )
    applicant_id = wrong.json()["id"]
    admin = await make_key(session, "admin")
    caplog.set_level(logging.DEBUG)
    r = await client.post(
        identity_url(applicant_id),
        json={
            "full_name": " Ayesha Khan ",
            "date_of_birth": "2002-03-14",
            "gender": "female",  # unchanged: not listed in the audit
            "reason": "Registered under a wrong name (ticket 41)",
        },
        headers=auth(admin),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["full_name"], body["date_of_birth"]) == (
        applicant_id,
        "Ayesha Khan",
        "2002-03-14",
    )
    assert body["cnic"] == cnic
    assert body["updated_at"] > wrong.json()["updated_at"]

    [event] = await events(session, applicant_id)
    assert event.type == "applicant.identity_corrected"
    assert event.reason == "Registered under a wrong name (ticket 41)"
    assert event.fields == "date_of_birth,full_name"
    old = {"full_name": "Zarqa Squatter", "date_of_birth": "1999-01-02"}
    secret = settings.secret_key
    assert event.old_fingerprint == fingerprint(secret, applicant_id, old)
    assert event.old_fingerprint != fingerprint(secret, applicant_id, {"full_name": "x"})
    assert "Zarqa" not in (event.old_fingerprint or "")
    assert "Zarqa" not in caplog.text
    assert "1999-01-02" not in caplog.text

    # The real partner app now registers the true identity: linked, not refused.
    partner = await make_key(session, "client")
    linked = await register(
        client, partner, cnic=cnic, full_name="AYESHA KHAN", date_of_birth="2002-03-14"
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["linked"] is True


async def test_fingerprint_is_keyed_by_the_secret() -> None:
    values = {"full_name": "Zarqa Squatter"}
    a = fingerprint("secret-one-" * 4, "id-1", values)
    assert a == fingerprint("secret-one-" * 4, "id-1", values)
    assert a != fingerprint("secret-two-" * 4, "id-1", values)
    assert a != fingerprint("secret-one-" * 4, "id-2", values)
    assert a.startswith("v1:")
    assert len(a) <= 100


async def test_imports_with_the_corrected_identity_succeed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await make_key(session, "staff")
    admin = await make_key(session, "admin")
    squatted = await make_applicant(session, full_name="Wrong Name", gender="male")
    row = csv_row(cnic=squatted.cnic, full_name="Ayesha Khan", gender="female")
    before = (await upload(client, staff, csv_bytes([row]))).json()
    assert {e["field"] for e in before["errors"]} == {"full_name", "gender"}

    r = await client.post(
        identity_url(squatted.id),
        json={"full_name": "Ayesha Khan", "gender": "female", "reason": "Squatted CNIC"},
        headers=auth(admin),
    )
    assert r.status_code == 200, r.text
    after = (await upload(client, staff, csv_bytes([row]))).json()
    assert after["errors"] == []
    assert after["created"] == 0
    assert after["updated"] + after["unchanged"] == 1


async def test_a_correction_that_changes_nothing_records_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    applicant = await make_applicant(session)
    admin = await make_key(session, "admin")
    r = await client.post(
        identity_url(applicant.id),
        json={"full_name": applicant.full_name, "reason": "Checked: correct"},
        headers=auth(admin),
    )
    assert r.status_code == 200
    assert r.json()["full_name"] == applicant.full_name
    assert await events(session, applicant.id) == []
