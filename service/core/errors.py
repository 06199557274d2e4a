"""Domain errors and the one place that renders every error as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from http import HTTPStatus
from typing import Any

import asyncpg.exceptions as pg_errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://enroll.example.pk/problems/"
# FastAPI's detail when a request body cannot be parsed before validation.
BODY_PARSE_ERROR = "There was an error parsing the body"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="422 only: every bad field, each named once."
    )
    # Extension members, present where the problem type has them.
    existing_id: str | None = Field(
        default=None, description="409 duplicate: the existing resource, when visible to you."
    )
    current_status: str | None = Field(
        default=None, description="409 invalid transition: the enrollment's status now."
    )
    cohort_status: str | None = Field(
        default=None, description="409 cohort not in progress: the cohort's status now."
    )
    code: str | None = Field(default=None, description="410 revoked: the certificate code.")
    reason: str | None = Field(default=None, description="410 revoked: why it was revoked.")
    revoked_at: datetime | None = Field(default=None, description="410 revoked: when.")
    limit: int | None = Field(default=None, description="413: the size limit in bytes.")
    limit_per_minute: int | None = Field(
        default=None, description="429: the rate limit that was reached."
    )


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


class NotFound(ServiceError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ServiceError):
    status, title, slug = 409, "Conflict", "conflict"


class Unauthorized(ServiceError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ServiceError):
    status, title, slug = 403, "Forbidden", "forbidden"


class PayloadTooLarge(ServiceError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class ValidationFailed(ServiceError):
    """A 422 naming the bad fields, for rules checked beyond the request schema."""

    status, title, slug = 422, "Validation failed", "validation"

    def __init__(self, errors: list[FieldError] | dict[str, str], detail: str | None = None):
        if isinstance(errors, dict):
            errors = [FieldError(field=f, message=m) for f, m in errors.items()]
        self.errors = errors
        names = ", ".join(e.field for e in errors)
        super().__init__(detail or f"Invalid value for: {names}.")


class ServiceUnavailable(ServiceError):
    status, title, slug = 503, "Service unavailable", "unavailable"

    def __init__(self, detail: str = "The database is unavailable; retry shortly.") -> None:
        super().__init__(detail, headers={"Retry-After": "2"})


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or str(status)),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [e.model_dump() for e in errors]
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring the problem+json errors a route may return."""
    return {
        s: {
            "model": Problem,
            "description": HTTPStatus(s).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


def _field_name(loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        source = parts.pop(0)
        if not parts:
            return str(source)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def _validation_message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "The body is not valid JSON."
    if error.get("type") == "missing":
        return "This field is required."
    message = str(error.get("msg", "Invalid value."))
    return message.removeprefix("Value error, ")


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    """One entry per bad field (a union reports once per branch; the first wins)."""
    by_field: dict[str, str] = {}
    for err in exc.errors():
        loc = ("body",) if err.get("type") == "json_invalid" else tuple(err.get("loc", ()))
        by_field.setdefault(_field_name(loc), _validation_message(err))
    return [FieldError(field=f, message=m) for f, m in by_field.items()]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        errors = exc.errors if isinstance(exc, ValidationFailed) else None
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            errors=errors,
            extra=exc.extra,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        names = ", ".join(e.field for e in errors)
        return problem_response(
            422,
            "Validation failed",
            f"Invalid value for: {names}.",
            slug="validation",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
            # FastAPI's answer to a body it cannot decode at all (bytes that are not
            # UTF-8, a broken multipart stream): the same 422 as any other bad body.
            return problem_response(
                422,
                "Validation failed",
                "Invalid value for: body.",
                slug="validation",
                errors=[FieldError(field="body", message="The body cannot be decoded.")],
            )
        title = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource."
        if exc.status_code == 405:
            detail = "This method is not allowed on this resource."
        return problem_response(
            exc.status_code, title, detail, headers=getattr(exc, "headers", None)
        )

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if is_database_unavailable(exc):
            logger.warning("database unavailable: %s", _describe(exc))
            return _unavailable()
        return await _unexpected(request, exc)

    # Registered by class so the inner exception middleware answers (with the
    # request id and security headers), not the outermost server-error one.
    for cls in (
        PoolTimeoutError,
        OSError,
        DBAPIError,
        pg_errors.PostgresError,
        pg_errors.InterfaceError,
        pg_errors.InternalClientError,
    ):
        app.add_exception_handler(cls, _database_error)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        if is_database_unavailable(exc):
            logger.warning("database unavailable: %s", _describe(exc))
            return _unavailable()
        logger.error("unhandled error", exc_info=exc)
        return problem_response(
            500, "Internal server error", "An unexpected error occurred; it has been logged."
        )


# Failures that mean "the database cannot be reached or did not answer in time",
# as opposed to a bug or a constraint: the request may be retried.
_UNAVAILABLE_TYPES: tuple[type[BaseException], ...] = (
    PoolTimeoutError,  # no pooled connection free within pool_timeout
    OSError,  # ConnectionRefusedError, ConnectionResetError, TimeoutError, ...
    OperationalError,  # the DBAPI's own "operational" class (e.g. SQLite: database is locked)
    SAInterfaceError,  # asyncpg's InterfaceError wrapped: connection closed mid-operation
    pg_errors.InterfaceError,  # "cannot perform operation: connection is closed"
    pg_errors.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError
    pg_errors.OperatorInterventionError,  # query cancelled (statement_timeout), admin shutdown
    pg_errors.InsufficientResourcesError,  # too many connections
)


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        stack.extend(
            [
                current.__cause__,
                current.__context__,
                orig if isinstance(orig, BaseException) else None,
            ]
        )


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database is unreachable or too slow."""
    for err in _exception_chain(exc):
        if isinstance(err, DBAPIError) and err.connection_invalidated:
            return True
        if isinstance(err, _UNAVAILABLE_TYPES):
            return True
    return False


def _describe(exc: BaseException) -> str:
    """Exception class names only: messages may carry bound parameters (personal data)."""
    return " <- ".join(type(e).__name__ for e in _exception_chain(exc))


def _unavailable() -> JSONResponse:
    err = ServiceUnavailable()
    return problem_response(err.status, err.title, err.detail, slug=err.slug, headers=err.headers)
