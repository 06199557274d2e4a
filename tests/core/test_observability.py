import json
import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.config import Settings
from service.core.db import Database
from service.core.observability import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    resolve_format,
)
from service.main import create_app
from tests.factories import auth, make_key


async def test_request_id_is_generated_or_echoed(client: httpx.AsyncClient) -> None:
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123.x"})
    assert echoed.headers["x-request-id"] == "abc-123.x"
    hostile = await client.get("/health", headers={"X-Request-ID": 'a b"<script>'})
    assert hostile.headers["x-request-id"] != 'a b"<script>'


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health"), await client.get("/api/v1/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in (await client.get("/health")).headers["content-security-policy"]


async def test_access_log_names_route_template_and_key_without_personal_data(
    client: httpx.AsyncClient, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    token = await make_key(session, "admin")
    caplog.set_level(logging.INFO, logger="service.access")
    await client.get("/api/v1/programmes?limit=3", headers=auth(token))
    records = [r for r in caplog.records if r.name == "service.access"]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["route"] == "/api/v1/programmes"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert line["key"].startswith("admin-")
    assert len(line["request_id"]) == 32
    assert "limit=3" not in json.dumps(line)
    assert token not in json.dumps(line)


async def test_cors_closed_by_default(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/v1/programmes",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_cors_opens_for_configured_origins(database: Database, database_url: str) -> None:
    settings = Settings(database_url=database_url, cors_origins=["https://portal.example.pk"])
    app = create_app(settings=settings, database=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.options(
            "/api/v1/programmes",
            headers={
                "Origin": "https://portal.example.pk",
                "Access-Control-Request-Method": "GET",
            },
        )
    assert response.headers["access-control-allow-origin"] == "https://portal.example.pk"


async def test_docs_can_be_turned_off(database: Database, database_url: str) -> None:
    app = create_app(
        settings=Settings(database_url=database_url, docs_enabled=False), database=database
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/docs")).status_code == 404
        assert (await c.get("/openapi.json")).status_code == 404


async def test_ready_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "head"}


async def test_not_ready_when_not_migrated(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    db = Database.from_url(url)
    app = create_app(settings=Settings(database_url=url), database=db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            response = await c.get("/health/ready")
    finally:
        await db.dispose()
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_log_format_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    assert resolve_format("auto", _Stream(tty=True)) == "text"
    assert resolve_format("auto", _Stream(tty=False)) == "json"
    assert resolve_format("json", _Stream(tty=True)) == "json"
    assert resolve_format("text", _Stream(tty=False)) == "text"
    assert Settings.model_fields["log_format"].default == "auto"


def test_configure_logging_picks_json_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        monkeypatch.setattr("sys.stderr", _Stream(tty=False))
        configure_logging("info", "auto")
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        monkeypatch.setattr("sys.stderr", _Stream(tty=True))
        configure_logging("info", "auto")
        assert isinstance(root.handlers[0].formatter, TextFormatter)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def _uvicorn_record() -> logging.LogRecord:
    """A record as uvicorn logs it: with a colourised copy of the message in ``extra``."""
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "Started %s", ("x",), None
    )
    record.color_message = "Started \x1b[1m%s\x1b[0m"
    record.route = "/health"
    return record


def test_color_message_never_reaches_a_log_line() -> None:
    entry = json.loads(JsonFormatter().format(_uvicorn_record()))
    assert "color_message" not in entry
    assert entry["message"] == "Started x"
    assert entry["route"] == "/health"
    text = TextFormatter().format(_uvicorn_record())
    assert "\x1b" not in text
    assert "color_message" not in text
    assert text.endswith("INFO  uvicorn.error Started x route=/health")
