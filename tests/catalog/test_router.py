import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key


@pytest.mark.parametrize("role", ["admin", "staff", "client", "reporter"])
async def test_every_role_reads_seeded_catalog(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    headers = auth(await make_key(session, role))
    programmes = (await client.get("/api/v1/programmes", headers=headers)).json()
    assert {p["code"]: p["partner"] for p in programmes["items"]} == {
        "zte-ict": "ZTE",
        "alibaba-ecommerce": "Alibaba",
    }
    assert programmes["next_cursor"] is None
    centres = (await client.get("/api/v1/centres", headers=headers)).json()["items"]
    by_code = {c["code"]: c for c in centres}
    assert by_code["isb-gitc"]["province"] == "ict"
    assert by_code["online"]["province"] is None
    targets = (await client.get("/api/v1/targets", headers=headers)).json()["items"]
    assert targets == [
        {
            "id": targets[0]["id"],
            "code": "zte-100k",
            "name": targets[0]["name"],
            "goal": 100000,
            "metric": "trainees",
            "programmes": ["zte-ict"],
            "deadline": None,
            "created_at": targets[0]["created_at"],
        }
    ]


async def test_admin_creates_programme_centre_target(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin"))
    r = await client.post(
        "/api/v1/programmes",
        json={"code": "huawei-seeds", "name": "Seeds", "partner": "Huawei"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["code"] == "huawei-seeds"
    r = await client.post(
        "/api/v1/centres",
        json={"code": "lhr-1", "name": "Lahore centre", "city": "Lahore", "province": "punjab"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/targets",
        json={
            "code": "both-10k",
            "name": "Ten thousand completions",
            "goal": 10000,
            "metric": "completions",
            "programmes": ["zte-ict", "huawei-seeds"],
            "deadline": "2027-12-31",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["programmes"] == ["huawei-seeds", "zte-ict"]
    assert r.json()["deadline"] == "2027-12-31"


async def test_duplicate_code_is_409(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = auth(await make_key(session, "admin"))
    r = await client.post(
        "/api/v1/programmes",
        json={"code": "zte-ict", "name": "Again", "partner": "ZTE"},
        headers=headers,
    )
    assert r.status_code == 409
    assert "zte-ict" in r.json()["detail"]


async def test_target_with_unknown_programme_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin"))
    r = await client.post(
        "/api/v1/targets",
        json={"code": "t", "name": "T", "goal": 5, "metric": "trainees", "programmes": ["nope"]},
        headers=headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "programmes", "message": "Unknown programme: nope.", "code": "programme.unknown"}
    ]


async def test_pagination_walks_every_item_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = auth(await make_key(session, "admin"))
    for i in range(5):
        r = await client.post(
            "/api/v1/centres", json={"code": f"c-{i}", "name": f"C {i}"}, headers=headers
        )
        assert r.status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/centres", params=params, headers=headers)).json()
        assert len(page["items"]) <= 2
        seen += [c["code"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(["isb-gitc", "online"] + [f"c-{i}" for i in range(5)])
    assert len(seen) == len(set(seen))
