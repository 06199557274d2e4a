"""The browser session: a signed cookie naming an API key and an expiry.

The cookie holds no token, only ``{"k": key id, "e": expiry (unix seconds)}``,
signed with ``ENROLL_SECRET_KEY`` (itsdangerous, HMAC-SHA1 over a salted
derived key). Every request checks the signature and expiry, then looks the key
up again, so revoking a key ends its browser sessions at once, in every process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE_NAME = "enroll_dashboard"
COOKIE_PATH = "/dashboard"
_SALT = "enroll.dashboard.session.v1"


@dataclass(frozen=True, slots=True)
class SessionClaim:
    key_id: str
    expires_at: int


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def issue(secret: str, key_id: str, hours: float, *, now: float | None = None) -> tuple[str, int]:
    """A signed cookie value for ``key_id`` and its lifetime in seconds."""
    lifetime = max(int(hours * 3600), 1)
    expires = int(now if now is not None else time.time()) + lifetime
    return _serializer(secret).dumps({"k": key_id, "e": expires}), lifetime


def read(secret: str, value: str | None, *, now: float | None = None) -> SessionClaim | None:
    """The claim in a cookie value, or None if it is missing, tampered with or expired."""
    if not value or len(value) > 1024:
        return None
    try:
        data = _serializer(secret).loads(value)
    except BadSignature:  # also covers a malformed value
        return None
    if not isinstance(data, dict):
        return None
    key_id, expires = data.get("k"), data.get("e")
    if not isinstance(key_id, str) or not isinstance(expires, int) or isinstance(expires, bool):
        return None
    if expires <= (now if now is not None else time.time()):
        return None
    return SessionClaim(key_id=key_id, expires_at=expires)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, value: str, lifetime: int) -> None:
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=lifetime,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="strict", secure=is_https(request)
    )
