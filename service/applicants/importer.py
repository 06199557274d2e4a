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
import functools
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from service import places
from service.applicants import repository
from service.applicants.normalise import same_name
from service.applicants.schemas import (
    CONTACT_FIELDS,
    REGISTRATION_FIELDS,
    ApplicantCreate,
    ImportReport,
)
from service.core import csvimport
from service.core.i18n import msg
from service.models.base import utcnow

BATCH_SIZE = 1000
# A header wider than this is refused (the registration fields are ten; the
# rest are ignored columns, and a 40,000-column header is an attack, not a file).
MAX_COLUMNS = 1000

Progress = Callable[[int, int], None]
"""Called after each batch with (bytes read so far, rows read so far)."""


def _read_header(reader: Any) -> tuple[dict[str, int], int]:
    """The registration fields' positions and the header's width; linear in its size."""
    header = csvimport.header_row(reader, max_columns=MAX_COLUMNS, refuse_nul=True)
    positions: dict[str, int] = {}
    dupes: set[str] = set()
    for i, raw in enumerate(header):
        name = raw.strip().lower()
        if not name:
            continue
        if name in positions:
            dupes.add(name)
        else:
            positions[name] = i
    if dupes:
        raise csvimport.duplicate_columns(", ".join(sorted(dupes)))
    csvimport.require_columns(
        positions,
        REGISTRATION_FIELDS,
        detail=msg("file.header.detail", "The CSV header must name the registration fields."),
    )
    return {name: positions[name] for name in REGISTRATION_FIELDS}, len(header)


@dataclass
class _Parsed:
    rows: list[tuple[int, ApplicantCreate]]
    errors: list[tuple[int, str, str]]
    records: int
    done: bool


class _Parser:
    """Reads and validates the file a batch at a time; runs in a worker thread.

    Decoding, CSV parsing and validation are CPU-bound: done on the event loop
    they would stall every other request for as long as a batch takes.
    """

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.reader = csv.reader(text)
        self.columns: dict[str, int] = {}
        self.width = 0
        self.records: Iterator[tuple[int, list[str]]] = iter(())

    def header(self) -> None:
        self.columns, self.width = _read_header(self.reader)
        self.records = csvimport.records(self.reader)

    def batch(self) -> _Parsed:
        """Up to ``BATCH_SIZE`` records: memory stays flat whatever the file's size."""
        parsed = _Parsed(rows=[], errors=[], records=0, done=False)
        while parsed.records < BATCH_SIZE:
            found = next(self.records, None)
            if found is None:
                parsed.done = True
                break
            line, record = found
            parsed.records += 1
            row = _parse_row(record, self.columns, line, parsed.errors, self.width)
            if row is not None:
                parsed.rows.append((line, row))
        return parsed


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
        parser = _Parser(text)
        await asyncio.to_thread(parser.header)
        savepoint = await session.begin_nested() if dry_run else None
        # The database writes one batch while a worker thread parses and
        # validates the next: the two overlap instead of taking turns, and the
        # event loop stays free. Batches are still applied one after another,
        # in file order, and at most two are held in memory.
        writing: asyncio.Task[None] | None = None
        try:
            now = utcnow()
            rows = 0
            done = False
            while not done:
                parsed = await asyncio.to_thread(parser.batch)
                done = parsed.done
                rows += parsed.records
                for line, name, message in parsed.errors:
                    report.add_error(line, name, message)
                if writing is not None:
                    await writing
                    writing = None
                if parsed.rows:
                    writing = asyncio.create_task(
                        _apply(session, parsed.rows, report, key_id=key_id, now=now)
                    )
                if progress is not None:
                    progress(source.tell(), rows)
            if writing is not None:
                await writing
            writing = None
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
    errors: list[tuple[int, str, str]],
    header_width: int,
) -> ApplicantCreate | None:
    if len(record) > header_width:
        errors.append(
            (line, "row", f"The row has {len(record)} values; the header has {header_width}.")
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
            errors.append((line, str(loc[0]), csvimport.field_message(error)))
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
    if batch:
        write = functools.partial(_write_batch, session, batch, key_id=key_id, now=now)
        await csvimport.apply_batch(session, write, report)


async def _write_batch(
    session: AsyncSession,
    batch: list[tuple[int, ApplicantCreate]],
    *,
    key_id: str | None,
    now: datetime,
) -> csvimport.BatchResult:
    result = csvimport.BatchResult()
    found = await repository.existing_by_cnic(session, {row.cnic for _, row in batch})
    # The applicant as it will be after this batch: earlier rows of the file
    # count, so a CNIC repeated in the file is compared with its first row.
    state: dict[str, dict[str, Any]] = found
    inserts: dict[str, dict[str, Any]] = {}
    updates: dict[str, dict[str, Any]] = {}
    for line, row in batch:
        current = state.get(row.cnic)
        if current is None:
            values = repository.new_row(row, key_id=key_id, now=now)
            inserts[row.cnic] = values
            state[row.cnic] = values
            result.created += 1
            continue
        if _identity_errors(current, row, line, result):
            continue
        stored = row.stored()
        changed = {k: stored[k] for k in CONTACT_FIELDS if current[k] != stored[k]}
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
    current: dict[str, Any], row: ApplicantCreate, line: int, result: csvimport.BatchResult
) -> bool:
    """Report identity fields that differ from the registered applicant's."""
    before = len(result.errors)
    if not same_name(current["full_name"], row.full_name):
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
