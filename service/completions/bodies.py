"""The body of a bulk completion request, read as a dependency: a JSON array or a CSV file.

A CSV upload (multipart field ``file``) is parsed from the file Starlette
spooled to disk, line by line, on a worker thread: a 45 MB upload is never
held in memory at once and never blocks the event loop. A ``text/csv`` body
is accepted too (undocumented in OpenAPI, which generators cannot send); like
any non-multipart body it is capped at the JSON body limit.
"""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, BinaryIO

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.completions import rows as bulk_rows
from service.completions.rows import ParsedRow
from service.core.config import Settings
from service.core.errors import PayloadTooLarge, ValidationFailed
from service.core.i18n import msg

CSV_MEDIA_TYPES = ("text/csv", "application/csv")
FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "enrollment_id": {"type": "string", "maxLength": 64},
        "cnic": {"type": "string", "example": "35202-1234567-1"},
        "score": {"type": "number", "minimum": 0, "maximum": 100},
        "attendance": {"type": "number", "minimum": 0, "maximum": 100},
    },
    "required": ["score", "attendance"],
}
OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            f"Up to {bulk_rows.MAX_ROWS} rows, each with enrollment_id or cnic. Each row is "
            "answered on its own: a bad row is an `error` result. The same rows as a CSV file: "
            "`complete_cohort_rows_csv` (this path also takes that multipart upload, and a "
            "`text/csv` body of up to 1 MiB, which OpenAPI generators cannot send)."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": ROW_SCHEMA,
                    "maxItems": bulk_rows.MAX_ROWS,
                    "title": "CompletionRows",
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


def _parse_file(file: BinaryIO, field: str) -> list[ParsedRow]:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        return bulk_rows.parse_csv(text, field)
    except UnicodeDecodeError:
        raise ValidationFailed(
            {field: msg("file.not_utf8", "The file is not UTF-8 text.")}
        ) from None
    finally:
        text.detach()  # the upload closes its own file


async def _upload_rows(request: Request, limit: int) -> list[ParsedRow]:
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
        # Starlette's answer to a broken multipart stream (a bad part header,
        # no boundary): the same 422 on `body` as any body that cannot be decoded.
        if exc.status_code != 400:
            raise
        raise ValidationFailed(
            {"body": msg("body.undecodable", "The body cannot be decoded.")}
        ) from None


async def csv_file_rows(file: UploadFile) -> list[ParsedRow]:
    """The rows of an uploaded CSV file, parsed from its spooled copy on a worker thread."""
    await file.seek(0)
    return await run_in_threadpool(_parse_file, file.file, "file")


def _json_rows(body: bytes) -> list[ParsedRow]:
    try:
        payload = json.loads(body)
    except RecursionError:
        # json.loads recurses once per nesting level: "[[[[...]]]]" exhausts the stack.
        raise ValidationFailed(
            {"body": msg("body.too_deep", "The body is nested too deeply.")}
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            {"body": msg("body.invalid_json", "The body is not valid JSON.")}
        ) from None
    return bulk_rows.parse_json(payload)


async def completion_rows(request: Request) -> list[ParsedRow]:
    """JSON array, multipart CSV (field ``file``) or a text/csv body, parsed row by row."""
    settings: Settings = request.app.state.settings
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in FORM_MEDIA_TYPES:
        return await _upload_rows(request, settings.max_upload_bytes)
    body = await _read_body(request, settings.max_json_body_bytes)
    if media_type in CSV_MEDIA_TYPES:
        return await run_in_threadpool(_parse_file, io.BytesIO(body), "body")
    return await run_in_threadpool(_json_rows, body)


CompletionRowsDep = Annotated[list[ParsedRow], Depends(completion_rows)]
