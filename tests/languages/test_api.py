"""Problems in the negotiated language, with codes; the bilingual certificate pages."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.i18n import outside_isolates
from tests.completions.test_certificates import issued, revoke
from tests.factories import applicant_payload, auth, make_applicant, make_cohort, make_key

URDU = re.compile("[\u0600-\u06ff]")
BAD_REGISTRATION = {"cnic": "123", "phone": "042 35761234", "email": "not-an-email"}


def _urdu(text: str) -> bool:
    """Urdu text whose every left-to-right run (numbers, codes, e-mail) is isolated."""
    return bool(URDU.search(text)) and not re.search("[A-Za-z0-9]", outside_isolates(text))


def _codes(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["code"] for e in body["errors"]}


async def _register(client: httpx.AsyncClient, token: str, language: str | None) -> httpx.Response:
    headers = auth(token) | ({"Accept-Language": language} if language else {})
    return await client.post(
        "/api/v1/applicants", json=applicant_payload(**BAD_REGISTRATION), headers=headers
    )


async def test_validation_errors_in_urdu_and_english_with_the_same_codes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    ur = await _register(client, token, "fr, ur;q=0.5")
    en = await _register(client, token, "ur;q=0.5, en")

    assert (ur.status_code, en.status_code) == (422, 422)
    assert ur.headers["content-language"] == "ur"
    assert en.headers["content-language"] == "en"
    assert "Accept-Language" in ur.headers["vary"]
    expected = {"cnic": "cnic.invalid", "phone": "phone.not_mobile", "email": "email.invalid"}
    assert _codes(ur.json()) == _codes(en.json()) == expected
    body = ur.json()
    assert all(_urdu(t) for t in (body["title"], body["detail"]))
    assert all(_urdu(e["message"]) for e in body["errors"])
    assert body["type"] == en.json()["type"]
    english = {e["field"]: e["message"] for e in en.json()["errors"]}
    assert english["cnic"].startswith("A CNIC is 13 digits")
    assert en.json()["title"] == "Validation failed"


async def test_age_out_of_range_in_urdu(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session, start_date=date(2027, 1, 10))
    applicant = await make_applicant(session, date_of_birth=date(2009, 1, 11))
    headers = auth(await make_key(session, "admin")) | {"Accept-Language": "ur-PK"}
    r = await client.post(
        f"/api/v1/cohorts/{cohort.id}/enrollments",
        json={"applicant_id": applicant.id},
        headers=headers,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-language"] == "ur"
    [error] = r.json()["errors"]
    assert error["code"] == "age.out_of_range"
    assert _urdu(error["message"])
    assert _urdu(r.json()["detail"])
    # The numbers are there, in ASCII digits, each isolated.
    for number in ("17", "2027-01-10", "18", "35"):
        assert f"\u2066{number}\u2069" in error["message"]


async def test_every_problem_says_its_language(client: httpx.AsyncClient) -> None:
    for language, expected in ((None, "en"), ("ur", "ur"), ("en-US,en;q=0.9", "en")):
        headers = {"Accept-Language": language} if language else {}
        for r in (
            await client.get("/api/v1/nowhere", headers=headers),
            await client.get("/api/v1/applicants", headers=headers),  # 401
            await client.delete("/health", headers=headers),  # 405
        ):
            assert r.headers["content-type"] == "application/problem+json", r.text
            assert r.headers["content-language"] == expected
            assert _urdu(r.json()["detail"]) == (expected == "ur")


async def test_pydantic_errors_map_by_type_in_urdu(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin")) | {"Accept-Language": "ur"}
    r = await client.post(
        "/api/v1/cohorts", json={"capacity": 0, "mode": "by-post"}, headers=headers
    )
    assert r.status_code == 422
    codes = _codes(r.json())
    assert codes["capacity"] == "number.too_small"
    assert codes["mode"] == "choice.invalid"
    assert codes["code"] == "field.required"
    assert all(_urdu(e["message"]) for e in r.json()["errors"])


# --- the certificate pages ------------------------------------------------------------


def _sides(page: str) -> tuple[str, str]:
    [en] = re.findall(r'<section class="side" lang="en" dir="ltr">(.*?)</section>', page, re.S)
    [ur] = re.findall(r'<section class="side" lang="ur" dir="rtl">(.*?)</section>', page, re.S)
    return en, ur


async def test_certificate_page_is_bilingual(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, _, cert = await issued(session)
    r = await client.get(f"/certificates/{cert.code}.html")
    assert r.status_code == 200
    assert r.headers["content-language"] == "en, ur"
    assert '<html lang="en" dir="ltr">' in r.text
    en, ur = _sides(r.text)
    assert "Certificate of Completion" in en
    assert "تکمیل کی سند" in ur
    assert "Ayesha Khan" in en
    assert "Ayesha Khan" in ur
    assert cert.code in en
    assert cert.code in ur
    assert "@media print" in r.text
    assert "سند کی تصدیق" in r.text  # the note, in both languages


async def test_not_found_and_revoked_pages_are_bilingual(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    missing = await client.get("/certificates/ZTE-0000-0000-0000-0000.html")
    assert missing.status_code == 404
    en, ur = _sides(missing.text)
    assert "No certificate has this code" in en
    assert "اس کوڈ کی کوئی سند موجود نہیں" in ur

    _, _, cert = await issued(session)
    admin = await make_key(session, "admin")
    assert (await revoke(client, admin, cert.code, {"reason": "issued in error"})).is_success
    gone = await client.get(f"/certificates/{cert.code}", headers={"Accept": "text/html"})
    assert gone.status_code == 410
    en, ur = _sides(gone.text)
    assert "This certificate has been revoked" in en
    assert "یہ سند منسوخ کی جا چکی ہے" in ur
    assert "issued in error" in ur

    problem = await client.get(f"/certificates/{cert.code}", headers={"Accept-Language": "ur"})
    assert problem.status_code == 410
    assert problem.headers["content-language"] == "ur"
    assert _urdu(problem.json()["detail"])
    assert problem.json()["code"] == cert.code  # extension members are data, untranslated
