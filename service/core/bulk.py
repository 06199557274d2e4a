"""Rows sent in bulk: a JSON array, a multipart CSV upload or a ``text/csv`` body.

One reader for every endpoint that takes many rows naming enrollments at once
(attendance marks, bulk completions). A domain describes its rows with a
:class:`BulkRows` (limits, CSV columns, how one row is parsed) and gets the
body dependency (``rows_of``) and the CSV twin's parser (``csv_file_rows``).

Every row is checked on its own, so one bad row never sinks the request: a row
that cannot be used carries an ``error`` and the others go ahead. Only a request
that is not rows at all (not a JSON array, not a CSV with the right header) is
refused as a whole.

A CSV upload (multipart field ``file``) is parsed from the file Starlette
spooled to disk, line by line, on a worker thread: a 45 MB upload is never
held in memory at once and never blocks the event loop. A ``text/csv`` body
is accepted too (undocumented in OpenAPI, which generators cannot send); like
any non-multipart body it is capped at the JSON body limit.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO, Generic, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.config import Settings
from service.core.errors import PayloadTooLarge, ValidationFailed
from service.core.i18n import Msg, msg
from service.core.routing import unstorable

CSV_MEDIA_TYPES = ("text/csv", "application/csv")
FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# A row names its enrollment by one of these columns.
REFERENCE_COLUMNS = ("enrollment_id", "cnic")
_MAX_ID_LENGTH = 64

R = TypeVar("R")


class TooManyRows(PayloadTooLarge):
    title, slug = "Too many rows", "too-many-rows"

    def __init__(self, max_rows: int) -> None:
        super().__init__(
            msg(
                "rows.too_many",
                "Send at most {max} rows per request; split the file.",
                max=max_rows,
            )
        )


# --- one row ------------------------------------------------------------------------


def text(value: Any, field: str, problems: list[str]) -> str | None:
    """A text cell, stripped (blank is ``None``); what is wrong with it goes to ``problems``."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{field} must be a string")
        return None
    if unstorable(value):
        problems.append(f"{field} must not contain NUL or an unpaired surrogate")
        return None
    return value.strip() or None


def reference(
    item: dict[Any, Any], problems: list[str], *, normalise_cnic: Callable[[str], str]
) -> tuple[str | None, str | None]:
    """The row's ``(enrollment_id, cnic)``: exactly one of the two, the CNIC normalised.

    ``normalise_cnic`` is the registration normaliser (any spelling that registers
    also matches here); it raises ``ValueError`` on a bad CNIC.
    """
    enrollment_id = text(item.get("enrollment_id"), "enrollment_id", problems)
    raw_cnic = text(item.get("cnic"), "cnic", problems)
    cnic = None
    if raw_cnic is not None:
        try:
            cnic = normalise_cnic(raw_cnic)
        except ValueError:
            problems.append("cnic must be 13 digits, with or without dashes")
    if enrollment_id is not None and raw_cnic is not None:
        problems.append("give either enrollment_id or cnic, not both")
    elif enrollment_id is None and raw_cnic is None and not problems:
        problems.append("enrollment_id or cnic is required")
    if enrollment_id is not None and len(enrollment_id) > _MAX_ID_LENGTH:
        problems.append("enrollment_id is not an enrollment id")
    return enrollment_id, cnic


