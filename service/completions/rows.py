"""Parsing the rows of a bulk completion request (JSON array or CSV file).

Every row is checked on its own, so one bad row never sinks the request: a
row that cannot be used carries an ``error`` and the others go ahead. Only a
request that is not rows at all (not a JSON array, not a CSV with the right
header) is refused as a whole.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from service.applicants.normalise import normalise_cnic
from service.core.errors import PayloadTooLarge, ValidationFailed
from service.core.i18n import msg
from service.core.routing import unstorable

MAX_ROWS = 5000
MAX_COLUMNS = 1000  # as the applicant importer: a wider header is not a completion file
CSV_COLUMNS = ("enrollment_id", "cnic", "score", "attendance")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_MAX_ID_LENGTH = 64


@dataclass(slots=True)
class ParsedRow:
    row: int
    enrollment_id: str | None = None
    cnic: str | None = None
    score: float | None = None
    attendance: float | None = None
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


def _percent(value: Any, field: str, problems: list[str], *, from_text: bool) -> float | None:
    if from_text and isinstance(value, str):
        value = value.strip()
        if not value:
            value = None
        elif _NUMBER.fullmatch(value):
            value = float(value)
        else:
            problems.append(f"{field} must be a number")
            return None
    if value is None:
        problems.append(f"{field} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{field} must be a number")
        return None
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= 100:
        problems.append(f"{field} must be between 0 and 100")
        return None
    return number


def parse_row(row: int, item: Any, *, from_text: bool = False) -> ParsedRow:
    if not isinstance(item, dict):
        return ParsedRow(
            row, error="each row must be an object with enrollment_id or cnic, score and attendance"
        )
    problems: list[str] = []
    enrollment_id = _text(item.get("enrollment_id"), "enrollment_id", problems)
    raw_cnic = _text(item.get("cnic"), "cnic", problems)
    cnic = None
    if raw_cnic is not None:
        # The registration normaliser: any spelling that registers also matches here.
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
    score = _percent(item.get("score"), "score", problems, from_text=from_text)
    attendance = _percent(item.get("attendance"), "attendance", problems, from_text=from_text)
    if problems:
        return ParsedRow(row, enrollment_id=enrollment_id, error="; ".join(problems))
    return ParsedRow(row, enrollment_id, cnic, score, attendance)


def parse_json(payload: Any) -> list[ParsedRow]:
    """Rows of a JSON array; ``row`` is the 1-based index in the array."""
    if not isinstance(payload, list):
        raise ValidationFailed(
            {
                "body": msg(
                    "rows.not_array",
                    "Send a JSON array of {{enrollment_id | cnic, score, attendance}} rows.",
                )
            }
        )
    if len(payload) > MAX_ROWS:
        raise TooManyRows()
    return [parse_row(i, item) for i, item in enumerate(payload, start=1)]


def parse_csv(lines: Iterable[str], field: str = "file") -> list[ParsedRow]:
    """Rows of a CSV file read line by line; ``row`` is the line number (the header is line 1).

    ``lines`` is a text stream opened with ``newline=""``; a decoding error in it propagates.
    """
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
        missing = [c for c in ("score", "attendance") if c not in header]
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
        rows: list[ParsedRow] = []
        line = reader.line_num
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise TooManyRows()
            if len(record) > len(header):
                rows.append(ParsedRow(start, error="the line has more cells than the header"))
                continue
            item = {name: record[i] if i < len(record) else "" for i, name in enumerate(header)}
            rows.append(parse_row(start, item, from_text=True))
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
