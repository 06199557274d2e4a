"""The rows of a marking request: ``{"enrollment_id" | "cnic", "status"}``.

Read like bulk completions (``service.core.bulk``): a JSON array, a multipart
upload (field ``file``) or a ``text/csv`` body; the CSV twin operation takes the
multipart upload alone, for OpenAPI generators. Every row is checked on its own
(a bad row is that row's error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, File, UploadFile

from service.applicants.normalise import normalise_cnic
from service.core import bulk
from service.core.i18n import msg
from service.models.enums import AttendanceStatus, values

MAX_ROWS = 2000
MAX_COLUMNS = 100
CSV_COLUMNS = ("enrollment_id", "cnic", "status")
STATUSES = values(AttendanceStatus)


@dataclass(slots=True)
class MarkRow:
    row: int
    enrollment_id: str | None = None
    cnic: str | None = None
    status: str | None = None
    error: str | None = None


def parse_row(row: int, item: Any) -> MarkRow:
    if not isinstance(item, dict):
        return MarkRow(
            row, error="each row must be an object with enrollment_id or cnic and status"
        )
    problems: list[str] = []
    enrollment_id, cnic = bulk.reference(item, problems, normalise_cnic=normalise_cnic)
    status = bulk.text(item.get("status"), "status", problems)
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


def _invalid(row: int, error: str) -> MarkRow:
    return MarkRow(row, error=error)


ROWS = bulk.BulkRows[MarkRow](
    max_rows=MAX_ROWS,
    max_columns=MAX_COLUMNS,
    columns=CSV_COLUMNS,
    required=("status",),
    not_array=msg("rows.not_array", "Send a JSON array of {{enrollment_id | cnic, status}} rows."),
    parse_item=parse_row,
    parse_cells=parse_row,
    invalid=_invalid,
)


async def csv_upload_rows(
    file: Annotated[UploadFile, File(description="UTF-8 CSV: enrollment_id,cnic,status")],
) -> list[MarkRow]:
    """The rows of the CSV twin operation's upload."""
    return await ROWS.csv_file_rows(file)


MarkRowsDep = Annotated[list[MarkRow], Depends(ROWS.rows_of)]
MarkCsvRowsDep = Annotated[list[MarkRow], Depends(csv_upload_rows)]

OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            f"Up to {MAX_ROWS} rows, each with enrollment_id or cnic and a status. "
            "Each row is answered on its own: a bad row is an `error` result. The same rows as "
            "a CSV file: `mark_session_csv` (this path also takes that multipart upload, and a "
            "`text/csv` body, which OpenAPI generators cannot send)."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "maxItems": MAX_ROWS,
                    "title": "MarkRows",
                    "items": {
                        "type": "object",
                        "properties": {
                            "enrollment_id": {"type": "string", "maxLength": 64},
                            "cnic": {"type": "string", "example": "35202-1234567-1"},
                            "status": {"type": "string", "enum": list(STATUSES)},
                        },
                        "required": ["status"],
                    },
                }
            },
        },
    }
}
