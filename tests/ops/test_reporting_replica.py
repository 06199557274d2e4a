"""ENROLL_REPORTING_DATABASE_URL: reports read the replica, everything else the primary."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.config import Settings
from service.core.db import Database
from service.main import create_app
from tests.conftest import FreshDatabase
from tests.factories import auth, make_cohort, make_enrollment, make_key


async def _arrange(url: str, *, enrolled: int) -> str:
    """Commit ``enrolled`` enrollments and an admin key; return its token."""
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            token = await make_key(session, "admin")
            cohort = await make_cohort(session, capacity=10)
            for _ in range(enrolled):
                await make_enrollment(session, cohort)
            await session.commit()
            return token
    finally:
        await db.dispose()


def _zte(body: dict[str, object]) -> dict[str, object]:
    programmes = body["programmes"]
    assert isinstance(programmes, list)
    return next(p for p in programmes if p["code"] == "zte-ict")


async def test_reports_read_the_reporting_database(fresh_database: FreshDatabase) -> None:
    primary, replica = await fresh_database(), await fresh_database()
    token = await _arrange(primary, enrolled=1)
    await _arrange(replica, enrolled=3)
    app = create_app(Settings(database_url=primary, reporting_database_url=replica))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        # The key lives on the primary: authentication does not use the replica.
        progress = await client.get("/api/v1/reports/progress", headers=auth(token))
        assert progress.status_code == 200, progress.text
        assert _zte(progress.json())["enrolled"] == 3
        metrics = await client.get("/metrics", headers=auth(token))
        assert metrics.status_code == 200
        # Non-report reads still come from the primary.
        centres = await client.get("/api/v1/centres", headers=auth(token))
        assert centres.status_code == 200


async def test_second_connection_to_the_same_database_sees_every_commit(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    token = await _arrange(url, enrolled=2)
    app = create_app(Settings(database_url=url, reporting_database_url=url))
    assert app.state.reporting_db is not app.state.db
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        before = _zte((await client.get("/api/v1/reports/progress", headers=auth(token))).json())
        await _arrange(url, enrolled=1)
        after = _zte((await client.get("/api/v1/reports/progress", headers=auth(token))).json())
    assert (before["enrolled"], after["enrolled"]) == (2, 3)


async def test_without_setting_reports_use_the_primary(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "reporter")
    cohort = await make_cohort(session)
    await make_enrollment(session, cohort)
    progress = await client.get("/api/v1/reports/progress", headers=auth(token))
    assert _zte(progress.json())["enrolled"] == 1
