"""The route class every router uses: text PostgreSQL cannot store is refused where it enters.

PostgreSQL text cannot hold the NUL character (U+0000), and UTF-8 cannot
encode an unpaired surrogate (U+D800–U+DFFF); a value carrying either that
reaches a query fails inside the driver. JSON allows both (``"\\u0000"``,
``"\\ud800"``) and a URL allows NUL (``%00``), so one check here, before the
endpoint runs, answers 422 naming every such field — path and query
parameters and any string (or object key) in a JSON body — instead of each
field guarding itself. It runs before authentication, as FastAPI's own check
of malformed JSON does: such a request is malformed whoever sends it.

Bodies the endpoint reads itself (bulk completion rows, CSV imports) are not
parsed here; their row parsers refuse such text per row with :func:`unstorable`.
"""

from __future__ import annotations

import email.message
import json
import re
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from service.core.i18n import msg
from service.core.idempotency import IdempotentReplay
from service.core.openapi import location_templates

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
TEXT_MESSAGE = msg(
    "text.unstorable", "Must not contain NUL (U+0000) or an unpaired surrogate (U+D800–U+DFFF)."
)

Location = tuple[str | int, ...]


def unstorable(value: str) -> bool:
    """Whether ``value`` holds a character PostgreSQL text cannot store."""
    return _UNSTORABLE.search(value) is not None


def escaped(value: str) -> str:
    """``value`` with each unstorable character written as ``\\uXXXX`` (safe to echo back)."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def unstorable_locations(value: Any, loc: Location) -> Iterator[Location]:
    """Where in a decoded JSON value a string (or object key) is :func:`unstorable`.

    Iterative: a deeply nested body that ``json.loads`` accepted must not
    exhaust the recursion limit here.
    """
    stack: list[tuple[Any, Location]] = [(value, loc)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            if unstorable(current):
                yield where
        elif isinstance(current, dict):
            for key, item in reversed(current.items()):
                if unstorable(key):
                    yield (*where, escaped(key))  # the answer itself must be storable text
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


async def _text_errors(request: Request, reads_json_body: bool) -> list[dict[str, Any]]:
    locations: list[Location] = [
        ("path", name) for name, value in request.path_params.items() if unstorable(str(value))
    ]
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if (unstorable(name) or unstorable(value)) and name not in seen:
            seen.add(name)
            locations.append(("query", escaped(name)))
    if reads_json_body and _is_json(request.headers.get("content-type")):
        try:
            payload = await request.json()
        except Exception:  # not JSON: FastAPI's own parsing answers that next
            payload = None
        locations.extend(unstorable_locations(payload, ("body",)))
    return [
        {"type": "string_unstorable", "loc": loc, "msg": TEXT_MESSAGE, "input": None}
        for loc in locations
    ]


class CheckedRoute(APIRoute):
    """An ``APIRoute`` that refuses unstorable text in any input with one 422 naming each field."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reads_json_body = self.body_field is not None

        async def checked(request: Request) -> Response:
            errors = await _text_errors(request, reads_json_body)
            if errors:
                raise RequestValidationError(errors)
            try:
                response = await handler(request)
            except IdempotentReplay as replay:
                response = replay.response()
            if response.status_code == 201:
                _locate(request, self.name, response)
            return response

        return checked


def _locate(request: Request, operation: str, response: Response) -> None:
    """``Location`` of a created resource, the path its GET answers at (see ``core.openapi``)."""
    templates: dict[str, str] | None = getattr(request.app.state, "location_templates", None)
    if templates is None:
        templates = location_templates(request.app.openapi())
        request.app.state.location_templates = templates
    template = templates.get(operation)
    if template is None:
        return
    try:
        created = json.loads(bytes(response.body))
    except ValueError:
        return
    if isinstance(created, dict) and isinstance(created.get("id"), str):
        response.headers["Location"] = template.replace("{id}", created["id"])
