"""Test fixtures: real databases, schema from migrations, one rolled-back transaction per test.

Every test runs on SQLite. When ``TEST_DATABASE_URL`` names a PostgreSQL
database (CI sets it), every test runs on PostgreSQL too: the ``backend``
fixture is parametrised, so test ids end in ``[sqlite]`` / ``[postgresql]``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from service.cli import alembic_config
from service.core import i18n
from service.core.config import Settings
from service.core.db import Database, create_engine
from service.main import create_app
from service.seed import seed

# Under pytest-xdist (``make test`` runs two workers) each worker has a PostgreSQL database of
# its own, named after the one given: ``<db>_gw0``, ``<db>_gw1``, … (made at session start).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
_GIVEN_PG_URL = os.environ.get("TEST_DATABASE_URL")
PG_URL = (
    make_url(_GIVEN_PG_URL)
    .set(database=f"{make_url(_GIVEN_PG_URL).database}_{XDIST_WORKER}")
    .render_as_string(hide_password=False)
    if _GIVEN_PG_URL and XDIST_WORKER
    else _GIVEN_PG_URL
)
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
PG_SKIP_REASON = "needs PostgreSQL: set TEST_DATABASE_URL (CI does)"


def pytest_sessionstart(session: pytest.Session) -> None:
    """A worker's own PostgreSQL database, fresh (the given one is used as it is)."""
    if PG_URL and PG_URL != _GIVEN_PG_URL:
        name = make_url(PG_URL).database
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if PG_URL and PG_URL != _GIVEN_PG_URL:
        name = make_url(PG_URL).database
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}_tpl" WITH (FORCE)'))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.postgres_only`` tests run on the PostgreSQL backend only."""
    for item in items:
        if item.get_closest_marker("postgres_only") is None:
            continue
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if not PG_URL:
            item.add_marker(pytest.mark.skip(reason=PG_SKIP_REASON))
        elif backend == "sqlite":
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only test"))


def migrate(url: str, revision: str = "head") -> None:
    cfg = alembic_config(url)
    cfg.attributes["configure_logging"] = False
    command.upgrade(cfg, revision)


def downgrade(url: str, revision: str = "base") -> None:
    cfg = alembic_config(url)
    cfg.attributes["configure_logging"] = False
    command.downgrade(cfg, revision)


async def reset_pg_database(url: str) -> None:
    """Drop everything in the database's public schema."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def prepare_database(url: str) -> None:
    """An empty database brought to head by migrations and seeded."""
    if make_url(url).get_backend_name() == "postgresql":
        await reset_pg_database(url)
    await asyncio.to_thread(migrate, url)
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            await seed(session)
            await session.commit()
    finally:
        await db.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        yield f"sqlite+aiosqlite:///{path}"
    else:
        assert PG_URL is not None
        yield PG_URL


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await prepare_database(database_url)
    # The service's 10 s statement timeout is tested on its own (tests/reliability/test_limits.py);
    # here a loaded CI machine running two workers must not fail a 5,000-row arrangement.
    eng = create_engine(
        database_url, Settings(database_url=database_url, statement_timeout_ms=60_000)
    )
    yield eng
    await eng.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One transaction per test, rolled back at the end: no test sees another's rows."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        try:
            yield conn
        finally:
            await trans.rollback()


@pytest.fixture
def database(connection: AsyncConnection) -> Database:
    return Database.bound_to(connection)


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    """For arranging data with the factories; flush, the app sees it in the same transaction."""
    async with database.sessionmaker() as s:
        yield s


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def app(database: Database, settings: Settings) -> FastAPI:
    return create_app(settings=settings, database=database)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


# --- committed databases, for tests that need real concurrency or server processes ---


@pytest.fixture(scope="session")
async def template_url(
    backend: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A migrated, seeded database that fresh per-test databases are copied from."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite+aiosqlite:///{path}"
        await prepare_database(url)
        return url
    assert PG_URL is not None
    tpl = make_url(PG_URL).set(database=f"{make_url(PG_URL).database}_tpl")
    await _pg_admin(f'DROP DATABASE IF EXISTS "{tpl.database}" WITH (FORCE)')
    await _pg_admin(f'CREATE DATABASE "{tpl.database}"')
    url = tpl.render_as_string(hide_password=False)
    await prepare_database(url)
    return url


async def _pg_admin(sql: str) -> None:
    assert PG_URL is not None
    admin = make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)
    eng = create_engine(admin)
    try:
        async with eng.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await eng.dispose()


FreshDatabase = Callable[[], Awaitable[str]]


@pytest.fixture
async def fresh_database(
    backend: str, template_url: str, tmp_path: Path
) -> AsyncIterator[FreshDatabase]:
    """Makes databases of their own (migrated, seeded, committed to for real), dropped after."""
    made: list[str] = []

    async def make() -> str:
        name = f"enroll_t_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            dst = tmp_path / f"{name}.db"
            shutil.copyfile(Path(make_url(template_url).database or ""), dst)
            return f"sqlite+aiosqlite:///{dst}"
        tpl = make_url(template_url)
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{tpl.database}"')
        made.append(name)
        return tpl.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        for name in made:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def fresh_database_url(fresh_database: FreshDatabase) -> str:
    """A database of its own, committed to for real, dropped afterwards."""
    return await fresh_database()


@pytest.fixture(autouse=True)
def _problems_have_messages() -> Iterator[None]:
    """A test fails when the service answered a problem whose text has no message id or no
    Urdu translation (CONTRIBUTING.md, "Messages in English and Urdu")."""
    i18n.MISSING.clear()
    yield
    missing, i18n.MISSING[:] = list(i18n.MISSING), []
    assert not missing, "problem texts without a message id or translation:\n" + "\n".join(missing)
