"""Request body size limits (service/core/limits.py): 413 problem, by header and while streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.config import Settings
from service.core.db import Database
from service.main import create_app
from service.models import Applicant
from tests.applicants.helpers import csv_bytes, csv_row, upload
from tests.factories import applicant_payload, auth, make_key

JSON_LIMIT = 2_000
UPLOAD_LIMIT = 20_000


@pytest.fixture
async def small(database: Database, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url,
        max_json_body_bytes=JSON_LIMIT,
        max_upload_bytes=UPLOAD_LIMIT,
    )
    app = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Applicant)) or 0)


def assert_413(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 413
    assert body["title"] == "Payload too large"
    assert body["limit"] == limit
    assert str(limit) in body["detail"]


async def test_json_body_over_limit_by_content_length(
    small: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    payload = applicant_payload(full_name="x" * JSON_LIMIT)
    r = await small.post("/api/v1/applicants", json=payload, headers=auth(token))
    assert_413(r, JSON_LIMIT)
    assert await count(session) == 0


async def test_chunked_json_body_is_counted_while_streaming(
    small: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"full_name": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    r = await small.post(
        "/api/v1/applicants",
        content=chunks(),
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert "content-length" not in r.request.headers
    assert_413(r, JSON_LIMIT)
    assert await count(session) == 0


async def test_json_body_under_limit_passes(
    small: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    r = await small.post("/api/v1/applicants", json=applicant_payload(), headers=auth(token))
    assert r.status_code == 201


async def test_upload_over_limit(small: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "staff")
    data = csv_bytes([csv_row() for _ in range(200)])
    assert len(data) > UPLOAD_LIMIT
    assert_413(await upload(small, token, data), UPLOAD_LIMIT)
    assert await count(session) == 0


async def test_upload_uses_the_upload_limit_not_the_json_one(
    small: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    data = csv_bytes([csv_row() for _ in range(20)])
    assert JSON_LIMIT < len(data) < UPLOAD_LIMIT
    r = await upload(small, token, data)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 20


async def test_chunked_upload_over_limit(small: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "staff")
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    data = csv_bytes([csv_row() for _ in range(200)])

    async def chunks() -> AsyncIterator[bytes]:
        yield head
        for i in range(0, len(data), 4096):
            yield data[i : i + 4096]
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await small.post(
        "/api/v1/applicants/import",
        content=chunks(),
        headers={**auth(token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_413(r, UPLOAD_LIMIT)
    assert await count(session) == 0


async def test_default_limits_come_from_settings(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/applicants/lookup",
        content=b"{" + b" " * (Settings().max_json_body_bytes + 1) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
