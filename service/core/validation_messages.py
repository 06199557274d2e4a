"""422 field errors: ``FieldError`` (one ``errors[]`` entry, with its ``code``), and request
validation errors as messages: pydantic's error ``type`` and ``ctx`` mapped to ids.

Pydantic's English text is never matched: each built-in error type has a message here
(English wording as pydantic's own), its ``ctx`` the parameters. A validator of this
service raises :class:`MessageError` (a ``ValueError``) carrying its :class:`Msg`, which
pydantic keeps in ``ctx["error"]``. Any other type gets ``value.invalid``.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, PrivateAttr

from service.core.i18n import Msg, msg

# FastAPI's detail when a request body cannot be parsed before validation.
BODY_PARSE_ERROR = "There was an error parsing the body"


def _required_in_answers(schema: dict[str, Any]) -> None:
    """Every answered entry has a code: the document shows no default."""
    schema.pop("default", None)


class FieldError(BaseModel):
    field: str
    message: str
    code: str = Field(
        default="",
        description=(
            "Stable, machine-readable reason (`cnic.invalid`, `phone.not_mobile`, ...), the same "
            "in every language; the message is in the negotiated language (docs/api.md)."
        ),
        json_schema_extra=_required_in_answers,
    )
    _message: Msg | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        message = data.get("message")
        if isinstance(message, Msg) and not data.get("code"):
            data["code"] = message.code
        super().__init__(**data)
        if isinstance(message, Msg):
            self._message = message

    @property
    def text(self) -> str:
        """The message with its id (a :class:`Msg`) when it was given one."""
        return self._message if self._message is not None else self.message


class MessageError(ValueError):
    """Raised by a pydantic validator: the field's error, with its message id."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message)
        self.message = message


def _char_limit(ctx: dict[str, Any], name: str) -> Msg:
    count = ctx.get(name)
    if name == "min_length":
        if count == 1:
            return msg("text.empty", "String should have at least 1 character")
        return msg("text.too_short", "String should have at least {n} characters", n=count)
    if count == 1:
        return msg("text.too_long_one", "String should have at most 1 character")
    return msg("text.too_long", "String should have at most {n} characters", n=count)


def _items_limit(ctx: dict[str, Any], name: str) -> Msg:
    count = ctx.get(name)
    if name == "min_length":
        return msg("list.too_short", "List should have at least {n} item(s)", n=count)
    return msg("list.too_long", "List should have at most {n} item(s)", n=count)


# pydantic error type -> its message, parameters from ctx
_BY_TYPE: dict[str, Callable[[dict[str, Any]], Msg]] = {
    "missing": lambda c: msg("field.required", "This field is required."),
    "json_invalid": lambda c: msg("body.invalid_json", "The body is not valid JSON."),
    "json_type": lambda c: msg("body.invalid_json", "The body is not valid JSON."),
    "extra_forbidden": lambda c: msg("field.not_allowed", "Extra inputs are not permitted"),
    "string_type": lambda c: msg("text.type", "Input should be a valid string"),
    "string_unicode": lambda c: msg("text.type", "Input should be a valid string"),
    "string_unstorable": lambda c: msg(
        "text.unstorable", "Must not contain NUL (U+0000) or an unpaired surrogate (U+D800–U+DFFF)."
    ),
    "string_pattern_mismatch": lambda c: msg(
        "text.pattern", "String should match pattern '{pattern}'", pattern=str(c.get("pattern", ""))
    ),
    "int_type": lambda c: msg("integer.type", "Input should be a valid integer"),
    "int_parsing": lambda c: msg(
        "integer.type", "Input should be a valid integer, unable to parse string as an integer"
    ),
    "int_from_float": lambda c: msg(
        "integer.fraction", "Input should be a valid integer, got a number with a fractional part"
    ),
    "float_type": lambda c: msg("number.type", "Input should be a valid number"),
    "float_parsing": lambda c: msg(
        "number.type", "Input should be a valid number, unable to parse string as a number"
    ),
    "finite_number": lambda c: msg("number.not_finite", "Input should be a finite number"),
    "bool_type": lambda c: msg("boolean.type", "Input should be a valid boolean"),
    "bool_parsing": lambda c: msg(
        "boolean.type", "Input should be a valid boolean, unable to interpret input"
    ),
    "greater_than": lambda c: msg(
        "number.too_small", "Input should be greater than {gt}", gt=c.get("gt")
    ),
    "greater_than_equal": lambda c: msg(
        "number.too_small_or_equal", "Input should be greater than or equal to {ge}", ge=c.get("ge")
    ),
    "less_than": lambda c: msg(
        "number.too_large", "Input should be less than {lt}", lt=c.get("lt")
    ),
    "less_than_equal": lambda c: msg(
        "number.too_large_or_equal", "Input should be less than or equal to {le}", le=c.get("le")
    ),
    "multiple_of": lambda c: msg(
        "number.multiple_of",
        "Input should be a multiple of {multiple_of}",
        multiple_of=c.get("multiple_of"),
    ),
    "enum": lambda c: msg(
        "choice.invalid", "Input should be {expected}", expected=str(c.get("expected", ""))
    ),
    "literal_error": lambda c: msg(
        "choice.invalid", "Input should be {expected}", expected=str(c.get("expected", ""))
    ),
    "date_type": lambda c: msg("date.invalid", "Input should be a valid date"),
    "date_parsing": lambda c: msg(
        "date.invalid", "Input should be a valid date in the format YYYY-MM-DD"
    ),
    "date_from_datetime_parsing": lambda c: msg(
        "date.invalid", "Input should be a valid date in the format YYYY-MM-DD"
    ),
    "date_from_datetime_inexact": lambda c: msg(
        "date.invalid", "Input should be a valid date in the format YYYY-MM-DD"
    ),
    "datetime_type": lambda c: msg("datetime.invalid", "Input should be a valid datetime"),
    "datetime_parsing": lambda c: msg(
        "datetime.invalid", "Input should be a valid datetime (RFC 3339)"
    ),
    "datetime_from_date_parsing": lambda c: msg(
        "datetime.invalid", "Input should be a valid datetime (RFC 3339)"
    ),
    "timezone_aware": lambda c: msg("datetime.timezone", "Input should have timezone info"),
    "uuid_type": lambda c: msg("uuid.invalid", "Input should be a valid UUID"),
    "uuid_parsing": lambda c: msg("uuid.invalid", "Input should be a valid UUID"),
    "list_type": lambda c: msg("list.type", "Input should be a valid list"),
    "dict_type": lambda c: msg("object.type", "Input should be a valid dictionary"),
    "model_type": lambda c: msg("object.type", "Input should be a valid dictionary"),
    "model_attributes_type": lambda c: msg("object.type", "Input should be a valid dictionary"),
    "url_type": lambda c: msg("url.invalid", "Input should be a valid URL"),
    "url_parsing": lambda c: msg("url.invalid", "Input should be a valid URL"),
    "url_scheme": lambda c: msg(
        "url.scheme",
        "URL scheme should be {expected_schemes}",
        expected_schemes=str(c.get("expected_schemes", "")),
    ),
    "bytes_type": lambda c: msg("file.type", "Input should be a valid file"),
}


