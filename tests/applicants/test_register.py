"""POST /api/v1/applicants: validation, normalisation, duplicates, roles, idempotency."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.schemas import REGISTRATION_FIELDS
from service.models import Applicant
from tests.applicants.helpers import fields, register
from tests.factories import applicant_payload, auth, make_applicant, make_key, random_cnic

URL = "/api/v1/applicants"


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Applicant)) or 0)


def years_ago(years: int, days: int = 0) -> str:
    today = date.today()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return (day + timedelta(days=days)).isoformat()


@pytest.mark.parametrize("role", ["client", "staff", "admin"])
async def test_registrars_create_with_normalised_fields(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    token = await make_key(session, role)
    r = await register(
        client,
        token,
        cnic="35202 1234567 1",
        phone="+92 300 1234567",
        email="Ayesha.KHAN@Example.PK",
        full_name="  Ayesha Khan ",
        district=" Lahore ",
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["cnic"] == "35202-1234567-1"
    assert body["phone"] == "+923001234567"
    assert body["email"] == "ayesha.khan@example.pk"
    assert body["full_name"] == "Ayesha Khan"
    assert body["district"] == "Lahore"
    assert body["date_of_birth"] == "2002-03-14"
    assert (body["gender"], body["province"], body["education_level"]) == (
        "female",
        "punjab",
        "bachelor",
    )
    for key in ("id", "consent_at", "created_at", "updated_at"):
        assert body[key]
    assert "consent" not in body
    stored = await session.get(Applicant, body["id"])
    assert stored is not None
    assert stored.cnic == "35202-1234567-1"
    assert stored.consent_at is not None
    assert stored.created_by_key_id is not None


async def test_urdu_name_round_trips_exactly(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    name = "عائشہ خان"
    r = await register(client, token, full_name=name, district="لاہور")
    assert r.status_code == 201, r.text
    assert r.json()["full_name"] == name
    again = await client.get(f"{URL}/{r.json()['id']}", headers=auth(token))
    assert again.json()["full_name"] == name
    # The Urdu name of a district is stored as its canonical name (docs/places.md).
    assert again.json()["district"] == "Lahore"


async def test_reporter_is_403_and_anonymous_401(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    reporter = await make_key(session, "reporter")
    r = await register(client, reporter)
    assert r.status_code == 403
    assert r.json()["title"] == "Forbidden"
    anon = await client.post(URL, json=applicant_payload())
    assert anon.status_code == 401
    assert anon.headers["content-type"].startswith("application/problem+json")
    assert await count(session) == 0


async def test_every_bad_field_is_named_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    r = await client.post(
        URL,
        json={
            "cnic": "1234",
            "full_name": "   ",
            "date_of_birth": "2002-02-30",
            "gender": "other",
            "email": "not-an-email",
            "phone": "021 1234567",
            "province": "kashmir",
            "district": "",
            "education_level": "diploma",
            "consent": False,
        },
        headers=auth(token),
    )
    errors = fields(r)
    assert set(errors) == set(REGISTRATION_FIELDS)
    assert "13 digits" in errors["cnic"]
    assert errors["full_name"] == "The full name must not be empty."
    assert "real date" in errors["date_of_birth"]
    assert "female" in errors["gender"]
    assert errors["email"] == "This is not a valid email address."
    assert "Pakistani mobile" in errors["phone"] or "mobile" in errors["phone"]
    assert "punjab" in errors["province"]
    assert errors["district"] == "The district must not be empty."
    assert "bachelor" in errors["education_level"]
    assert errors["consent"].startswith("Consent must be true")
    assert "cnic" in r.json()["detail"]


async def test_missing_fields_are_required(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    r = await client.post(URL, json={}, headers=auth(token))
    errors = fields(r)
    assert set(errors) == set(REGISTRATION_FIELDS)
    assert errors["consent"] == "This field is required."
    assert errors["cnic"] == "This field is required."


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "13 digits"),
        ("352021234567", "13 digits"),
        ("35202123456712", "13 digits"),
        ("35202-123456A-1", "13 digits"),
        ("35202_1234567_1", "13 digits"),
        (3520212345671, "13 digits"),
    ],
)
async def test_bad_cnic(
    client: httpx.AsyncClient, session: AsyncSession, value: object, message: str
) -> None:
    token = await make_key(session, "staff")
    errors = fields(await register(client, token, cnic=value))
    assert list(errors) == ["cnic"]
    assert message in errors["cnic"]


@pytest.mark.parametrize(
    "spelling",
    ["3520212345671", "35202-1234567-1", "35202 1234567 1", " 35202-1234567-1 ", "۳۵۲۰۲۱۲۳۴۵۶۷۱"],
)
async def test_cnic_spellings(
    client: httpx.AsyncClient, session: AsyncSession, spelling: str
) -> None:
    token = await make_key(session, "staff")
    r = await register(client, token, cnic=spelling)
    assert r.status_code == 201, r.text
    assert r.json()["cnic"] == "35202-1234567-1"


@pytest.mark.parametrize(
    "spelling",
    [
        "03001234567",
        "0300 1234567",
        "0300-1234567",
        "+92 300 1234567",
        "+92-300-1234567",
        "923001234567",
        "0092 300 1234567",
        "(0300) 123 4567",
    ],
)
async def test_phone_spellings(
    client: httpx.AsyncClient, session: AsyncSession, spelling: str
) -> None:
    token = await make_key(session, "staff")
    r = await register(client, token, phone=spelling)
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "+923001234567"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("051 2345678", "not a mobile"),  # Islamabad landline
        ("+44 7700 900123", "Pakistani mobile"),  # a UK mobile
        ("0300123456", "Pakistani mobile"),  # a digit short
        ("030012345678", "Pakistani mobile"),  # a digit long
        ("0300-CALLNOW", "Pakistani mobile"),
        ("", "Pakistani mobile"),
        (3001234567, "Pakistani mobile"),
    ],
)
async def test_bad_phone(
    client: httpx.AsyncClient, session: AsyncSession, value: object, message: str
) -> None:
    token = await make_key(session, "staff")
    errors = fields(await register(client, token, phone=value))
    assert list(errors) == ["phone"]
    assert message in errors["phone"]


@pytest.mark.parametrize("value", ["a@", "@b.pk", "a b@c.pk", "x" * 250 + "@example.pk", ""])
async def test_bad_email(client: httpx.AsyncClient, session: AsyncSession, value: str) -> None:
    token = await make_key(session, "staff")
    errors = fields(await register(client, token, email=value))
    assert list(errors) == ["email"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2002-13-01", "real date"),
        ("14/03/2002", "real date"),
        ("2001-02-29", "real date"),
        (date.today().isoformat(), "in the past"),
        ((date.today() + timedelta(days=3)).isoformat(), "in the past"),
        (years_ago(15, days=1), "at least 15"),
        ("1890-01-01", "more than 120"),
        (20020314, "YYYY-MM-DD"),
    ],
)
async def test_bad_date_of_birth(
    client: httpx.AsyncClient, session: AsyncSession, value: object, message: str
) -> None:
    token = await make_key(session, "staff")
    errors = fields(await register(client, token, date_of_birth=value))
    assert list(errors) == ["date_of_birth"]
    assert message in errors["date_of_birth"]


async def test_fifteenth_birthday_today_is_old_enough(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    r = await register(client, token, date_of_birth=years_ago(15))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "x" * 121, "at most 120"),
        ("full_name", "Ayesha\x07Khan", "control characters"),
        ("full_name", "Ayesha\x00Khan", "NUL"),
        ("full_name", 42, "must be text"),
        ("district", "d" * 81, "at most 80"),
        ("gender", "f", "female"),
        ("province", "islamabad", "ict"),
        ("education_level", "ba", "bachelor"),
    ],
)
async def test_bad_text_and_enum_fields(
    client: httpx.AsyncClient, session: AsyncSession, field: str, value: object, message: str
) -> None:
    token = await make_key(session, "staff")
    errors = fields(await register(client, token, **{field: value}))
    assert list(errors) == [field]
    assert message in errors[field]


async def test_limits_are_inclusive_and_enums_ignore_case(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    r = await register(
        client, token, full_name="n" * 120, district="Peshawar", gender="Male", province="KP"
    )
    assert r.status_code == 201, r.text
    assert (r.json()["gender"], r.json()["province"]) == ("male", "kp")


@pytest.mark.parametrize("value", [False, None, "true", "yes", 1])
async def test_consent_must_be_true(
    client: httpx.AsyncClient, session: AsyncSession, value: object
) -> None:
    token = await make_key(session, "client")
    errors = fields(await register(client, token, consent=value))
    assert list(errors) == ["consent"]
    assert errors["consent"] == "Consent must be true: the applicant agrees to registration."


async def test_unknown_field_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "client")
    errors = fields(await register(client, token, nickname="Ash"))
    assert list(errors) == ["nickname"]


async def test_malformed_json_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "client")
    r = await client.post(
        URL,
        content=b'{"cnic": ',
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert fields(r) == {"body": "The body is not valid JSON."}


# --- duplicates ---


async def test_duplicate_cnic_409_with_existing_id_for_its_registrar(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    first = await register(client, token, cnic="3520212345671")
    assert first.status_code == 201
    again = await register(client, token, cnic="35202-1234567-1", full_name="Someone Else")
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    body = again.json()
    assert body["existing_id"] == first.json()["id"]
    assert body["status"] == 409
    assert body["title"] == "Applicant already registered"
    assert await count(session) == 1


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_duplicate_shows_existing_id_to_staff_and_admin(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    existing = await make_applicant(session)
    token = await make_key(session, role)
    r = await register(client, token, cnic=existing.cnic)
    assert r.status_code == 409
    assert r.json()["existing_id"] == existing.id


async def test_duplicate_hides_existing_id_from_other_clients(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_key(session, "client")
    other = await make_key(session, "client")
    cnic = random_cnic()
    assert (await register(client, owner, cnic=cnic)).status_code == 201
    # Another person's name with this CNIC (the same person would be linked: test_link.py).
    r = await register(client, other, cnic=cnic, full_name="Someone Else")
    assert r.status_code == 409
    assert "existing_id" not in r.json()
    assert "CNIC" in r.json()["detail"]


# --- Idempotency-Key ---


async def test_retry_with_idempotency_key_returns_first_answer(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    headers = {**auth(token), "Idempotency-Key": "reg-1"}
    body = applicant_payload()
    first = await client.post(URL, json=body, headers=headers)
    second = await client.post(URL, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await count(session) == 1


async def test_idempotency_key_with_other_body_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    headers = {**auth(token), "Idempotency-Key": "reg-2"}
    assert (await client.post(URL, json=applicant_payload(), headers=headers)).status_code == 201
    r = await client.post(URL, json=applicant_payload(), headers=headers)
    assert fields(r) == {
        "Idempotency-Key": "This key was already used with a different request body."
    }
    assert await count(session) == 1


async def test_failed_registration_may_be_retried_with_its_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    headers = {**auth(token), "Idempotency-Key": "reg-3"}
    bad = await client.post(URL, json=applicant_payload(phone="1"), headers=headers)
    assert bad.status_code == 422
    good = await client.post(URL, json=applicant_payload(), headers=headers)
    assert good.status_code == 201
