"""GET and PATCH /api/v1/applicants/{id}, POST /api/v1/applicants/lookup: scoping and rules."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Applicant
from service.models.base import utcnow
from tests.applicants.helpers import fields, register
from tests.factories import auth, make_applicant, make_key

URL = "/api/v1/applicants"


# --- GET ---


async def test_client_reads_own_applicant(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "client")
    created = (await register(client, token)).json()
    assert created.pop("linked") is False  # only in the answer to a registration
    r = await client.get(f"{URL}/{created['id']}", headers=auth(token))
    assert r.status_code == 200
    assert r.json() == created


async def test_client_gets_404_for_another_clients_applicant(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_key(session, "client")
    other = await make_key(session, "client")
    created = (await register(client, owner)).json()
    r = await client.get(f"{URL}/{created['id']}", headers=auth(other))
    assert r.status_code == 404
    assert r.json()["detail"] == "No applicant with this id."


async def test_client_gets_404_for_imported_applicant(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    applicant = await make_applicant(session, created_by_key_id=None)
    token = await make_key(session, "client")
    assert (await client.get(f"{URL}/{applicant.id}", headers=auth(token))).status_code == 404


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_staff_and_admin_read_any_applicant(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    owner = await make_key(session, "client")
    created = (await register(client, owner)).json()
    token = await make_key(session, role)
    r = await client.get(f"{URL}/{created['id']}", headers=auth(token))
    assert r.status_code == 200
    assert r.json()["cnic"] == created["cnic"]


async def test_scoped_staff_reads_applicants_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    applicant = await make_applicant(session)
    token = await make_key(session, "staff", centres=["isb-gitc"])
    assert (await client.get(f"{URL}/{applicant.id}", headers=auth(token))).status_code == 200


async def test_get_unknown_is_404_and_reporter_403_and_anonymous_401(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    applicant = await make_applicant(session)
    admin = await make_key(session, "admin")
    r = await client.get(f"{URL}/not-an-id", headers=auth(admin))
    assert r.status_code == 404
    reporter = await make_key(session, "reporter")
    r = await client.get(f"{URL}/{applicant.id}", headers=auth(reporter))
    assert r.status_code == 403
    assert "cnic" not in r.text
    assert (await client.get(f"{URL}/{applicant.id}")).status_code == 401


# --- PATCH ---


async def test_patch_contact_fields_normalised_and_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    created = (await register(client, token)).json()
    r = await client.patch(
        f"{URL}/{created['id']}",
        json={
            "email": "NEW@Example.PK",
            "phone": "0321-7654321",
            "district": " Rawalpindi ",
            "province": "Punjab",
            "education_level": "master",
        },
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["email"] == "new@example.pk"
    assert body["phone"] == "+923217654321"
    assert body["district"] == "Rawalpindi"
    assert body["education_level"] == "master"
    assert body["cnic"] == created["cnic"]
    assert body["full_name"] == created["full_name"]
    assert body["updated_at"] > created["updated_at"]
    stored = await session.get(Applicant, created["id"])
    assert stored is not None
    await session.refresh(stored)
    assert stored.updated_by_key_id == token.id
    again = await client.get(f"{URL}/{created['id']}", headers=auth(token))
    assert again.json() == body


async def test_patch_only_sent_fields(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "staff")
    applicant = await make_applicant(session, district="Lahore", email="old@example.pk")
    r = await client.patch(f"{URL}/{applicant.id}", json={"district": "Kasur"}, headers=auth(token))
    assert r.status_code == 200
    assert (r.json()["district"], r.json()["email"]) == ("Kasur", "old@example.pk")


async def test_patch_without_changes_keeps_updated_at(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    applicant = await make_applicant(session, district="Lahore")
    before = applicant.updated_at
    r = await client.patch(
        f"{URL}/{applicant.id}", json={"district": "Lahore"}, headers=auth(token)
    )
    assert r.status_code == 200
    assert r.json()["updated_at"] == before.isoformat().replace("+00:00", "Z")
    empty = await client.patch(f"{URL}/{applicant.id}", json={}, headers=auth(token))
    assert empty.status_code == 200


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"cnic": "3520212345671"}, "cnic"),
        ({"full_name": "New Name"}, "full_name"),
        ({"date_of_birth": "2001-01-01"}, "date_of_birth"),
        ({"gender": "male"}, "gender"),
        ({"consent": True}, "consent"),
        ({"id": "x"}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
async def test_patch_refuses_non_contact_fields(
    client: httpx.AsyncClient, session: AsyncSession, body: dict[str, object], bad: str
) -> None:
    token = await make_key(session, "admin")
    applicant = await make_applicant(session)
    errors = fields(await client.patch(f"{URL}/{applicant.id}", json=body, headers=auth(token)))
    assert list(errors) == [bad]
    if bad in ("cnic", "full_name", "date_of_birth", "gender", "consent"):
        assert errors[bad].startswith(f"The {bad} cannot be changed")


async def test_patch_validates_like_post_and_names_every_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    applicant = await make_applicant(session, district="Lahore")
    r = await client.patch(
        f"{URL}/{applicant.id}",
        json={
            "email": "nope",
            "phone": "051 2345678",
            "district": "",
            "province": "mars",
            "education_level": None,
            "full_name": "X",
        },
        headers=auth(token),
    )
    errors = fields(r)
    assert set(errors) == {
        "email",
        "phone",
        "district",
        "province",
        "education_level",
        "full_name",
    }
    assert errors["education_level"] == "The education_level may be changed but not removed."
    await session.refresh(applicant)
    assert applicant.district == "Lahore"


async def test_patch_scoping(client: httpx.AsyncClient, session: AsyncSession) -> None:
    owner = await make_key(session, "client")
    other = await make_key(session, "client")
    created = (await register(client, owner)).json()
    path = f"{URL}/{created['id']}"
    r = await client.patch(path, json={"district": "Okara"}, headers=auth(other))
    assert r.status_code == 404
    reporter = await make_key(session, "reporter")
    assert (
        await client.patch(path, json={"district": "Okara"}, headers=auth(reporter))
    ).status_code == 403
    assert (await client.patch(path, json={"district": "Okara"})).status_code == 401
    staff = await make_key(session, "staff")
    r = await client.patch(path, json={"district": "Okara"}, headers=auth(staff))
    assert r.status_code == 200
    assert r.json()["district"] == "Okara"
    unknown = await client.patch(f"{URL}/nope", json={"district": "Q"}, headers=auth(staff))
    assert unknown.status_code == 404


# --- lookup ---


async def test_lookup_by_any_spelling(client: httpx.AsyncClient, session: AsyncSession) -> None:
    applicant = await make_applicant(session, cnic="35202-1234567-1")
    token = await make_key(session, "staff")
    for spelling in ("3520212345671", "35202 1234567 1", "35202-1234567-1"):
        r = await client.post(f"{URL}/lookup", json={"cnic": spelling}, headers=auth(token))
        assert r.status_code == 200
        items = r.json()["items"]
        assert [i["id"] for i in items] == [applicant.id]
        assert items[0]["cnic"] == "35202-1234567-1"


async def test_lookup_unknown_is_empty(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "admin")
    r = await client.post(f"{URL}/lookup", json={"cnic": "1111111111111"}, headers=auth(token))
    assert r.status_code == 200
    assert r.json() == {"items": []}


async def test_lookup_client_sees_only_its_own(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_key(session, "client")
    other = await make_key(session, "client")
    created = (await register(client, owner)).json()
    body = {"cnic": created["cnic"]}
    mine = await client.post(f"{URL}/lookup", json=body, headers=auth(owner))
    assert [i["id"] for i in mine.json()["items"]] == [created["id"]]
    theirs = await client.post(f"{URL}/lookup", json=body, headers=auth(other))
    assert theirs.status_code == 200
    assert theirs.json() == {"items": []}


async def test_lookup_errors(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "client")
    errors = fields(await client.post(f"{URL}/lookup", json={"cnic": "12"}, headers=auth(token)))
    assert list(errors) == ["cnic"]
    assert fields(await client.post(f"{URL}/lookup", json={}, headers=auth(token))) == {
        "cnic": "This field is required."
    }
    reporter = await make_key(session, "reporter")
    r = await client.post(f"{URL}/lookup", json={"cnic": "1" * 13}, headers=auth(reporter))
    assert r.status_code == 403
    assert (await client.post(f"{URL}/lookup", json={"cnic": "1" * 13})).status_code == 401


async def test_registration_stamps_consent_and_registrar(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    before = utcnow()
    token = await make_key(session, "client")
    created = (await register(client, token)).json()
    stored = await session.get(Applicant, created["id"])
    assert stored is not None
    assert stored.consent_at >= before
    assert stored.created_by_key_id == token.id
    assert stored.updated_by_key_id is None
