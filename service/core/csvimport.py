"""Reading a CSV import file: the header row, the records, and what makes a file unreadable.

Shared by the applicant and the outcome importers, which answer alike
(``created``, ``updated``, ``unchanged``, ``errors[{row, field, message}]`` with
file line numbers). The file is a text stream decoded from the upload line by
line; a file that is not UTF-8 text or not CSV is a 400 ``unreadable-file``,
a header that cannot be imported a 422 naming ``file``.
"""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import File, Query, UploadFile
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.errors import ServiceError, ValidationFailed
from service.core.i18n import msg

# An import endpoint's parameters: the upload, and whether to validate and count only.
CsvUpload = Annotated[UploadFile, File(description="UTF-8 CSV with a header row.")]
DryRun = Annotated[bool, Query(description="Validate and count only.")]
# How often a batch is written again when a concurrent writer inserted one of its rows.
RETRIES = 3


class UnreadableFile(ServiceError):
    status, title, slug = 400, "Unreadable file", "unreadable-file"


def unreadable(exc: Exception) -> UnreadableFile:
    if isinstance(exc, UnicodeDecodeError):
        return UnreadableFile(
            msg("file.not_utf8_save", "The file is not UTF-8 text; save the CSV as UTF-8.")
        )
    return UnreadableFile(msg("file.unreadable", "The file is not a readable CSV text file."))


def binary(record: list[str]) -> bool:
    """NUL never occurs in a text file (and Python's csv module accepts it)."""
    return any("\x00" in value for value in record)


def header_row(reader: Any, *, max_columns: int, refuse_nul: bool = False) -> list[str]:
    """The header row as written: not empty, at most ``max_columns`` wide.

    ``refuse_nul``: a NUL in the header makes the file unreadable (checked first).
    """
    try:
        header: list[str] | None = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise unreadable(exc) from None
    if refuse_nul and header and binary(header):
        raise unreadable(csv.Error("NUL"))
    if not header or not any(h.strip() for h in header):
        raise ValidationFailed(
            {"file": msg("file.empty", "The file is empty; the first line must be the header row.")}
        )
    if len(header) > max_columns:
        raise ValidationFailed(
            {
                "file": msg(
                    "file.too_many_columns",
                    "The header row has {count} columns; at most {max} are allowed.",
                    count=len(header),
                    max=max_columns,
                )
            }
        )
    return header


def duplicate_columns(names: str) -> ValidationFailed:
    return ValidationFailed(
        {
            "file": msg(
                "file.duplicate_columns", "Columns named more than once: {names}.", names=names
            )
        }
    )


def require_columns(
    positions: Mapping[str, int], required: tuple[str, ...], *, detail: str | None = None
) -> None:
    """A 422 naming every required column the header lacks."""
    missing = [c for c in required if c not in positions]
    if missing:
        raise ValidationFailed(
            {
                "file": msg(
                    "file.missing_columns",
                    "The header row lacks the columns: {names}.",
                    names=", ".join(missing),
                )
            },
            detail=detail,
        )


def records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """``(line, record)`` for each record after the header, blank lines skipped.

    ``line`` is the record's first line in the file (a quoted cell may span lines).
    A decoding or CSV error, or a NUL, makes the whole file unreadable.
    """
    return _records(reader, reader.line_num)


def _records(reader: Any, last_line: int) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            record: list[str] | None = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise unreadable(exc) from None
        if record is None:
            return
        line, last_line = last_line + 1, reader.line_num
        if not any(v.strip() for v in record):
            continue  # blank line
        if binary(record):
            raise unreadable(csv.Error("NUL"))
        yield line, record


def field_message(error: Mapping[str, Any]) -> str:
    """The message of one pydantic error, as an import's row error gives it."""
    if error.get("type") == "missing":
        return "This field is required."
    return str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")


# --- writing a batch ----------------------------------------------------------------


class Report(Protocol):
    """What an import answers (``applicants.schemas.ImportReport``)."""

    created: int
    updated: int
    unchanged: int

    def add_error(self, row: int, field: str, message: str) -> None: ...


@dataclass
class BatchResult:
    """What one batch did; errors as ``(line, field, message)``."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)


async def apply_batch(
    session: AsyncSession, write: Callable[[], Awaitable[BatchResult]], report: Report
) -> None:
    """Run ``write`` in a savepoint and add what it did to ``report``.

    ``write`` reads what exists, then inserts and updates. When a concurrent
    transaction inserted one of the batch's rows after that read (an
    ``IntegrityError``; it has committed now, our insert waited for it), the
    savepoint is rolled back and the batch written again, reading afresh.
    """
    for attempt in range(RETRIES):
        try:
            async with session.begin_nested():
                result = await write()
        except IntegrityError:
            if attempt == RETRIES - 1:
                raise
            continue
        report.created += result.created
        report.updated += result.updated
        report.unchanged += result.unchanged
        for line, name, message in result.errors:
            report.add_error(line, name, message)
        return
