"""A second partner app for the same person: linked (200, `linked: true`), not refused."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ApiKey, Applicant, ApplicantClient, ApplicantEvent
from tests.applicants.helpers import register
from tests.factories import (
    auth,
    make_applicant,
    make_cohort,
    make_key,
    random_cnic,
)

URL = "/api/v1/applicants"


async def links(session: AsyncSession, applicant_id: str) -> int:
    stmt = select(func.count()).where(ApplicantClient.applicant_id == applicant_id)
    return int(await session.scalar(stmt) or 0)


async def events(session: AsyncSession, applicant_id: str) -> list[ApplicantEvent]:
    stmt = select(ApplicantEvent).where(ApplicantEvent.applicant_id == applicant_id)
    return list(await session.scalars(stmt.order_by(ApplicantEvent.id)))


async def latest_key(session: AsyncSession) -> ApiKey:
    key = await session.scalar(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
    assert key is not None
    return key


async def test_second_client_with_the_same_person_is_linked(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app_a = await make_key(session, "client")
    app_b = await make_key(session, "client")
    b_key = await latest_key(session)
    cnic = random_cnic()
    first = await register(client, app_a, cnic=cnic, full_name="Ayesha Khan", email="a@a.pk")
    assert first.status_code == 201, first.text
    assert first.json()["linked"] is False

    second = await register(
        client,
        app_b,
        cnic=cnic.replace("-", ""),
        full_name="  AYESHA   khan ",
        date_of_birth=first.json()["date_of_birth"],
        email="b@b.pk",
        phone="03331234567",
        district="Multan",
    )
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["linked"] is True
    assert body["id"] == first.json()["id"]
    # The contact fields sent are not applied: the applicant is as registered.
    for name in ("full_name", "email", "phone", "district", "updated_at"):
        assert body[name] == first.json()[name]
    assert await links(session, body["id"]) == 1
    [event] = await events(session, body["id"])
    assert event.type == "applicant.linked"
    assert event.key_id == b_key.id
    assert event.actor == b_key.name
    assert event.consent_at is not None
    assert event.reason is None
    assert event.old_fingerprint is None


async def test_a_linked_client_reads_patches_looks_up_and_enrols(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app_a, app_b, app_c = [await make_key(session, "client") for _ in range(3)]
    cnic = random_cnic()
    applicant_id = (await register(client, app_a, cnic=cnic)).json()["id"]
    # Before the link, B may not see it.
    assert (await client.get(f"{URL}/{applicant_id}", headers=auth(app_b))).status_code == 404
    assert (await register(client, app_b, cnic=cnic)).status_code == 200

    read = await client.get(f"{URL}/{applicant_id}", headers=auth(app_b))
    assert read.status_code == 200
    patched = await client.patch(
        f"{URL}/{applicant_id}", json={"district": "Multan"}, headers=auth(app_b)
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["district"] == "Multan"
    found = await client.post(f"{URL}/lookup", json={"cnic": cnic}, headers=auth(app_b))
    assert [a["id"] for a in found.json()["items"]] == [applicant_id]

    cohort = await make_cohort(session)
    enrolled = await client.post(
        f"/api/v1/cohorts/{cohort.id}/enrollments",
        json={"applicant_id": applicant_id},
        headers=auth(app_b),
    )
    assert enrolled.status_code == 201, enrolled.text
    enrollment_id = enrolled.json()["id"]
    for token in (app_a, app_b):
        seen = await client.get(f"/api/v1/enrollments/{enrollment_id}", headers=auth(token))
        assert seen.status_code == 200, seen.text
        listed = await client.get(f"{URL}/{applicant_id}/enrollments", headers=auth(token))
        assert [e["id"] for e in listed.json()["items"]] == [enrollment_id]
    # A third client is linked to nothing.
    assert (await client.get(f"{URL}/{applicant_id}", headers=auth(app_c))).status_code == 404
    assert (
        await client.get(f"/api/v1/enrollments/{enrollment_id}", headers=auth(app_c))
    ).status_code == 404
    withdrawn = await client.post(
        f"/api/v1/enrollments/{enrollment_id}/withdraw", headers=auth(app_b)
    )
    assert withdrawn.status_code == 200, withdrawn.text


async def test_linking_again_is_idempotent(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app_a, app_b = await make_key(session, "client"), await make_key(session, "client")
    cnic = random_cnic()
    applicant_id = (await register(client, app_a, cnic=cnic)).json()["id"]
    answers = [await register(client, app_b, cnic=cnic) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["id"] for a in answers} == {applicant_id}
    assert await links(session, applicant_id) == 1
    assert [e.type for e in await events(session, applicant_id)] == ["applicant.linked"]
    # With an Idempotency-Key the first answer is replayed as it was.
    headers = {**auth(app_b), "Idempotency-Key": "link-1"}
    body = (await register(client, app_b, cnic=cnic)).request.content
    replies = [
        await client.post(
            URL, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in replies] == [200, 200]
    assert replies[1].headers["idempotent-replayed"] == "true"
    assert replies[1].json() == replies[0].json()


@pytest.mark.parametrize(
    "mismatch",
    [{"full_name": "Bilal Ahmed"}, {"date_of_birth": "2001-03-14"}, {"full_name": "Ayesha Khanum"}],
)
async def test_another_person_stays_a_409_without_existing_id(
    client: httpx.AsyncClient, session: AsyncSession, mismatch: dict[str, str]
) -> None:
    app_a, app_b = await make_key(session, "client"), await make_key(session, "client")
    cnic = random_cnic()
    applicant_id = (await register(client, app_a, cnic=cnic)).json()["id"]
    r = await register(client, app_b, cnic=cnic, **mismatch)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "existing_id" not in r.json()
    assert await links(session, applicant_id) == 0
    assert await events(session, applicant_id) == []
    assert (await client.get(f"{URL}/{applicant_id}", headers=auth(app_b))).status_code == 404


async def test_the_registering_client_and_staff_still_get_409_with_existing_id(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app_a = await make_key(session, "client")
    cnic = random_cnic()
    applicant_id = (await register(client, app_a, cnic=cnic)).json()["id"]
    for token in (app_a, await make_key(session, "staff"), await make_key(session, "admin")):
        r = await register(client, token, cnic=cnic)
        assert r.status_code == 409
        assert r.json()["existing_id"] == applicant_id
    assert await links(session, applicant_id) == 0


async def test_a_linked_client_sending_another_name_gets_409_with_existing_id(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app_a, app_b = await make_key(session, "client"), await make_key(session, "client")
    cnic = random_cnic()
    applicant_id = (await register(client, app_a, cnic=cnic)).json()["id"]
    assert (await register(client, app_b, cnic=cnic)).status_code == 200
    r = await register(client, app_b, cnic=cnic, full_name="Someone Else")
    assert r.status_code == 409
    assert r.json()["existing_id"] == applicant_id


async def test_a_person_imported_by_staff_is_linked_to_a_partner_app(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    imported = await make_applicant(session)  # no registering key, as the CLI import
    app = await make_key(session, "client")
    r = await register(
        client, app, cnic=imported.cnic, full_name="ayesha khan", date_of_birth="2002-03-14"
    )
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["linked"]) == (imported.id, True)
    stored = await session.get(Applicant, imported.id)
    assert stored is not None
    assert stored.created_by_key_id is None
