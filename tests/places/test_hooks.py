"""The district rule where a district is written: registration, PATCH and the CSV import."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.applicants.helpers import csv_bytes, csv_row, fields, register, upload
from tests.factories import auth, make_applicant, make_key

URL = "/api/v1/applicants"


async def test_registration_stores_the_canonical_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    for spelling, province, name in [
        ("لاہور", "punjab", "Lahore"),
        ("LHR District", "punjab", "Lahore"),
        ("d.g. khan", "Punjab", "Dera Ghazi Khan"),
        ("Nawabshah", "sindh", "Shaheed Benazirabad"),
        ("ict-islamabad", "ict", "Islamabad"),
    ]:
        r = await register(client, token, district=spelling, province=province)
        assert r.status_code == 201, r.text
        assert r.json()["district"] == name


async def test_registration_refuses_unknown_and_mismatched_districts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    unknown = fields(await register(client, token, district="Lahoor", province="punjab"))
    assert unknown == {"district": "Not a known district name. Did you mean: Lahore?"}
    mismatch = fields(await register(client, token, district="Lahore", province="kp"))
    assert mismatch == {
        "district": "Lahore is a district of punjab, not of kp.",
        "province": "Does not contain the district Lahore (it is in punjab).",
    }


async def test_patch_checks_the_pair_with_the_stored_value(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin"))
    applicant = await make_applicant(session, province="punjab", district="Lahore")
    path = f"{URL}/{applicant.id}"

    r = await client.patch(path, json={"district": "pindi"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["district"] == "Rawalpindi"

    # A district of another province than the stored one.
    wrong = fields(await client.patch(path, json={"district": "Quetta"}, headers=headers))
    assert set(wrong) == {"district", "province"}
    # A province that does not contain the stored district.
    moved = fields(await client.patch(path, json={"province": "sindh"}, headers=headers))
    assert moved["province"] == "Does not contain the district Rawalpindi (it is in punjab)."
    # Both at once: checked together.
    both = await client.patch(
        path, json={"province": "balochistan", "district": "کوئٹہ"}, headers=headers
    )
    assert both.status_code == 200, both.text
    assert (both.json()["province"], both.json()["district"]) == ("balochistan", "Quetta")
    typo = fields(await client.patch(path, json={"district": "Quetah"}, headers=headers))
    assert typo == {"district": "Not a known district name. Did you mean: Quetta?"}
    await session.refresh(applicant)
    assert (applicant.province, applicant.district) == ("balochistan", "Quetta")


async def test_patch_of_other_fields_leaves_legacy_text_alone(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin"))
    applicant = await make_applicant(session, province="sindh", district="Karachi")
    path = f"{URL}/{applicant.id}"
    r = await client.patch(path, json={"email": "new@example.pk"}, headers=headers)
    assert r.status_code == 200
    assert r.json()["district"] == "Karachi"
    # Changing the province checks the stored text, which names no one district.
    stale = fields(await client.patch(path, json={"province": "sindh"}, headers=headers))
    assert stale["district"].startswith("Not a known district name. Did you mean: Karachi")


async def test_csv_import_maps_spellings_and_reports_rows_with_suggestions(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    rows = [
        csv_row(cnic="35202-3000000-1", district="lahore district", province="punjab"),
        csv_row(cnic="35202-3000000-2", district="Faislabad", province="punjab"),
        csv_row(cnic="35202-3000000-3", district="Peshawar", province="sindh"),
        csv_row(cnic="35202-3000000-4", district="پشاور", province="kp"),
    ]
    r = await upload(client, token, csv_bytes(rows))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 2
    assert [(e["row"], e["field"], e["message"]) for e in report["errors"]] == [
        (3, "district", "Not a known district name. Did you mean: Faisalabad?"),
        (4, "district", "Peshawar is a district of kp, not of sindh."),
        (4, "province", "Does not contain the district Peshawar (it is in kp)."),
    ]
    staff = auth(token)
    found = await client.post(f"{URL}/lookup", json={"cnic": "35202-3000000-4"}, headers=staff)
    assert found.status_code == 200, found.text
    assert [a["district"] for a in found.json()["items"]] == ["Peshawar"]
