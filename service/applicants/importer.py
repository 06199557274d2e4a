"""Bulk import of applicants from CSV, shared by the HTTP endpoint and the CLI.

The file is read incrementally (decoded line by line from a binary file
object: the spooled upload, or a file on disk) and written in batches: per
batch one SELECT of the CNICs already registered, one executemany INSERT of
the new applicants and one executemany UPDATE of the changed ones. Memory
stays flat whatever the file's size.

Everything happens in the caller's transaction: an unreadable file (not
UTF-8, not CSV) found half way through aborts the whole import. A dry run
does the same work inside a savepoint that is rolled back, so its counts are
exactly what a real run would report.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service import places
from service.applicants import repository
from service.applicants.schemas import CONTACT_FIELDS, ApplicantCreate, ImportReport
from service.core.errors import ServiceError, ValidationFailed
from service.models.base import new_id, utcnow

COLUMNS: tuple[str, ...] = (
    "cnic",
    "full_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    "province",
    "district",
    "education_level",
    "consent",
)
BATCH_SIZE = 1000
# Rows parsed between two yields to the event loop (see ``import_csv``).
YIELD_EVERY = 50
# How often a batch is retried when a concurrent writer registers one of its CNICs.
_RETRIES = 3

Progress = Callable[[int, int], None]
"""Called after each batch with (bytes read so far, rows read so far)."""


class UnreadableFile(ServiceError):
    status, title, slug = 400, "Unreadable file", "unreadable-file"


@dataclass
class _BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)


def _same_name(a: str, b: str) -> bool:
    """Names equal ignoring case, Unicode form and runs of spaces."""

    def key(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())

    return key(a) == key(b)


def _message(error: Any) -> str:
    if error.get("type") == "missing":
        return "This field is required."
    return str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")


def _read_header(reader: Any) -> tuple[dict[str, int], int]:
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(exc) from None
    if header and _binary(header):
        raise _unreadable(csv.Error("NUL"))
    if not header or not any(h.strip() for h in header):
        raise ValidationFailed(
            {"file": "The file is empty; the first line must be the header row."}
        )
    names = [h.strip().lower() for h in header]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise ValidationFailed({"file": f"Columns named more than once: {', '.join(dupes)}."})
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ValidationFailed(
            {"file": f"The header row lacks the columns: {', '.join(missing)}."},
            detail="The CSV header must name the registration fields.",
        )
    return {name: names.index(name) for name in COLUMNS}, len(names)


def _binary(record: list[str]) -> bool:
    """NUL never occurs in a text file (and Python's csv module accepts it)."""
    return any("\x00" in value for value in record)


def _unreadable(exc: Exception) -> UnreadableFile:
    if isinstance(exc, UnicodeDecodeError):
        return UnreadableFile("The file is not UTF-8 text; save the CSV as UTF-8.")
    return UnreadableFile("The file is not a readable CSV text file.")


async def import_csv(
    session: AsyncSession,
    source: IO[bytes],
    *,
    key_id: str | None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the CSV in ``source``; returns the report. Raises before writing on a bad header."""
    report = ImportReport(dry_run=dry_run)
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        columns, header_width = _read_header(reader)
        savepoint = await session.begin_nested() if dry_run else None
        # The database writes one batch while the next is parsed and validated
        # (CPU-bound, so it yields to the event loop every few rows to let the
        # write's I/O progress): the two overlap instead of taking turns.
        # Batches are still applied one after another, in file order.
        writing: asyncio.Task[None] | None = None
        try:
            batch: list[tuple[int, ApplicantCreate]] = []
            now = utcnow()
            last_line = reader.line_num
            rows = 0
            while True:
                try:
                    record = next(reader, None)
                except (UnicodeDecodeError, csv.Error) as exc:
                    raise _unreadable(exc) from None
                if record is None:
                    break
                line, last_line = last_line + 1, reader.line_num
                if not any(v.strip() for v in record):
                    continue  # blank line
                if _binary(record):
                    raise _unreadable(csv.Error("NUL"))
                rows += 1
                row = _parse_row(record, columns, line, report, header_width)
                if row is not None:
                    batch.append((line, row))
                if rows % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                if len(batch) >= BATCH_SIZE:
                    if writing is not None:
                        await writing
                    writing = asyncio.create_task(
                        _apply(session, batch, report, key_id=key_id, now=now)
                    )
                    batch = []
                    if progress is not None:
                        progress(source.tell(), rows)
            if writing is not None:
                await writing
            writing = None
            await _apply(session, batch, report, key_id=key_id, now=now)
            if progress is not None:
                progress(source.tell(), rows)
        finally:
            if writing is not None and not writing.done():
                # Let an in-flight batch finish rather than cancel it half-way
                # through a statement; the caller's rollback then undoes it.
                with contextlib.suppress(BaseException):
                    await writing
            if savepoint is not None:
                await savepoint.rollback()
    finally:
        text.detach()  # leave ``source`` open: its owner closes it
    report.errors.sort(key=lambda e: e.row)
    return report


def _parse_row(
    record: list[str],
    columns: dict[str, int],
    line: int,
    report: ImportReport,
    header_width: int,
) -> ApplicantCreate | None:
    if len(record) > header_width:
        report.add_error(
            line, "row", f"The row has {len(record)} values; the header has {header_width}."
        )
        return None
    values: dict[str, Any] = {
        name: record[i] if i < len(record) else "" for name, i in columns.items()
    }
    consent = values["consent"].strip()
    values["consent"] = True if consent.lower() == "true" else consent
    try:
        return ApplicantCreate.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            loc = error.get("loc") or ("row",)
            report.add_error(line, str(loc[0]), _message(error))
        return None


async def _apply(
    session: AsyncSession,
    batch: list[tuple[int, ApplicantCreate]],
    report: ImportReport,
    *,
    key_id: str | None,
    now: datetime,
) -> None:
    batch = await places.resolve_rows(session, batch, report.add_error)
    if not batch:
        return
    for attempt in range(_RETRIES):
        try:
            async with session.begin_nested():
                result = await _write_batch(session, batch, key_id=key_id, now=now)
        except IntegrityError:
            # Another transaction registered one of these CNICs after our SELECT;
            # it has committed now (our insert waited for it): read again.
            if attempt == _RETRIES - 1:
                raise
            continue
        report.created += result.created
        report.updated += result.updated
        report.unchanged += result.unchanged
        for line, name, message in result.errors:
            report.add_error(line, name, message)
        return


async def _write_batch(
    session: AsyncSession,
    batch: list[tuple[int, ApplicantCreate]],
    *,
    key_id: str | None,
    now: datetime,
) -> _BatchResult:
    result = _BatchResult()
    found = await repository.existing_by_cnic(session, {row.cnic for _, row in batch})
    # The applicant as it will be after this batch: earlier rows of the file
    # count, so a CNIC repeated in the file is compared with its first row.
    state: dict[str, dict[str, Any]] = {cnic: e._asdict() for cnic, e in found.items()}
    inserts: dict[str, dict[str, Any]] = {}
    updates: dict[str, dict[str, Any]] = {}
    for line, row in batch:
        new = {
            "email": row.email,
            "phone": row.phone,
            "district": row.district,
            "province": row.province.value,
            "education_level": row.education_level.value,
        }
        current = state.get(row.cnic)
        if current is None:
            values = {
                "id": new_id(),
                "cnic": row.cnic,
                "full_name": row.full_name,
                "date_of_birth": row.date_of_birth,
                "gender": row.gender.value,
                **new,
                "consent_at": now,
                "created_at": now,
                "updated_at": now,
                "created_by_key_id": key_id,
                "updated_by_key_id": None,
            }
            inserts[row.cnic] = values
            state[row.cnic] = values
            result.created += 1
            continue
        if _identity_errors(current, row, line, result):
            continue
        changed = {k: v for k, v in new.items() if current[k] != v}
        if not changed:
            result.unchanged += 1
            continue
        current.update(changed)
        result.updated += 1
        if row.cnic not in inserts:
            updates[row.cnic] = current
    await repository.insert_many(session, [inserts[c] for c in sorted(inserts)])
    await repository.update_contacts(
        session,
        [
            {
                "b_id": cur["id"],
                **{k: cur[k] for k in CONTACT_FIELDS},
                "updated_at": now,
                "updated_by_key_id": key_id,
            }
            for _, cur in sorted(updates.items())
        ],
    )
    return result


def _identity_errors(
    current: dict[str, Any], row: ApplicantCreate, line: int, result: _BatchResult
) -> bool:
    """Report identity fields that differ from the registered applicant's."""
    before = len(result.errors)
    if not _same_name(current["full_name"], row.full_name):
        result.errors.append(
            (line, "full_name", "Differs from the name registered with this CNIC.")
        )
    if current["date_of_birth"] != row.date_of_birth:
        result.errors.append(
            (line, "date_of_birth", "Differs from the date of birth registered with this CNIC.")
        )
    if current["gender"] != row.gender.value:
        result.errors.append((line, "gender", "Differs from the gender registered with this CNIC."))
    return len(result.errors) > before
