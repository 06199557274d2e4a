"""HTTP for completions (staff), certificate revocation (admin) and public verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from service.completions import certificates, pages, service
from service.completions.rows import OPENAPI_BODY, CompletionCsvRowsDep, CompletionRowsDep
from service.completions.schemas import (
    CertificateRead,
    CertificateVerification,
    CompleteRequest,
    CompletionResults,
    RevokeRequest,
)
from service.core.auth import AdminActor, StaffActor
from service.core.clock import ClockDep
from service.core.db import SessionDep
from service.core.errors import ServiceError, problem_responses
from service.core.routing import CheckedRoute
from service.enrollments.schemas import EnrollmentRead

router = APIRouter(
    prefix="/api/v1", tags=["completions and certificates"], route_class=CheckedRoute
)
public_router = APIRouter(tags=["certificate verification"], route_class=CheckedRoute)


@router.post(
    "/enrollments/{enrollment_id}/complete",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def complete_enrollment(
    enrollment_id: str,
    body: CompleteRequest,
    session: SessionDep,
    actor: StaffActor,
    clock: ClockDep,
) -> EnrollmentRead:
    """Record a result: completed (with a certificate) or failed."""
    return await service.complete(session, actor, enrollment_id, body, today=clock.now().date())


@router.post(
    "/cohorts/{cohort_id}/completions",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra=OPENAPI_BODY,
)
async def complete_cohort_rows(
    cohort_id: str,
    session: SessionDep,
    actor: StaffActor,
    rows: CompletionRowsDep,  # read after the key is checked: no body parsed for strangers
    clock: ClockDep,
) -> CompletionResults:
    """Record many results at once (JSON or CSV); one result per row, in order."""
    results = await service.complete_many(session, actor, cohort_id, rows, today=clock.now().date())
    return CompletionResults(results=results)


@router.post(
    "/cohorts/{cohort_id}/completions/import",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def complete_cohort_rows_csv(
    cohort_id: str,
    session: SessionDep,
    actor: StaffActor,
    clock: ClockDep,
    rows: CompletionCsvRowsDep,
) -> CompletionResults:
    """Record many results from a CSV file; one result per line, in order."""
    results = await service.complete_many(session, actor, cohort_id, rows, today=clock.now().date())
    return CompletionResults(results=results)


@router.get("/certificates/{code}", responses=problem_responses(401, 403, 404))
async def read_certificate(code: str, session: SessionDep, actor: StaffActor) -> CertificateRead:
    """The full certificate record, revocation included (staff, admin)."""
    return await certificates.get_certificate(session, actor, code)


@router.post("/certificates/{code}/revoke", responses=problem_responses(401, 403, 404, 409, 422))
async def revoke_certificate(
    code: str, body: RevokeRequest, session: SessionDep, actor: AdminActor
) -> CertificateRead:
    """Revoke a certificate (admin); verification then answers 410."""
    return await certificates.revoke(session, actor, code, body.reason)


# --- public verification ----------------------------------------------------

_PAGE = {"text/html": {"schema": {"type": "string"}}}
_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": _PAGE, "description": "The printable certificate page."},
    404: {"content": _PAGE, "description": "A page saying no certificate has this code."},
    410: {"content": _PAGE, "description": "A page saying the certificate was revoked, and why."},
}
_VERIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": _PAGE,
        "description": "The certificate (JSON, or the HTML page for Accept: text/html).",
    },
    **{
        status: {**entry, "content": {**entry["content"], **_PAGE}}
        for status, entry in problem_responses(404, 410).items()
    },
}
VERIFY_HEADERS = {**pages.SECURITY_HEADERS, "Vary": "Accept"}


@public_router.get(
    "/certificates/{code}.html", response_class=HTMLResponse, responses=_PAGE_RESPONSES
)
async def verify_certificate_page(code: str, session: SessionDep) -> Response:
    """Printable HTML certificate page (no token)."""
    return await pages.verification_page(session, code)


@public_router.get(
    "/certificates/{code}", response_model=CertificateVerification, responses=_VERIFY_RESPONSES
)
async def verify_certificate(code: str, request: Request, session: SessionDep) -> Response:
    """Verify a certificate by its code (no token; any case, dashes optional)."""
    if pages.wants_html(request.headers.get("accept")):
        response: Response = await pages.verification_page(session, code)
        response.headers["Vary"] = "Accept"
        return response
    try:
        facts = await certificates.verify(session, code)
    except ServiceError as exc:  # 404 or 410, answered by the one problem handler
        exc.headers.update(VERIFY_HEADERS)
        raise
    return JSONResponse(facts.model_dump(mode="json"), headers=VERIFY_HEADERS)
