"""The staff console: server-rendered pages where a signed-in staff or admin key works
on its centres' cohorts, usable on a tablet without JavaScript.

Every console page follows one pattern, so cohort and results pages can follow:

- ``GET``: ``console_actor`` (signed-in staff or admin, else the sign-in page or a
  403 page), then one service call, then ``page(...)`` with a template under
  ``templates/console/``;
- ``POST``: ``check_origin`` first (with the SameSite=Strict session cookie this
  closes CSRF, exactly as the sign-in form), then the same service function the
  API calls, then a 303 back to the ``GET`` (post/redirect/get), with a summary;
- a ``ServiceError`` (unknown id, out of scope, conflict) is an HTML page with its
  status, never problem+json.

Pages: ``/dashboard/cohorts/{id}/attendance`` (sessions and roster percents) and
``/dashboard/sessions/{id}/attendance`` (mark one session in one form post).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance import console as attendance_console
from service.attendance import service as attendance
from service.attendance.rows import STATUSES, MarkRow
from service.core.auth import Actor
from service.core.clock import ClockDep
from service.core.db import SessionDep
from service.core.errors import ServiceError
from service.core.pagination import MAX_LIMIT, PageParams
from service.core.routing import CheckedRoute
from service.dashboard.config import DashboardSettings
from service.dashboard.router import SettingsDep, _check_origin, _page, _redirect, _signed_in

router = APIRouter(include_in_schema=False, route_class=CheckedRoute)
FIELD_PREFIX = "mark:"

check_origin = _check_origin


async def console_actor(
    request: Request, session: AsyncSession, settings: DashboardSettings
) -> Actor | Response:
    """The signed-in staff or admin actor, or the response to send instead."""
    actor = await _signed_in(request, session, settings)
    if actor is None:
        return _redirect("/dashboard/login")
    if not actor.is_staff_or_admin:
        return error_page(request, actor, 403, "Only staff and admin keys may use the console.")
    return actor


def page(request: Request, actor: Actor, name: str, context: dict[str, Any]) -> Response:
    return _page(request, f"console/{name}", {"actor": actor, **context})


def error_page(request: Request, actor: Actor, status: int, detail: str) -> Response:
    return _page(request, "console/error.html", {"actor": actor, "detail": detail}, status)


async def render(
    request: Request, actor: Actor, build: Callable[[], Awaitable[Response]]
) -> Response:
    """Run a page's work; a service error becomes an HTML page with its status."""
    try:
        return await build()
    except ServiceError as exc:
        return error_page(request, actor, exc.status, exc.detail)


@router.get("/dashboard/cohorts/{cohort_id}/attendance")
async def cohort_attendance_page(
    cohort_id: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    """A cohort's sessions (each a link to its roster form) and the trainees' percents."""
    actor = await console_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    today = clock.now().date()

    async def build() -> Response:
        sessions = await attendance.list_sessions(session, actor, cohort_id)
        roster = await attendance.roster(
            session, actor, cohort_id, PageParams(limit=MAX_LIMIT, cursor=None), today=today
        )
        return page(
            request,
            actor,
            "cohort.html",
            {"cohort_id": cohort_id, "sessions": sessions, "roster": roster, "today": today},
        )

    return await render(request, actor, build)


@router.get("/dashboard/sessions/{session_id}/attendance")
async def session_roster_page(
    session_id: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    """One session's roster form: a status per trainee, defaulting to the current mark."""
    actor = await console_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor

    async def build() -> Response:
        roster = await attendance_console.session_roster(
            session, actor, session_id, today=clock.now().date()
        )
        return page(
            request,
            actor,
            "session.html",
            {
                "roster": roster,
                "statuses": STATUSES,
                "saved": request.query_params.get("saved"),
                "errors": request.query_params.getlist("error"),
            },
        )

    return await render(request, actor, build)


@router.post("/dashboard/sessions/{session_id}/attendance")
async def mark_session_form(
    session_id: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    """Mark the whole session in one post (the API's marking rules), then back to the form."""
    check_origin(request)
    actor = await console_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    async with request.form(max_files=0, max_fields=5000) as form:
        rows = [
            MarkRow(i, enrollment_id=name.removeprefix(FIELD_PREFIX), status=str(value))
            for i, (name, value) in enumerate(form.multi_items(), start=1)
            if name.startswith(FIELD_PREFIX) and isinstance(value, str) and value in STATUSES
        ]

    async def build() -> Response:
        results = await attendance.mark(session, actor, session_id, rows, now=clock.now())
        query = [("saved", str(sum(r.error is None for r in results)))]
        query += [("error", r.error) for r in results if r.error][:20]
        return _redirect(f"/dashboard/sessions/{session_id}/attendance?{urlencode(query)}")

    return await render(request, actor, build)
