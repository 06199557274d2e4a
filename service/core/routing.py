"""The route class every router uses: text PostgreSQL cannot store is refused where it enters.

PostgreSQL text cannot hold the NUL character (U+0000); a value carrying one
that reaches a query fails inside the driver. JSON allows it (``"\\u0000"``)
and so does a URL (``%00``), so one check here, before the endpoint runs,
answers 422 naming every such field — path and query parameters and any
string (or object key) in a JSON body — instead of each field guarding
itself. It runs before authentication, as FastAPI's own check of malformed
JSON does: such a request is malformed whoever sends it.

Bodies the endpoint reads itself (bulk completion rows, CSV imports) are not
parsed here; their row parsers refuse NUL per row with :func:`contains_nul`.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

NUL = "\x00"
NUL_MESSAGE = "Must not contain the NUL character (U+0000)."

Location = tuple[str | int, ...]


def contains_nul(value: str) -> bool:
    return NUL in value


def nul_locations(value: Any, loc: Location) -> Iterator[Location]:
    """Where in a decoded JSON value a string (or object key) holds NUL.

    Iterative: a deeply nested body that ``json.loads`` accepted must not
    exhaust the recursion limit here.
    """
    stack: list[tuple[Any, Location]] = [(value, loc)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            if NUL in current:
                yield where
        elif isinstance(current, dict):
            for key, item in reversed(current.items()):
                if NUL in key:
                    yield (*where, key)
                else:
                    stack.append((item, (*where, key)))
        elif isinstance(current, list):
            stack.extend((item, (*where, i)) for i, item in reversed(list(enumerate(current))))


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def _nul_errors(request: Request, reads_json_body: bool) -> list[dict[str, Any]]:
    locations: list[Location] = [
        ("path", name) for name, value in request.path_params.items() if NUL in str(value)
    ]
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if (NUL in name or NUL in value) and name not in seen:
            seen.add(name)
            locations.append(("query", name))
    if reads_json_body and _is_json(request.headers.get("content-type")):
        try:
            payload = await request.json()
        except Exception:
            payload = None
        locations.extend(nul_locations(payload, ("body",)))
    return [
        {"type": "string_nul", "loc": loc, "msg": NUL_MESSAGE, "input": None} for loc in locations
    ]


class CheckedRoute(APIRoute):
    """An ``APIRoute`` that refuses NUL in any text input with one 422 naming each field."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reads_json_body = self.body_field is not None

        async def checked(request: Request) -> Response:
            errors = await _nul_errors(request, reads_json_body)
            if errors:
                raise RequestValidationError(errors)
            return await handler(request)

        return checked
