"""GET/POST/PATCH /api/v1/districts."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key

URL = "/api/v1/districts"


def fields(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_anonymous_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.post(URL, json={})).status_code == 401
    assert (await client.patch(f"{URL}/pb-lahore", json={"aliases": ["x"]})).status_code == 401


@pytest.mark.parametrize("role", ["admin", "staff", "client", "reporter"])
async def test_every_role_lists_every_district_page_by_page(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    headers = auth(await make_key(session, role))
    seen: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 60}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(URL, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor"}
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 170
    assert len({d["code"] for d in seen}) == 170
    lahore = next(d for d in seen if d["code"] == "pb-lahore")
    assert lahore["name"] == "Lahore"
    assert lahore["name_ur"] == "لاہور"
    assert lahore["province"] == "punjab"
    assert "LHR" in lahore["aliases"]  # type: ignore[operator]


async def test_filter_by_province(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = auth(await make_key(session, "client"))
    r = await client.get(URL, params={"province": "gb", "limit": 500}, headers=headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 14
    assert {d["province"] for d in items} == {"gb"}
    assert r.json()["next_cursor"] is None
    bad = await client.get(URL, params={"province": "mars"}, headers=headers)
    assert "province" in fields(bad)
    cursor = await client.get(URL, params={"cursor": "%%%"}, headers=headers)
    assert fields(cursor) == {"cursor": "Not a cursor returned by this API."}


@pytest.mark.parametrize("role", ["staff", "client", "reporter"])
async def test_only_admins_change_the_list(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    headers = auth(await make_key(session, role))
    body = {"code": "pb-new", "name": "Newpur", "name_ur": "نیو پور", "province": "punjab"}
    assert (await client.post(URL, json=body, headers=headers)).status_code == 403
    patch = await client.patch(f"{URL}/pb-lahore", json={"aliases": ["Lhr city"]}, headers=headers)
    assert patch.status_code == 403


async def test_admin_adds_a_district_then_registration_accepts_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = auth(await make_key(session, "admin"))
    staff = auth(await make_key(session, "staff"))
    payload = {
        "cnic": "35202-1111111-1",
        "full_name": "Sana Iqbal",
        "date_of_birth": "2001-05-05",
        "gender": "female",
        "email": "sana@example.pk",
        "phone": "03001234567",
        "province": "punjab",
        "district": "Kot Momin",
        "education_level": "matric",
        "consent": True,
    }
    # Unknown first: the index in memory is read now, without the new district.
    before = await client.post("/api/v1/applicants", json=payload, headers=staff)
    assert "district" in fields(before)
    body = {
        "code": "pb-kot-momin",
        "name": "Kot Momin",
        "name_ur": "کوٹ مومن",
        "province": "Punjab",
        "aliases": ["Kotmomin", "KTM", "KTM"],
    }
    r = await client.post(URL, json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json() == {
        "code": "pb-kot-momin",
        "name": "Kot Momin",
        "name_ur": "کوٹ مومن",
        "province": "punjab",
        "aliases": ["Kotmomin", "KTM"],
    }
    after = await client.post(
        "/api/v1/applicants", json={**payload, "district": "ktm"}, headers=staff
    )
    assert after.status_code == 201, after.text
    assert after.json()["district"] == "Kot Momin"
    listed = await client.get(URL, params={"province": "punjab", "limit": 500}, headers=staff)
    assert "pb-kot-momin" in {d["code"] for d in listed.json()["items"]}


async def test_create_refuses_taken_code_and_spellings(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = auth(await make_key(session, "admin"))
    base = {"code": "pb-x", "name": "Xpur", "name_ur": "ایکس پور", "province": "punjab"}
    taken = await client.post(URL, json={**base, "code": "pb-lahore"}, headers=admin)
    assert taken.status_code == 409
    assert taken.json()["detail"] == "A district with code 'pb-lahore' exists."
    alias = await client.post(URL, json={**base, "aliases": ["Pindi"]}, headers=admin)
    assert alias.status_code == 409
    assert alias.json()["detail"] == (
        "The aliases[0] 'Pindi' already names the district Rawalpindi (pb-rawalpindi)."
    )
    name = await client.post(URL, json={**base, "name": "lahore district"}, headers=admin)
    assert name.status_code == 409
    assert "Lahore" in name.json()["detail"]
    urdu = await client.post(URL, json={**base, "name_ur": "لاہور"}, headers=admin)
    assert urdu.status_code == 409


async def test_create_validates_fields(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = auth(await make_key(session, "admin"))
    r = await client.post(
        URL,
        json={
            "code": "Not a code!",
            "name": "x" * 81,
            "name_ur": "...",
            "province": "mars",
            "aliases": [""],
        },
        headers=admin,
    )
    assert set(fields(r)) == {"code", "name", "name_ur", "province", "aliases[0]"}


async def test_patch_adds_aliases_seen_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = auth(await make_key(session, "admin"))
    staff = auth(await make_key(session, "staff"))
    from service.places import resolve

    assert await resolve(session, district="Lahore", province="punjab") == "Lahore"  # cached
    r = await client.patch(
        f"{URL}/pb-lahore", json={"aliases": ["Lahore Cantt", "LHR", "Lahore Cantt"]}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["aliases"].count("LHR") == 1
    assert r.json()["aliases"][-1] == "Lahore Cantt"
    applicant = {
        "cnic": "35202-2222222-2",
        "full_name": "Bilal Ahmed",
        "date_of_birth": "2000-01-01",
        "gender": "male",
        "email": "bilal@example.pk",
        "phone": "03011234567",
        "province": "punjab",
        "district": "lahore cantt.",
        "education_level": "bachelor",
        "consent": True,
    }
    created = await client.post("/api/v1/applicants", json=applicant, headers=staff)
    assert created.status_code == 201, created.text
    assert created.json()["district"] == "Lahore"


async def test_patch_errors(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = auth(await make_key(session, "admin"))
    missing = await client.patch(f"{URL}/pb-nowhere", json={"aliases": ["x"]}, headers=admin)
    assert missing.status_code == 404
    taken = await client.patch(f"{URL}/pb-lahore", json={"aliases": ["Pindi"]}, headers=admin)
    assert taken.status_code == 409
    renamed = await client.patch(f"{URL}/pb-lahore", json={"name": "Lhr"}, headers=admin)
    assert "name" in fields(renamed)
    empty = await client.patch(f"{URL}/pb-lahore", json={"aliases": []}, headers=admin)
    assert "aliases" in fields(empty)
