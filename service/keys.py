"""Creating and revoking API keys (used by the CLI and by tests)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import generate_token, hash_token
from service.models import ApiKey, Centre
from service.models.base import utcnow
from service.models.enums import Role


class KeyError_(Exception):
    """A key cannot be created or revoked as asked."""


async def create_key(
    session: AsyncSession, *, role: str, name: str, centres: Sequence[str] = ()
) -> str:
    """Create a key and return its token (the only time the token exists in clear)."""
    try:
        role_ = Role(role)
    except ValueError:
        raise KeyError_(f"unknown role '{role}'; use one of {', '.join(Role)}") from None
    name = name.strip()
    if not name or len(name) > 100:
        raise KeyError_("the name must be 1 to 100 characters")
    if centres and role_ is not Role.staff:
        raise KeyError_("only staff keys are scoped to centres")
    if await session.scalar(select(ApiKey.id).where(ApiKey.name == name)):
        raise KeyError_(f"a key named '{name}' exists")
    found = list(await session.scalars(select(Centre).where(Centre.code.in_(centres))))
    missing = sorted(set(centres) - {c.code for c in found})
    if missing:
        raise KeyError_(f"unknown centre: {', '.join(missing)}")
    token = generate_token()
    session.add(
        ApiKey(
            name=name,
            role=role_.value,
            token_hash=hash_token(token),
            token_prefix=token[:12],
            centres=found,
        )
    )
    await session.flush()
    return token


async def revoke_key(session: AsyncSession, *, name: str) -> None:
    key = await session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise KeyError_(f"no key named '{name}'")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    await session.flush()
