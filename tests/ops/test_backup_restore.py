"""The backup procedure in docs/operations.md, run for real: pg_dump, pg_restore, same rows."""

import asyncio
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from service.core.db import Database
from service.models import Applicant, Base
from tests.conftest import _pg_admin
from tests.factories import make_applicant, make_cohort, make_enrollment

pytestmark = pytest.mark.postgres_only


def _libpq(url: str) -> list[str]:
    u = make_url(url)
    return ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]


async def _counts(url: str) -> dict[str, int]:
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            return {
                name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in Base.metadata.tables.items()
            }
    finally:
        await db.dispose()


async def test_dump_and_restore_into_new_database(fresh_database_url: str, tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is not installed; .ci/run installs PostgreSQL's client tools")
    db = Database.from_url(fresh_database_url)
    async with db.sessionmaker() as session:
        cohort = await make_cohort(session, capacity=5)
        for _ in range(5):
            await make_enrollment(
                session, cohort, await make_applicant(session, full_name="عائشہ خان")
            )
        await session.commit()
    await db.dispose()

    source = make_url(fresh_database_url)
    dump = str(tmp_path / "enroll.dump")
    await asyncio.to_thread(
        subprocess.run,
        ["pg_dump", *_libpq(fresh_database_url), "-Fc", "-f", dump, source.database or ""],
        check=True,
        timeout=120,
    )
    target = f"enroll_restore_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{target}"')
    try:
        await asyncio.to_thread(
            subprocess.run,
            ["pg_restore", *_libpq(fresh_database_url), "--no-owner", "-d", target, dump],
            check=True,
            timeout=120,
        )
        restored_url = source.set(database=target).render_as_string(hide_password=False)
        original, restored = await _counts(fresh_database_url), await _counts(restored_url)
        assert restored == original
        assert original["enrollments"] == 5
        rdb = Database.from_url(restored_url)
        async with rdb.sessionmaker() as session:
            names = set(await session.scalars(select(Applicant.full_name)))
            version = await session.scalar(text("SELECT version_num FROM alembic_version"))
        await rdb.dispose()
        assert names == {"عائشہ خان"}
        assert version is not None
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
