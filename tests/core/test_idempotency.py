import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Centre
from tests.factories import auth, make_key


async def count_centres(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Centre)) or 0)


async def test_retry_with_same_key_replays_first_response(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = {**auth(await make_key(session, "admin")), "Idempotency-Key": "abc-1"}
    body = {"code": "lhr-2", "name": "Lahore 2"}
    first = await client.post("/api/v1/centres", json=body, headers=headers)
    before = await count_centres(session)
    second = await client.post("/api/v1/centres", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await count_centres(session) == before


async def test_same_key_different_body_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = {**auth(await make_key(session, "admin")), "Idempotency-Key": "abc-2"}
    await client.post("/api/v1/centres", json={"code": "a1", "name": "A"}, headers=headers)
    r = await client.post("/api/v1/centres", json={"code": "a2", "name": "A"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_failed_request_is_not_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = {**auth(await make_key(session, "admin")), "Idempotency-Key": "abc-3"}
    bad = await client.post("/api/v1/centres", json={"code": "BAD CODE"}, headers=headers)
    assert bad.status_code == 422
    good = await client.post("/api/v1/centres", json={"code": "b1", "name": "B"}, headers=headers)
    assert good.status_code == 201


async def test_keys_are_scoped_per_api_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    one = {**auth(await make_key(session, "admin")), "Idempotency-Key": "shared"}
    two = {**auth(await make_key(session, "admin")), "Idempotency-Key": "shared"}
    r1 = await client.post("/api/v1/centres", json={"code": "k1", "name": "K"}, headers=one)
    r2 = await client.post("/api/v1/centres", json={"code": "k2", "name": "K"}, headers=two)
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert r1.json()["id"] != r2.json()["id"]
