"""The browser session: a signed cookie naming a server-side session row.

The cookie holds no token, only ``{"s": session id, "e": expiry (unix seconds)}``,
signed with ``ENROLL_SECRET_KEY`` (itsdangerous, HMAC-SHA1 over a salted derived
key). Every request checks the signature and expiry, then looks the session row
and its key up again (``dashboard_sessions`` joined to a live ``api_keys`` row),
so signing out (the row is deleted) or revoking the key ends the session at
once, in every process, even for a copy of the cookie.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE_NAME = "enroll_dashboard"
COOKIE_PATH = "/dashboard"
# v1 cookies named a key, not a session: they no longer verify.
_SALT = "enroll.dashboard.session.v2"


@dataclass(frozen=True, slots=True)
class SessionClaim:
    session_id: str
    expires_at: int


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def lifetime_seconds(hours: float) -> int:
    return max(int(hours * 3600), 1)


def issue(secret: str, session_id: str, expires_at: int) -> str:
    """A signed cookie value naming ``session_id`` until ``expires_at`` (unix seconds)."""
    return _serializer(secret).dumps({"s": session_id, "e": expires_at})


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
    session_id, expires = data.get("s"), data.get("e")
    if not isinstance(session_id, str) or not isinstance(expires, int) or isinstance(expires, bool):
        return None
    if expires <= (now if now is not None else time.time()):
        return None
    return SessionClaim(session_id=session_id, expires_at=expires)


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
