"""Run one async database job from a synchronous command (the CLI's commands)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from service.core.config import get_settings
from service.core.db import Database

T = TypeVar("T")


def run_with_session(fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``fn`` in one transaction against the configured database."""

    async def main() -> T:
        db = Database.from_url(get_settings().database_url)
        try:
            async with db.sessionmaker() as session:
                result = await fn(session)
                await session.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(main())
