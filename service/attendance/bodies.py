"""The body of a marking request, read as a dependency: a JSON array or a CSV file.

The same shapes as bulk completions (``service.completions.bodies``): JSON, a
multipart upload (field ``file``) or a ``text/csv`` body; the CSV twin
operation takes the multipart upload alone, for OpenAPI generators.
"""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, BinaryIO

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.attendance import rows as mark_rows
from service.attendance.rows import MarkRow
from service.core.config import Settings
from service.core.errors import PayloadTooLarge, ValidationFailed
from service.core.i18n import msg

CSV_MEDIA_TYPES = ("text/csv", "application/csv")
FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            f"Up to {mark_rows.MAX_ROWS} rows, each with enrollment_id or cnic and a status. "
            "Each row is answered on its own: a bad row is an `error` result. The same rows as "
            "a CSV file: `mark_session_csv` (this path also takes that multipart upload, and a "
            "`text/csv` body, which OpenAPI generators cannot send)."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "maxItems": mark_rows.MAX_ROWS,
                    "title": "MarkRows",
                    "items": {
                        "type": "object",
                        "properties": {
                            "enrollment_id": {"type": "string", "maxLength": 64},
                            "cnic": {"type": "string", "example": "35202-1234567-1"},
                            "status": {"type": "string", "enum": list(mark_rows.STATUSES)},
                        },
                        "required": ["status"],
                    },
                }
            },
        },
    }
}


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        msg("body.too_large", "The request body is larger than {limit} bytes.", limit=limit)
    )


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


def _parse_file(file: BinaryIO, field: str) -> list[MarkRow]:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        return mark_rows.parse_csv(text, field)
    except UnicodeDecodeError:
        raise ValidationFailed(
            {field: msg("file.not_utf8", "The file is not UTF-8 text.")}
        ) from None
    finally:
        text.detach()


async def csv_file_rows(file: UploadFile) -> list[MarkRow]:
    """The rows of an uploaded CSV file, parsed on a worker thread."""
    await file.seek(0)
    return await run_in_threadpool(_parse_file, file.file, "file")


async def _upload_rows(request: Request, limit: int) -> list[MarkRow]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)
    try:
        async with request.form(max_files=1, max_fields=16) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationFailed(
                    {"file": msg("file.missing", "Upload the CSV file in multipart field 'file'.")}
                )
            if upload.size is not None and upload.size > limit:
                raise _too_large(limit)
            return await csv_file_rows(upload)
    except StarletteHTTPException as exc:
        if exc.status_code != 400:
            raise
        raise ValidationFailed(
            {"body": msg("body.undecodable", "The body cannot be decoded.")}
        ) from None


def _json_rows(body: bytes) -> list[MarkRow]:
    try:
        payload = json.loads(body)
    except RecursionError:
        raise ValidationFailed(
            {"body": msg("body.too_deep", "The body is nested too deeply.")}
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            {"body": msg("body.invalid_json", "The body is not valid JSON.")}
        ) from None
    return mark_rows.parse_json(payload)


async def mark_rows_of(request: Request) -> list[MarkRow]:
    """JSON array, multipart CSV (field ``file``) or a text/csv body, parsed row by row."""
    settings: Settings = request.app.state.settings
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in FORM_MEDIA_TYPES:
        return await _upload_rows(request, settings.max_upload_bytes)
    body = await _read_body(request, settings.max_json_body_bytes)
    if media_type in CSV_MEDIA_TYPES:
        return await run_in_threadpool(_parse_file, io.BytesIO(body), "body")
    return await run_in_threadpool(_json_rows, body)


MarkRowsDep = Annotated[list[MarkRow], Depends(mark_rows_of)]
