"""Domain errors and the one place that renders every error as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
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

from service.core import i18n
from service.core.i18n import Language, Msg, msg
from service.core.validation_messages import FieldError as FieldError
from service.core.validation_messages import http_detail, http_title, validation_errors

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://enroll.example.pk/problems/"
# FastAPI's detail when a request body cannot be parsed before validation.
BODY_PARSE_ERROR = "There was an error parsing the body"


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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A title written as plain text gets its message id from the slug: ``title.<slug>``."""
        super().__init_subclass__(**kwargs)
        if "title" in cls.__dict__ and not isinstance(cls.title, Msg):
            cls.title = title_message(cls.slug, cls.title)

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


def title_message(slug: str, title: str) -> Msg:
    """A problem title's message: id ``title.<slug>``, the English title as its template."""
    return msg(f"title.{slug}", title.replace("{", "{{").replace("}", "}}"))


ServiceError.title = title_message(ServiceError.slug, ServiceError.title)


class NotFound(ServiceError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ServiceError):
    status, title, slug = 409, "Conflict", "conflict"


class Unauthorized(ServiceError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None) -> None:
        detail = detail or msg("auth.token_required", "A valid bearer token is required.")
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ServiceError):
    status, title, slug = 403, "Forbidden", "forbidden"


class PayloadTooLarge(ServiceError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class ValidationFailed(ServiceError):
    """A 422 naming the bad fields, for rules checked beyond the request schema."""

    status, title, slug = 422, "Validation failed", "validation"

    def __init__(self, errors: list[FieldError] | Mapping[str, str], detail: str | None = None):
        if not isinstance(errors, list):
            errors = [FieldError(field=f, message=m) for f, m in errors.items()]
        self.errors = errors
        super().__init__(detail or invalid_fields(e.field for e in errors))


class ServiceUnavailable(ServiceError):
    status, title, slug = 503, "Service unavailable", "unavailable"

    def __init__(self, detail: str | None = None) -> None:
        detail = detail or msg(
            "database.unavailable", "The database is unavailable; retry shortly."
        )
        super().__init__(detail, headers={"Retry-After": "2"})


# The code of an errors[] entry given as plain text, without a message id (noted as missing).
UNCODED = "value.invalid"


def invalid_fields(names: Iterable[str]) -> Msg:
    """The detail of a 422: the bad fields, named."""
    return msg("problem.invalid_fields", "Invalid value for: {fields}.", fields=", ".join(names))


def _localised(
    language: Language, title: str, detail: str, errors: list[FieldError] | None
) -> dict[str, Any] | None:
    """Title, detail and errors in ``language``; ``None`` when one of them has no translation."""
    texts = [i18n.render(title, language), i18n.render(detail, language)]
    messages = [i18n.render(e.text, language) for e in errors or []]
    if None in texts or None in messages:
        return None
    body: dict[str, Any] = {"title": texts[0], "detail": texts[1]}
    if errors is not None:
        body["errors"] = [
            {"field": e.field, "message": m, "code": e.code or UNCODED}
            for e, m in zip(errors, messages, strict=True)
        ]
    return body


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    language: Language = i18n.DEFAULT_LANGUAGE,
) -> JSONResponse:
    """The problem in ``language`` (with ``Content-Language``); in English when some text
    has no message id or no translation (noted, so tests name it: ``i18n.MISSING``)."""
    if not isinstance(title, Msg):
        title = title_message(slug or str(status), title)
    for text in (title, detail, *(e.text for e in errors or [])):
        if not _translatable(text):
            i18n.note_missing(text, status=status, slug=slug)
    localised = _localised(language, title, detail, errors)
    if localised is None:  # some text has no id or no translation: all of it in English
        language = "en"
        localised = _localised("en", title, detail, errors)
        assert localised is not None  # noqa: S101 (English always renders)
    body: dict[str, Any] = {"type": PROBLEM_BASE + (slug or str(status)), "status": status}
    body |= localised
    body = {k: body[k] for k in ("type", "title", "status", "detail", "errors") if k in body}
    if extra:
        body.update(extra)
    response = JSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )
    response.headers["Content-Language"] = language
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
    return response


def _translatable(text: str) -> bool:
    """Whether ``text`` has a message id and a translation in every language."""
    return all(i18n.render(text, lang) is not None for lang in i18n.LANGUAGES)


def problem_message(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    language: Language = i18n.DEFAULT_LANGUAGE,
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """A problem's raw ASGI headers and body, for middleware answering on its own."""
    response = problem_response(
        status, title, detail, slug=slug, errors=errors, extra=extra, language=language
    )
    return list(response.raw_headers), bytes(response.body)


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        errors = exc.errors if isinstance(exc, ValidationFailed) else None
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            errors=errors,
            extra=exc.extra,
            headers=exc.headers,
            language=request_language(request),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        return problem_response(
            422,
            ValidationFailed.title,
            invalid_fields(e.field for e in errors),
            slug="validation",
            errors=errors,
            language=request_language(request),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        language = request_language(request)
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
            # FastAPI's answer to a body it cannot decode at all (bytes that are not
            # UTF-8, a broken multipart stream): the same 422 as any other bad body.
            undecodable = msg("body.undecodable", "The body cannot be decoded.")
            return problem_response(
                422,
                ValidationFailed.title,
                invalid_fields(["body"]),
                slug="validation",
                errors=[FieldError(field="body", message=undecodable)],
                language=language,
            )
        detail = http_detail(exc.status_code, exc.detail)
        return problem_response(
            exc.status_code,
            http_title(exc.status_code),
            detail,
            headers=getattr(exc, "headers", None),
            language=language,
        )

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if is_database_unavailable(exc):
            logger.warning("database unavailable: %s", _describe(exc))
            return _unavailable(request_language(request))
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
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_database_unavailable(exc):
            logger.warning("database unavailable: %s", _describe(exc))
            return _unavailable(request_language(request))
        logger.error("unhandled error", exc_info=exc)
        return problem_response(
            500,
            http_title(500),
            msg("server.unexpected", "An unexpected error occurred; it has been logged."),
            language=request_language(request),
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


def _unavailable(language: Language) -> JSONResponse:
    err = ServiceUnavailable()
    return problem_response(
        err.status, err.title, err.detail, slug=err.slug, headers=err.headers, language=language
    )


def request_language(request: Request) -> Language:
    """The language negotiated from the request's ``Accept-Language``."""
    return i18n.negotiate(request.headers.get("accept-language"))