# --- many rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class BulkRows(Generic[R]):
    """One bulk endpoint's rows: its limits, its CSV columns and how one row is parsed."""

    max_rows: int
    max_columns: int
    columns: tuple[str, ...]  # the CSV columns, as the missing-columns message names them
    required: tuple[str, ...]  # the columns a CSV header must name besides a reference
    not_array: Msg  # the answer to a JSON body that is not an array
    parse_item: Callable[[int, Any], R]  # (row, an item of the JSON array)
    parse_cells: Callable[[int, dict[str, str]], R]  # (line, a CSV line's cells by column)
    invalid: Callable[[int, str], R]  # (line, error): a line that is only an error

    def parse_json(self, payload: Any) -> list[R]:
        """Rows of a JSON array; ``row`` is the 1-based index in the array."""
        if not isinstance(payload, list):
            raise ValidationFailed({"body": self.not_array})
        if len(payload) > self.max_rows:
            raise TooManyRows(self.max_rows)
        return [self.parse_item(i, item) for i, item in enumerate(payload, start=1)]

    def parse_csv(self, lines: Iterable[str], field: str = "file") -> list[R]:
        """Rows of a CSV file read line by line; ``row`` is the line number (the header is 1).

        ``lines`` is a text stream opened with ``newline=""``; a decoding error in it propagates.
        """
        reader = csv.reader(lines)
        try:
            header = [h.strip().lower() for h in next(reader, [])]
            self._check_header(header, field)
            rows: list[R] = []
            line = reader.line_num
            for record in reader:
                start, line = line + 1, reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                if len(rows) >= self.max_rows:
                    raise TooManyRows(self.max_rows)
                if len(record) > len(header):
                    rows.append(self.invalid(start, "the line has more cells than the header"))
                    continue
                item = {name: record[i] if i < len(record) else "" for i, name in enumerate(header)}
                rows.append(self.parse_cells(start, item))
        except csv.Error as exc:
            raise ValidationFailed(
                {
                    field: msg(
                        "csv.invalid",
                        "Line {line} is not valid CSV: {error}.",
                        line=reader.line_num,
                        error=str(exc),
                    )
                }
            ) from None
        return rows

    def _check_header(self, header: list[str], field: str) -> None:
        if not any(header):
            raise ValidationFailed(
                {field: msg("csv.empty", "The file is empty; line 1 must be the header row.")}
            )
        if len(header) > self.max_columns:
            raise ValidationFailed(
                {
                    field: msg(
                        "csv.too_many_columns",
                        "The header row has {count} columns; at most {max}.",
                        count=len(header),
                        max=self.max_columns,
                    )
                }
            )
        if len(set(header)) != len(header):
            raise ValidationFailed(
                {field: msg("csv.duplicate_columns", "The header row names a column twice.")}
            )
        missing = [c for c in self.required if c not in header]
        if not any(c in header for c in REFERENCE_COLUMNS):
            missing.insert(0, " or ".join(REFERENCE_COLUMNS))
        if missing:
            raise ValidationFailed(
                {
                    field: msg(
                        "csv.missing_columns",
                        "The header row lacks: {names} (expected {expected}).",
                        names=", ".join(missing),
                        expected=",".join(self.columns),
                    )
                }
            )

    # --- the request body -------------------------------------------------------------

    async def rows_of(self, request: Request) -> list[R]:
        """JSON array, multipart CSV (field ``file``) or a text/csv body, parsed row by row."""
        settings: Settings = request.app.state.settings
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type in FORM_MEDIA_TYPES:
            return await self._upload_rows(request, settings.max_upload_bytes)
        body = await _read_body(request, settings.max_json_body_bytes)
        if media_type in CSV_MEDIA_TYPES:
            return await run_in_threadpool(self._parse_file, io.BytesIO(body), "body")
        return await run_in_threadpool(self._json_rows, body)

    async def csv_file_rows(self, file: UploadFile) -> list[R]:
        """The rows of an uploaded CSV file, parsed from its spooled copy on a worker thread."""
        await file.seek(0)
        return await run_in_threadpool(self._parse_file, file.file, "file")

    def _parse_file(self, file: BinaryIO, field: str) -> list[R]:
        text_file = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
        try:
            return self.parse_csv(text_file, field)
        except UnicodeDecodeError:
            raise ValidationFailed(
                {field: msg("file.not_utf8", "The file is not UTF-8 text.")}
            ) from None
        finally:
            text_file.detach()  # the upload closes its own file

    async def _upload_rows(self, request: Request, limit: int) -> list[R]:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + 64 * 1024:
            raise _too_large(limit)
        try:
            async with request.form(max_files=1, max_fields=16) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise ValidationFailed(
                        {
                            "file": msg(
                                "file.missing", "Upload the CSV file in multipart field 'file'."
                            )
                        }
                    )
                if upload.size is not None and upload.size > limit:
                    raise _too_large(limit)
                return await self.csv_file_rows(upload)
        except StarletteHTTPException as exc:
            # Starlette's answer to a broken multipart stream (a bad part header,
            # no boundary): the same 422 on `body` as any body that cannot be decoded.
            if exc.status_code != 400:
                raise
            raise ValidationFailed(
                {"body": msg("body.undecodable", "The body cannot be decoded.")}
            ) from None

    def _json_rows(self, body: bytes) -> list[R]:
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
        return self.parse_json(payload)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        msg("body.too_large", "The request body is larger than {limit} bytes.", limit=limit)
    )


async def _read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused (413) as soon as it is known to exceed ``limit`` bytes."""
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
