"""HTTP for completions (staff), certificate revocation (admin) and public verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.completions import rows as bulk_rows
from service.completions import service
from service.completions.schemas import (
    CertificateRead,
    CertificateVerification,
    CompleteRequest,
    CompletionResults,
    RevokeRequest,
)
from service.core.auth import AdminActor, StaffActor
from service.core.config import Settings
from service.core.db import SessionDep
from service.core.errors import (
    PayloadTooLarge,
    ServiceError,
    ValidationFailed,
    problem_response,
    problem_responses,
)
from service.core.routing import CheckedRoute
from service.enrollments.schemas import EnrollmentRead

router = APIRouter(
    prefix="/api/v1", tags=["completions and certificates"], route_class=CheckedRoute
)
public_router = APIRouter(tags=["certificate verification"], route_class=CheckedRoute)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

_ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "enrollment_id": {"type": "string"},
        "cnic": {"type": "string", "example": "35202-1234567-1"},
        "score": {"type": "number", "minimum": 0, "maximum": 100},
        "attendance": {"type": "number", "minimum": 0, "maximum": 100},
    },
    "required": ["score", "attendance"],
}
_BULK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            f"Up to {bulk_rows.MAX_ROWS} rows, each with enrollment_id or cnic. As JSON, or as "
            "a CSV file (multipart field `file`, or a text/csv body) with the header row "
            "`enrollment_id,cnic,score,attendance`."
        ),
        "content": {
            "application/json": {"schema": {"type": "array", "items": _ROW_SCHEMA}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than {limit} bytes.")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _bulk_rows(request: Request) -> list[bulk_rows.ParsedRow]:
    """JSON array, multipart CSV (field ``file``) or a text/csv body, parsed row by row."""
    settings = _settings(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        limit = settings.max_upload_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + 64 * 1024:
            raise _too_large(limit)
        try:
            async with request.form(max_files=1, max_fields=16) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise ValidationFailed(
                        {"file": "Upload the CSV file in multipart field 'file'."}
                    )
                data = await upload.read(limit + 1)
        except StarletteHTTPException as exc:
            # Starlette's answer to a broken multipart stream (a bad part header,
            # no boundary): the same 422 on `body` as any body that cannot be decoded.
            if exc.status_code != 400:
                raise
            raise ValidationFailed({"body": "The body cannot be decoded."}) from None
        if len(data) > limit:
            raise _too_large(limit)
        return bulk_rows.parse_csv(data)
    if media_type in ("text/csv", "application/csv"):
        return bulk_rows.parse_csv(await _read_body(request, settings.max_upload_bytes), "body")
    body = await _read_body(request, settings.max_json_body_bytes)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed({"body": "The body is not valid JSON."}) from None
    return bulk_rows.parse_json(payload)


@router.post(
    "/enrollments/{enrollment_id}/complete",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def complete_enrollment(
    enrollment_id: str, body: CompleteRequest, session: SessionDep, actor: StaffActor
) -> EnrollmentRead:
    """Record a result: completed (with a certificate) or failed."""
    return await service.complete(session, actor, enrollment_id, body)


@router.post(
    "/cohorts/{cohort_id}/completions",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra=_BULK_BODY,
)
async def complete_cohort_rows(
    cohort_id: str, request: Request, session: SessionDep, actor: StaffActor
) -> CompletionResults:
    """Record many results at once (JSON or CSV); one result per row, in order."""
    rows = await _bulk_rows(request)
    results = await service.complete_many(session, actor, cohort_id, rows)
    return CompletionResults(results=results)


@router.get("/certificates/{code}", responses=problem_responses(401, 403, 404))
async def read_certificate(code: str, session: SessionDep, actor: StaffActor) -> CertificateRead:
    """The full certificate record, revocation included (staff, admin)."""
    return await service.get_certificate(session, actor, code)


@router.post("/certificates/{code}/revoke", responses=problem_responses(401, 403, 404, 409, 422))
async def revoke_certificate(
    code: str, body: RevokeRequest, session: SessionDep, actor: AdminActor
) -> CertificateRead:
    """Revoke a certificate (admin); verification then answers 410."""
    return await service.revoke(session, actor, code, body.reason)


# --- public verification ----------------------------------------------------


def wants_html(accept: str | None) -> bool:
    """True when the client prefers HTML to JSON (a browser); */* alone means JSON."""
    if not accept:
        return False
    html_q = json_q = 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, q)
        elif media in ("application/json", "application/problem+json"):
            json_q = max(json_q, q)
    return html_q > 0 and html_q >= json_q


def _html(template: str, status: int, **context: Any) -> HTMLResponse:
    body = _templates.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


async def _verify_html(session: SessionDep, code: str) -> HTMLResponse:
    try:
        record = await service.lookup(session, code)
    except service.CertificateNotFound:
        return _html("not_found.html", 404)
    cert = record.certificate
    if cert.revoked_at is not None:
        return _html(
            "revoked.html",
            410,
            code=cert.code,
            reason=cert.revoked_reason or "",
            revoked_on=cert.revoked_at.date().isoformat(),
        )
    facts = service.verification(record)
    return _html(
        "certificate.html",
        200,
        c=facts,
        completed_on=(facts.completed_at or facts.issued_at).strftime("%d %B %Y"),
    )


_VERIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/html": {}},
        "description": "The certificate (JSON, or an HTML page for Accept: text/html).",
    },
    **problem_responses(404, 410),
}


@public_router.get(
    "/certificates/{code}.html",
    response_class=HTMLResponse,
    responses=problem_responses(404, 410),
)
async def verify_certificate_page(code: str, session: SessionDep) -> Response:
    """Printable HTML certificate page (no token)."""
    return await _verify_html(session, code)


@public_router.get(
    "/certificates/{code}",
    response_model=CertificateVerification,
    responses=_VERIFY_RESPONSES,
)
async def verify_certificate(code: str, request: Request, session: SessionDep) -> Response:
    """Verify a certificate by its code (no token; any case, dashes optional)."""
    if wants_html(request.headers.get("accept")):
        response: Response = await _verify_html(session, code)
    else:
        try:
            facts = await service.verify(session, code)
        except ServiceError as exc:
            response = problem_response(
                exc.status,
                exc.title,
                exc.detail,
                slug=exc.slug,
                extra=exc.extra,
                headers=SECURITY_HEADERS,
            )
        else:
            response = JSONResponse(facts.model_dump(mode="json"), headers=SECURITY_HEADERS)
    response.headers["Vary"] = "Accept"
    return response
