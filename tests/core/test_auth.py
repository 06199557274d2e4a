import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import hash_token
from service.keys import KeyError_, create_key, revoke_key
from service.models import ApiKey
from tests.factories import auth, make_key


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Basic abc", "Bearer enr_not-a-real-token", "token"],
)
async def test_missing_or_invalid_token_is_401(
    client: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await client.get("/api/v1/programmes", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401


async def test_wrong_role_is_403(client: httpx.AsyncClient, session: AsyncSession) -> None:
    for role in ("staff", "client", "reporter"):
        token = await make_key(session, role)
        response = await client.post(
            "/api/v1/programmes",
            json={"code": "x", "name": "X", "partner": "P"},
            headers=auth(token),
        )
        assert response.status_code == 403, role
        assert role in response.json()["detail"]


async def test_token_is_stored_only_as_hash(session: AsyncSession) -> None:
    token = await create_key(session, role="client", name="partner-app")
    key = await session.scalar(select(ApiKey).where(ApiKey.name == "partner-app"))
    assert key is not None
    assert key.token_hash == hash_token(token)
    assert token not in {key.token_hash, key.token_prefix, key.name}


async def test_revoked_key_is_401(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await create_key(session, role="admin", name="to-revoke")
    assert (await client.get("/api/v1/programmes", headers=auth(token))).status_code == 200
    await revoke_key(session, name="to-revoke")
    response = await client.get("/api/v1/programmes", headers=auth(token))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_key_creation_rules(session: AsyncSession) -> None:
    with pytest.raises(KeyError_, match="unknown role"):
        await create_key(session, role="root", name="a")
    with pytest.raises(KeyError_, match="only staff"):
        await create_key(session, role="client", name="b", centres=["isb-gitc"])
    with pytest.raises(KeyError_, match="unknown centre"):
        await create_key(session, role="staff", name="c", centres=["nowhere"])
    await create_key(session, role="staff", name="d", centres=["isb-gitc"])
    with pytest.raises(KeyError_, match="exists"):
        await create_key(session, role="staff", name="d")
