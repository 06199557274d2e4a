"""Parsing the rows of a marking request: ``{"enrollment_id" | "cnic", "status"}``.

Every row is checked on its own (a bad row is that row's error); only a body
that is not rows at all (not a JSON array, a CSV without the right header) is
refused as a whole, as for bulk completions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from service.applicants.normalise import normalise_cnic
from service.core.errors import PayloadTooLarge, ValidationFailed
from service.core.i18n import msg
from service.core.routing import unstorable
from service.models.enums import AttendanceStatus, values

MAX_ROWS = 2000
MAX_COLUMNS = 100
CSV_COLUMNS = ("enrollment_id", "cnic", "status")
STATUSES = values(AttendanceStatus)
_MAX_ID_LENGTH = 64


@dataclass(slots=True)
class MarkRow:
    row: int
    enrollment_id: str | None = None
    cnic: str | None = None
    status: str | None = None
    error: str | None = None


class TooManyRows(PayloadTooLarge):
    title, slug = "Too many rows", "too-many-rows"

    def __init__(self) -> None:
        super().__init__(
            msg(
                "rows.too_many",
                "Send at most {max} rows per request; split the file.",
                max=MAX_ROWS,
            )
        )


def _text(value: Any, field: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{field} must be a string")
        return None
    if unstorable(value):
        problems.append(f"{field} must not contain NUL or an unpaired surrogate")
        return None
    return value.strip() or None


def parse_row(row: int, item: Any) -> MarkRow:
    if not isinstance(item, dict):
        return MarkRow(
            row, error="each row must be an object with enrollment_id or cnic and status"
        )
    problems: list[str] = []
    enrollment_id = _text(item.get("enrollment_id"), "enrollment_id", problems)
    raw_cnic = _text(item.get("cnic"), "cnic", problems)
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
    status = _text(item.get("status"), "status", problems)
    if status is None:
        if "status must be a string" not in problems:
            problems.append("status is required")
    else:
        status = status.lower()
        if status not in STATUSES:
            problems.append(f"status must be one of {', '.join(STATUSES)}")
    if problems:
        return MarkRow(row, enrollment_id=enrollment_id, error="; ".join(problems))
    return MarkRow(row, enrollment_id, cnic, status)


def parse_json(payload: Any) -> list[MarkRow]:
    """Rows of a JSON array; ``row`` is the 1-based index in the array."""
    if not isinstance(payload, list):
        raise ValidationFailed(
            {
                "body": msg(
                    "rows.not_array",
                    "Send a JSON array of {{enrollment_id | cnic, status}} rows.",
                )
            }
        )
    if len(payload) > MAX_ROWS:
        raise TooManyRows()
    return [parse_row(i, item) for i, item in enumerate(payload, start=1)]


def parse_csv(lines: Iterable[str], field: str = "file") -> list[MarkRow]:
    """Rows of a CSV file; ``row`` is the line number (the header is line 1)."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if not any(header):
            raise ValidationFailed(
                {field: msg("csv.empty", "The file is empty; line 1 must be the header row.")}
            )
        if len(header) > MAX_COLUMNS:
            raise ValidationFailed(
                {
                    field: msg(
                        "csv.too_many_columns",
                        "The header row has {count} columns; at most {max}.",
                        count=len(header),
                        max=MAX_COLUMNS,
                    )
                }
            )
        if len(set(header)) != len(header):
            raise ValidationFailed(
                {field: msg("csv.duplicate_columns", "The header row names a column twice.")}
            )
        missing = [] if "status" in header else ["status"]
        if "enrollment_id" not in header and "cnic" not in header:
            missing.insert(0, "enrollment_id or cnic")
        if missing:
            raise ValidationFailed(
                {
                    field: msg(
                        "csv.missing_columns",
                        "The header row lacks: {names} (expected {expected}).",
                        names=", ".join(missing),
                        expected=",".join(CSV_COLUMNS),
                    )
                }
            )
        rows: list[MarkRow] = []
        line = reader.line_num
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise TooManyRows()
            if len(record) > len(header):
                rows.append(MarkRow(start, error="the line has more cells than the header"))
                continue
            item = {name: record[i] if i < len(record) else "" for i, name in enumerate(header)}
            rows.append(parse_row(start, item))
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
