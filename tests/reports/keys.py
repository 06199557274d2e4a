"""A report key with its id, made here (independent of ``tests.factories.make_key``'s shape)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor, hash_token
from service.keys import create_key
from service.models import ApiKey, Centre
from service.models.enums import Role


async def report_key(
    session: AsyncSession, role: str, *, centres: list[str] | None = None
) -> tuple[str, Actor]:
    """A new key's bearer token and the actor it authenticates as."""
    name = f"{role}-{uuid.uuid4().hex[:12]}"
    token = await create_key(session, role=role, name=name, centres=centres or [])
    key_id = await session.scalar(select(ApiKey.id).where(ApiKey.token_hash == hash_token(token)))
    assert key_id is not None
    centre_ids = None
    if centres:
        found = await session.scalars(select(Centre.id).where(Centre.code.in_(centres)))
        centre_ids = frozenset(found)
    return token, Actor(key_id=key_id, name=name, role=Role(role), centre_ids=centre_ids)
