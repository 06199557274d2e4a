"""The schema is made only by migrations: they round-trip and match the models."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from service.core.db import create_engine
from service.models import Base
from tests.conftest import downgrade, migrate


async def _diff(url: str) -> list[object]:
    engine = create_engine(url)

    def compare(conn: Connection) -> list[object]:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(ctx, Base.metadata))

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            return set(names) - {"alembic_version"}
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_without_drift(fresh_database_url: str) -> None:
    url = fresh_database_url
    assert await _diff(url) == []
    await asyncio.to_thread(downgrade, url, "base")
    assert await _tables(url) == set()
    await asyncio.to_thread(migrate, url, "head")
    assert await _tables(url) == set(Base.metadata.tables)
    assert await _diff(url) == []