def pydantic_message(error: dict[str, Any]) -> Msg:
    """The message of one pydantic error, by its ``type`` and ``ctx`` (never its English)."""
    kind = str(error.get("type", ""))
    ctx: dict[str, Any] = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, MessageError):
        return cause.message
    if isinstance(cause, Msg):
        return cause
    if kind in ("string_too_short", "string_too_long"):
        return _char_limit(ctx, "min_length" if kind == "string_too_short" else "max_length")
    if kind in ("too_short", "too_long"):
        return _items_limit(ctx, "min_length" if kind == "too_short" else "max_length")
    if kind in _BY_TYPE:
        return _BY_TYPE[kind](ctx)
    # Any other type: pydantic's English, and the generic message in other languages.
    return msg("value.invalid", "{message}", message=_english(error))


def _english(error: dict[str, Any]) -> str:
    return str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")


def field_name(loc: tuple[int | str, ...]) -> str:
    """``body.items[2].cnic`` → ``items[2].cnic``: the field as a client names it."""
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


# --- HTTPException (routing: unknown path, method not allowed, ...) ---------------

_HTTP_DETAILS = {
    404: msg("route.not_found", "No such resource."),
    405: msg("route.method_not_allowed", "This method is not allowed on this resource."),
}


_HTTP_TITLES = {
    400: msg("title.400", "Bad Request"),
    401: msg("title.401", "Unauthorized"),
    403: msg("title.403", "Forbidden"),
    404: msg("title.404", "Not Found"),
    405: msg("title.405", "Method Not Allowed"),
    406: msg("title.406", "Not Acceptable"),
    408: msg("title.408", "Request Timeout"),
    409: msg("title.409", "Conflict"),
    410: msg("title.410", "Gone"),
    413: msg("title.413", "Request Entity Too Large"),
    415: msg("title.415", "Unsupported Media Type"),
    422: msg("title.422", "Unprocessable Entity"),
    429: msg("title.429", "Too Many Requests"),
    431: msg("title.431", "Request Header Fields Too Large"),
    500: msg("title.500", "Internal Server Error"),
    503: msg("title.503", "Service Unavailable"),
}


def http_title(status: int) -> Msg:
    """``title.<status>``: the HTTP reason phrase (``Not Found``)."""
    return _HTTP_TITLES.get(status) or msg(f"title.{status}", HTTPStatus(status).phrase)


def http_detail(status: int, detail: object) -> str:
    """The detail of an ``HTTPException``: routing's own have ids; another text is kept."""
    if status in _HTTP_DETAILS and (detail == HTTPStatus(status).phrase or status == 405):
        return _HTTP_DETAILS[status]
    if isinstance(detail, Msg):
        return detail
    if isinstance(detail, str) and detail != HTTPStatus(status).phrase:
        return detail
    return http_title(status)


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    """One entry per bad field (a union reports once per branch; the first wins)."""
    by_field: dict[str, Msg] = {}
    for err in exc.errors():
        loc = ("body",) if err.get("type") == "json_invalid" else tuple(err.get("loc", ()))
        by_field.setdefault(field_name(loc), pydantic_message(err))
    return [FieldError(field=f, message=m) for f, m in by_field.items()]
