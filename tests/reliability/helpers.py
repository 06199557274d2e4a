"""Small helpers shared by the reliability tests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import hash_token
from service.models import ApiKey


async def key_id(session: AsyncSession, token: str) -> str:
    """The id of the API key behind ``token``."""
    found = await session.scalar(select(ApiKey.id).where(ApiKey.token_hash == hash_token(token)))
    assert found is not None
    return found
