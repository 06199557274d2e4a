"""Allowed ``Host`` names (``ENROLL_ALLOWED_HOSTS``), as a pure ASGI middleware.

Two guards against a forged ``Host`` header:

- A redirect never reflects it: Starlette builds the trailing-slash redirect's
  ``Location`` from the request's ``Host``; this middleware turns a ``Location``
  on the request's own host into a relative one (RFC 9110 allows it), whatever
  the setting.
- With ``ENROLL_ALLOWED_HOSTS`` set to names (production: the names clients use),
  a request naming another host is refused with a 400 problem before it reaches
  a route. A pattern ``*.example.pk`` allows every subdomain; ``*`` (the default,
  so a fresh install answers on any address it is reached by) allows any host.
  The health checks answer whatever the Host: load balancers and container
  health checks call them by address.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.errors import FieldError, problem_message
from service.core.i18n import msg, scope_language

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


def relative_location(send: Send, host: bytes) -> Send:
    """``send`` with a redirect's ``Location`` on ``host`` made relative (path and query)."""
    prefixes = (b"http://" + host, b"https://" + host)

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
            headers = []
            for name, value in message.get("headers", ()):
                if name == b"location":
                    for prefix in prefixes:
                        rest = value[len(prefix) :]
                        if value.startswith(prefix) and rest[:1] in (b"/", b"?", b""):
                            value = rest or b"/"
                            break
                headers.append((name, value))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


class AllowedHosts:
    def __init__(self, app: ASGIApp, *, allowed: Sequence[str]) -> None:
        self.app = app
        self.allowed = list(allowed)
        self.any_host = "*" in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in HEALTH_PATHS:
            await self.app(scope, receive, send)
            return
        header = b""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                header = value
                break
        if self.any_host or host_allowed(host_name(header.decode("latin-1")), self.allowed):
            await self.app(scope, receive, relative_location(send, header.lower()))
            return
        headers, body = problem_message(
            400,
            msg("title.invalid-host", "Invalid host"),
            msg("host.invalid", "The Host header does not name this service."),
            slug="invalid-host",
            errors=[
                FieldError(
                    field="Host",
                    message=msg("host.not_ours", "Not one of this service's host names."),
                )
            ],
            language=scope_language(scope),
        )
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
