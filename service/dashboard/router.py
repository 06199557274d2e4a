"""The progress dashboard: HTML pages for browsers, signed in once with an API key.

- ``GET/POST /dashboard/login``, ``POST /dashboard/logout``: a signed session cookie.
- ``GET /dashboard``: targets, the weekly chart, breakdowns, and (staff, admin) the
  cohorts starting soon.
- ``GET /progress``: the public transparency page, when ``ENROLL_PUBLIC_DASHBOARD``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor, authenticate
from service.core.db import ReportingSessionDep, SessionDep
from service.core.errors import Forbidden, NotFound, Unauthorized
from service.core.i18n import msg
from service.core.routing import CheckedRoute
from service.dashboard import service
from service.dashboard import session as cookies
from service.dashboard.config import DashboardSettings, get_dashboard_settings
from service.models.enums import Role

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
STYLESHEET = (HERE / "static" / "dashboard.css").read_text(encoding="utf-8")

CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    # Not the API's no-referrer: under it browsers send "Origin: null" on the pages' own
    # form posts, and the Origin check below needs the real one. Nothing leaves the site.
    "Referrer-Policy": "same-origin",
}

router = APIRouter(include_in_schema=False, route_class=CheckedRoute)
SettingsDep = Annotated[DashboardSettings, Depends(get_dashboard_settings)]


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=HTML_HEADERS
    )


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL ("" when it has none)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if sep else ""


def _check_origin(request: Request) -> None:
    """Only this site's own pages may post: with SameSite=Strict cookies this closes CSRF.

    Browsers send ``Origin`` on form posts; where one leaves it out, the ``Referer``
    (sent for same-origin requests under this site's ``Referrer-Policy: same-origin``)
    must name this site instead. A post with neither is refused.
    """
    expected = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is None:
        origin = _origin_of(request.headers.get("referer", ""))
    if origin != expected:
        raise Forbidden(msg("dashboard.cross_site", "Cross-site form posts are not accepted."))


async def _signed_in(
    request: Request, session: AsyncSession, settings: DashboardSettings
) -> Actor | None:
    """The actor of the live session the cookie names, or None."""
    actor = await service.signed_in(
        session, secret=settings.secret_key, cookie=request.cookies.get(cookies.COOKIE_NAME)
    )
    if actor is not None:
        request.state.actor_name = actor.name
    return actor


def _login_form(request: Request, error: str | None, status_code: int) -> Response:
    return _page(request, "login.html", {"error": error}, status_code)


@router.get("/dashboard/login")
async def login_form(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The sign-in form."""
    if await _signed_in(request, session, settings) is not None:
        return _redirect("/dashboard")
    return _login_form(request, None, 200)


@router.post("/dashboard/login")
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    api_key: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    """Exchange an API key for a session cookie."""
    _check_origin(request)
    try:
        actor = await authenticate(session, f"Bearer {api_key.strip()}")
    except Unauthorized:
        return _login_form(request, "That API key is unknown or has been revoked.", 401)
    request.state.actor_name = actor.name
    if actor.role not in service.SIGN_IN_ROLES:
        return _login_form(
            request,
            f"A {actor.role.value} key cannot open the dashboard; "
            "use a reporter, staff or admin key.",
            403,
        )
    value, lifetime = await service.sign_in(
        session, actor, secret=settings.secret_key, hours=settings.dashboard_session_hours
    )
    response = _redirect("/dashboard")
    cookies.set_cookie(response, request, value, lifetime)
    logger.info("dashboard sign-in", extra={"key": actor.name})
    return response


@router.post("/dashboard/logout")
async def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """End the browser session, on the server too."""
    _check_origin(request)
    await service.sign_out(
        session, secret=settings.secret_key, cookie=request.cookies.get(cookies.COOKIE_NAME)
    )
    response = _redirect("/dashboard/login")
    cookies.clear_cookie(response, request)
    return response


@router.get("/dashboard")
async def dashboard(
    request: Request, session: SessionDep, reporting: ReportingSessionDep, settings: SettingsDep
) -> Response:
    """The progress dashboard for a signed-in reporter, staff or admin key."""
    actor = await _signed_in(request, session, settings)
    if actor is None:
        response = _redirect("/dashboard/login")
        if cookies.COOKIE_NAME in request.cookies:
            cookies.clear_cookie(response, request)
        return response
    data = await service.dashboard(session, actor, reporting=reporting)
    return _page(
        request,
        "dashboard.html",
        {"data": data, "actor": actor, "public": False, "suppressed": actor.role is Role.reporter},
    )


@router.get("/progress")
async def public_progress(
    request: Request, session: SessionDep, reporting: ReportingSessionDep, settings: SettingsDep
) -> Response:
    """The public transparency page (aggregates only), when enabled."""
    if not settings.public_dashboard:
        raise NotFound(msg("dashboard.not_found", "Not found."))
    data = await service.dashboard(session, service.PUBLIC_ACTOR, reporting=reporting, public=True)
    return _page(
        request,
        "dashboard.html",
        {"data": data, "actor": None, "public": True, "suppressed": True},
    )


@router.get("/dashboard/static/dashboard.css")
async def stylesheet() -> Response:
    """The dashboard's stylesheet."""
    return Response(
        STYLESHEET,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
