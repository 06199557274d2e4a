"""Every client mistake is answered with problem+json, never a 500 or a stack trace."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key

PROBLEM = "application/problem+json"


async def test_unknown_route_is_problem_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 404
    assert {"type", "title", "detail"} <= body.keys()


async def test_wrong_method_is_problem_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/programmes")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 405


async def test_malformed_json_is_422_naming_body(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    response = await client.post(
        "/api/v1/programmes",
        content=b'{"code": "x",',
        headers={**auth(token), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {"field": "body", "message": "The body is not valid JSON.", "code": "body.invalid_json"}
    ]


async def test_validation_names_every_bad_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    response = await client.post(
        "/api/v1/targets",
        json={"code": "Bad Code!", "name": "", "goal": 0, "metric": "likes", "programmes": []},
        headers=auth(token),
    )
    assert response.status_code == 422
    body = response.json()
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"code", "name", "goal", "metric", "programmes"}
    assert body["title"] == "Validation failed"
    assert "Traceback" not in response.text


async def test_bad_query_parameter_is_named(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    response = await client.get("/api/v1/programmes?limit=0", headers=auth(token))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"
    response = await client.get("/api/v1/programmes?cursor=%%%", headers=auth(token))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"
