"""The rows of a bulk completion request: ``{"enrollment_id" | "cnic", "score", "attendance"}``.

Read by ``service.core.bulk``: a JSON array, a multipart upload (field ``file``)
or a ``text/csv`` body of up to 1 MiB; the CSV twin operation takes the
multipart upload alone, for OpenAPI generators. Every row is checked on its
own, so one bad row never sinks the request.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, File, UploadFile

from service.applicants.normalise import normalise_cnic
from service.core import bulk
from service.core.i18n import msg

MAX_ROWS = 5000
MAX_COLUMNS = 1000  # as the applicant importer: a wider header is not a completion file
CSV_COLUMNS = ("enrollment_id", "cnic", "score", "attendance")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass(slots=True)
class ParsedRow:
    row: int
    enrollment_id: str | None = None
    cnic: str | None = None
    score: float | None = None
    attendance: float | None = None
    error: str | None = None


def _percent(
    value: Any, field: str, problems: list[str], *, from_text: bool, required: bool = True
) -> float | None:
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
        if required:
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
    enrollment_id, cnic = bulk.reference(item, problems, normalise_cnic=normalise_cnic)
    score = _percent(item.get("score"), "score", problems, from_text=from_text)
    # Optional here: left out, the cohort's computed attendance is used (service.attendance).
    attendance = _percent(
        item.get("attendance"), "attendance", problems, from_text=from_text, required=False
    )
    if problems:
        return ParsedRow(row, enrollment_id=enrollment_id, error="; ".join(problems))
    return ParsedRow(row, enrollment_id, cnic, score, attendance)


def _parse_cells(line: int, cells: dict[str, str]) -> ParsedRow:
    return parse_row(line, cells, from_text=True)


def _invalid(line: int, error: str) -> ParsedRow:
    return ParsedRow(line, error=error)


ROWS = bulk.BulkRows[ParsedRow](
    max_rows=MAX_ROWS,
    max_columns=MAX_COLUMNS,
    columns=CSV_COLUMNS,
    required=("score",),
    not_array=msg(
        "rows.not_array", "Send a JSON array of {{enrollment_id | cnic, score, attendance}} rows."
    ),
    parse_item=parse_row,
    parse_cells=_parse_cells,
    invalid=_invalid,
)


async def csv_upload_rows(
    file: Annotated[UploadFile, File(description="UTF-8 CSV: enrollment_id,cnic,score,attendance")],
) -> list[ParsedRow]:
    """The rows of the CSV twin operation's upload."""
    return await ROWS.csv_file_rows(file)


CompletionRowsDep = Annotated[list[ParsedRow], Depends(ROWS.rows_of)]
CompletionCsvRowsDep = Annotated[list[ParsedRow], Depends(csv_upload_rows)]

ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "enrollment_id": {"type": "string", "maxLength": 64},
        "cnic": {"type": "string", "example": "35202-1234567-1"},
        "score": {"type": "number", "minimum": 0, "maximum": 100},
        "attendance": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "Optional when the cohort has sessions: the computed percent is used.",
        },
    },
    "required": ["score"],
}
OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            f"Up to {MAX_ROWS} rows, each with enrollment_id or cnic. Each row is "
            "answered on its own: a bad row is an `error` result. The same rows as a CSV file: "
            "`complete_cohort_rows_csv` (this path also takes that multipart upload, and a "
            "`text/csv` body of up to 1 MiB, which OpenAPI generators cannot send)."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": ROW_SCHEMA,
                    "maxItems": MAX_ROWS,
                    "title": "CompletionRows",
                }
            },
        },
    }
}
