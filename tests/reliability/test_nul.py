"""NUL (U+0000) or an unpaired surrogate in any text input is a 422 naming the field, never a 500.

Found in review: ``{"applicant_id": "\\u0000bad"}`` reached asyncpg, which cannot
bind NUL into text, and the client got a 500. The inputs below are read from
the app's own OpenAPI document, so a new route or field is covered without
being listed here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.config import Settings
from service.core.routing import TEXT_MESSAGE, CheckedRoute
from service.main import create_app
from service.models import Applicant
from tests.completions.helpers import enrolled, in_progress_cohort
from tests.factories import applicant_payload, auth, make_key

PROBLEM = "application/problem+json"

UNSTORABLE = {"message": TEXT_MESSAGE, "code": "text.unstorable"}


def _text_inputs() -> list[tuple[str, str, str, str]]:
    """(method, path, where, name) for every path/query parameter and JSON body property."""
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    document = app.openapi()
    schemas = document["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    inputs = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query"):
                    inputs.append((method, path, parameter["in"], parameter["name"]))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = resolve(content["application/json"]["schema"])
                inputs.extend((method, path, "body", name) for name in body.get("properties", {}))
    return inputs


TEXT_INPUTS = _text_inputs()


def test_the_document_has_inputs_of_every_kind() -> None:
    kinds = {where for _method, _path, where, _name in TEXT_INPUTS}
    assert kinds == {"path", "query", "body"}
    assert len(TEXT_INPUTS) > 50


@pytest.mark.parametrize(
    ("method", "path", "where", "name"),
    TEXT_INPUTS,
    ids=[f"{m} {p} {w}.{n}" for m, p, w, n in TEXT_INPUTS],
)
async def test_nul_in_any_input_is_a_422_naming_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    method: str,
    path: str,
    where: str,
    name: str,
) -> None:
    token = await make_key(session, "admin")
    url = re.sub(
        r"\{(\w+)\}",
        lambda m: "bad%00id" if where == "path" and m.group(1) == name else "x",
        path,
    )
    params = {name: "bad\x00value"} if where == "query" else {}
    body = {name: "bad\x00value"} if where == "body" else None

    response = await client.request(
        method.upper(), url, params=params, json=body, headers=auth(token)
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [{"field": name, **UNSTORABLE}]


async def test_every_nul_field_is_named_at_once_nested_ones_by_their_place(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    body = {
        "code": "t\x00",
        "name": "Target",
        "goal": 10,
        "metric": "completions",
        "programmes": ["zte-ict", "ali\x00baba"],
    }
    response = await client.post(
        "/api/v1/targets", params={"x": "\x00"}, json=body, headers=auth(token)
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["x", "code", "programmes[1]"]


async def test_a_nul_registration_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    before = await session.scalar(select(func.count()).select_from(Applicant))
    response = await client.post(
        "/api/v1/applicants",
        json=applicant_payload(full_name="Ayesha\x00Khan", district="Lahore\x00"),
        headers=auth(token),
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["full_name", "district"]
    assert await session.scalar(select(func.count()).select_from(Applicant)) == before


async def test_a_nul_object_key_is_named_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    response = await client.post(
        "/api/v1/applicants", json={**applicant_payload(), "ke\x00y": 1}, headers=auth(token)
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "ke\\u0000y", **UNSTORABLE}]
    surrogate = await client.post(
        "/api/v1/applicants",
        content=b'{"k\\ud800": 1}',
        headers={**auth(token), "content-type": "application/json"},
    )
    assert surrogate.status_code == 422, surrogate.text
    assert surrogate.json()["errors"] == [{"field": "k\\ud800", **UNSTORABLE}]


@pytest.mark.parametrize("depth", [500, 100_000])
async def test_deeply_nested_bodies_are_refused_not_crashed_on(
    client: httpx.AsyncClient, session: AsyncSession, depth: int
) -> None:
    token = await make_key(session, "client")
    content = ("[" * depth + '"\\u0000"' + "]" * depth).encode()
    response = await client.post(
        "/api/v1/applicants",
        content=content,
        headers={**auth(token), "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_a_bulk_completion_row_with_nul_is_that_rows_error_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Bulk rows are parsed by the endpoint, row by row: one bad row never sinks the rest."""
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    good = await enrolled(session, cohort)
    rows = [
        {"enrollment_id": f"{good.id}\x00", "score": 80, "attendance": 90},
        {"enrollment_id": good.id, "score": 80, "attendance": 90},
    ]
    as_json = await client.post(
        f"/api/v1/cohorts/{cohort.id}/completions", json=rows, headers=auth(token)
    )
    assert as_json.status_code == 200, as_json.text
    results = as_json.json()["results"]
    assert [r["status"] for r in results] == ["error", "completed"]
    assert "enrollment_id must not contain NUL" in results[0]["error"]

    csv = b"cnic,score,attendance\n3520\x0012345671,80,90\n"
    as_csv = await client.post(
        f"/api/v1/cohorts/{cohort.id}/completions",
        content=csv,
        headers={**auth(token), "content-type": "text/csv"},
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.json()["results"][0]["status"] == "error"
    assert "cnic must not contain NUL" in as_csv.json()["results"][0]["error"]


def test_every_route_of_the_app_checks_its_text(app: Any) -> None:
    """A router created without ``route_class=CheckedRoute`` would skip the check."""
    routes = _api_routes(app.routes)
    assert routes
    unchecked = [r.path for r in routes if not isinstance(r, CheckedRoute)]
    assert unchecked == []


def _api_routes(routes: Any) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if hasattr(route, "effective_candidates"):
            found.extend(_api_routes(route.effective_candidates()))
        elif hasattr(route, "original_route"):
            found.extend(_api_routes([route.original_route]))
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


async def test_an_unpaired_surrogate_is_refused_like_nul(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """JSON's ``"\\ud800"`` decodes to text UTF-8 cannot encode: asyncpg failed on it (500)."""
    token = await make_key(session, "admin")
    headers = {**auth(token), "content-type": "application/json"}
    body = json.dumps(applicant_payload(full_name="Ayesha \ud800", district="Lahore"))
    registered = await client.post("/api/v1/applicants", content=body.encode(), headers=headers)
    assert registered.status_code == 422, registered.text
    assert registered.json()["errors"] == [{"field": "full_name", **UNSTORABLE}]

    cohort = await in_progress_cohort(session)
    good = await enrolled(session, cohort)
    rows = '[{"enrollment_id": "\\ud800", "score": 80, "attendance": 90}, '
    rows += f'{{"enrollment_id": "{good.id}", "score": 80, "attendance": 90}}]'
    bulk = await client.post(
        f"/api/v1/cohorts/{cohort.id}/completions", content=rows.encode(), headers=headers
    )
    assert bulk.status_code == 200, bulk.text
    results = bulk.json()["results"]
    assert [r["status"] for r in results] == ["error", "completed"]
    assert "enrollment_id must not contain NUL or an unpaired surrogate" in results[0]["error"]


@pytest.mark.parametrize("depth", [500, 100_000])
async def test_deeply_nested_bulk_completion_rows_are_a_422(
    client: httpx.AsyncClient, session: AsyncSession, depth: int
) -> None:
    """Found by an attacker: the endpoint's own json.loads raised RecursionError (500)."""
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    content = ("[" * depth + "]" * depth).encode()
    response = await client.post(
        f"/api/v1/cohorts/{cohort.id}/completions",
        content=content,
        headers={**auth(token), "content-type": "application/json"},
    )
    if depth == 500:  # parsed: one row that is not an object
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["status"] == "error"
        return
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {"field": "body", "message": "The body is nested too deeply.", "code": "body.too_deep"}
    ]
