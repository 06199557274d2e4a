"""Allowed ``Host`` names (``ENROLL_ALLOWED_HOSTS``), as a pure ASGI middleware.

The application builds absolute URLs from the ``Host`` header (the trailing-slash
redirect above all), so a request naming another host is refused with a 400
problem before it reaches a route. A pattern ``*.example.pk`` allows every
subdomain; ``*`` alone allows any host (for a deployment whose proxy already
checks it). The health checks answer whatever the Host: load balancers and
container health checks call them by address, and they build no URLs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from service.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

HEALTH_PATHS = frozenset({"/health", "/health/ready"})


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port: ``[::1]:8000`` → ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def host_allowed(name: str, allowed: Sequence[str]) -> bool:
    for pattern in allowed:
        pattern = host_name(pattern) if pattern != "*" else pattern
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]) and len(name) > len(pattern):
            return True
    return False


class AllowedHosts:
    def __init__(self, app: ASGIApp, *, allowed: Sequence[str]) -> None:
        self.app = app
        self.allowed = list(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in HEALTH_PATHS:
            await self.app(scope, receive, send)
            return
        header = b""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                header = value
                break
        if host_allowed(host_name(header.decode("latin-1")), self.allowed):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "type": PROBLEM_BASE + "invalid-host",
                "title": "Invalid host",
                "status": 400,
                "detail": "The Host header does not name this service.",
                "errors": [{"field": "Host", "message": "Not one of this service's host names."}],
            }
        ).encode()
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
