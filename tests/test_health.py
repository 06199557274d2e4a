import httpx

from service.core.config import Settings
from service.core.db import Database
from service.main import create_app


async def test_health_reports_database_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_database_unreachable() -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    settings = Settings(database_url=url, pool_timeout=1)
    db = Database.from_url(url, settings)
    app = create_app(settings=settings, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        response = await c.get("/health")
    await db.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}


async def test_docs_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/programmes" in spec["paths"]
