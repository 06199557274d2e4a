"""The OpenAPI document says what the service really sends on errors."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]


async def test_every_documented_error_is_problem_json(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert set(spec["components"]["schemas"]["Problem"]["required"]) >= {
        "type", "title", "status", "detail",
    }  # fmt: skip
    for method, path, op in _operations(spec):
        responses = op["responses"]
        assert "503" in responses, (method, path)
        assert "Retry-After" in responses["503"]["headers"]
        if "422" in responses:
            assert responses["422"]["content"] == PROBLEM, (method, path)
        if "requestBody" in op:
            assert "413" in responses, (method, path)
        if "401" in responses:
            assert op["security"] == [{"bearer": []}]
        for status, entry in responses.items():
            if status.startswith("4") and "content" in entry:
                assert "application/json" not in entry["content"], (method, path, status)


async def test_rate_limited_routes_document_429(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/applicants", "/api/v1/cohorts/{cohort_id}/enrollments"):
        entry = spec["paths"][path]["post"]["responses"]["429"]
        assert entry["content"] == PROBLEM
        assert "Retry-After" in entry["headers"]


async def test_a_body_that_cannot_be_decoded_is_a_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Found by fuzzing: bytes that are not UTF-8 gave an undocumented 400."""
    token = await make_key(session, "admin")
    response = await client.post(
        "/api/v1/programmes",
        content=b"\x1b\xff\x46\xfe\x51\x10\x35",
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "body", "message": "The body cannot be decoded.", "code": "body.undecodable"}
    ]
