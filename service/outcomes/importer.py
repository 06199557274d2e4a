"""Bulk outcomes from CSV: per-row errors with file line numbers, dry run, re-upload safe.

Answers like the applicant import (``created``, ``updated``, ``unchanged``,
``errors[{row, field, message}]``, ``dry_run``). The header names the
``OutcomeCreate`` fields plus ``enrollment_id``; ``enrollment_id``,
``follow_up``, ``status`` and ``source`` are required columns. A row for an
(enrollment, follow-up) already recorded corrects it (``updated``, with the
audit trail) or changes nothing (``unchanged``); a column left out of the
header is never changed, an empty cell clears an optional field. Each batch
reads its enrollments and outcomes in two statements and writes in a savepoint;
a dry run rolls everything back, so its counts are what a real run reports.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.schemas import ImportReport
from service.core import csvimport
from service.core.auth import Actor
from service.models import Outcome
from service.models.base import utcnow
from service.models.enums import EnrollmentStatus
from service.outcomes import repository, service
from service.outcomes.repository import EnrollmentContext
from service.outcomes.schemas import VALUE_FIELDS, OutcomeCreate

BATCH_SIZE = 1000
MAX_COLUMNS = 100
COLUMNS: tuple[str, ...] = ("enrollment_id", *OutcomeCreate.model_fields)
REQUIRED_COLUMNS = ("enrollment_id", "follow_up", "status", "source")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


@dataclass
class _Row:
    line: int
    enrollment_id: str
    body: OutcomeCreate
    given: frozenset[str]  # value fields whose column is in the header


def _header(reader: Any) -> dict[str, int]:
    header = csvimport.header_row(reader, max_columns=MAX_COLUMNS)
    positions: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = raw.strip().lower()
        if name in positions:
            raise csvimport.duplicate_columns(name)
        if name in COLUMNS:
            positions[name] = i
    csvimport.require_columns(positions, REQUIRED_COLUMNS)
    return positions


def _parse(
    record: list[str], columns: dict[str, int], line: int, result: csvimport.BatchResult
) -> _Row | None:
    values: dict[str, Any] = {}
    for name, i in columns.items():
        cell = record[i].strip() if i < len(record) else ""
        if name == "enrollment_id":
            continue
        if cell == "":
            continue  # an empty optional cell: None (a required one: "field required")
        if name == "online_store":
            lowered = cell.lower()
            values[name] = True if lowered in _TRUE else False if lowered in _FALSE else cell
        else:
            values[name] = cell
    enrollment_id = (
        record[columns["enrollment_id"]].strip() if columns["enrollment_id"] < len(record) else ""
    )
    if not enrollment_id:
        result.errors.append((line, "enrollment_id", "This field is required."))
    try:
        body = OutcomeCreate.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            loc = error.get("loc") or ("row",)
            result.errors.append((line, str(loc[0]), csvimport.field_message(error)))
        return None
    if not enrollment_id:
        return None
    given = frozenset(c for c in columns if c in VALUE_FIELDS)
    return _Row(line, enrollment_id, body, given)


async def import_csv(
    session: AsyncSession, actor: Actor, source: IO[bytes], *, dry_run: bool = False
) -> ImportReport:
    """Import the CSV in ``source``; raises before writing on a bad header."""
    report = ImportReport(dry_run=dry_run)
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        columns = _header(reader)
        savepoint = await session.begin_nested() if dry_run else None
        try:
            now = utcnow()
            records = csvimport.records(reader)
            done = False
            while not done:
                batch: list[_Row] = []
                parsed = csvimport.BatchResult()
                while len(batch) + len(parsed.errors) < BATCH_SIZE:
                    found = next(records, None)
                    if found is None:
                        done = True
                        break
                    line, record = found
                    row = _parse(record, columns, line, parsed)
                    if row is not None:
                        batch.append(row)
                for line, name, message in parsed.errors:
                    report.add_error(line, name, message)
                if batch:
                    write = functools.partial(_write, session, actor, batch, now=now)
                    await csvimport.apply_batch(session, write, report)
        finally:
            if savepoint is not None:
                await savepoint.rollback()
    finally:
        text.detach()
    report.errors.sort(key=lambda e: e.row)
    return report


async def _write(
    session: AsyncSession, actor: Actor, batch: list[_Row], *, now: datetime
) -> csvimport.BatchResult:
    result = csvimport.BatchResult()
    contexts = await repository.visible_enrollments(
        session, actor, (r.enrollment_id for r in batch)
    )
    state: dict[tuple[str, str], Outcome] = await repository.find_many(
        session, ((r.enrollment_id, r.body.follow_up.value) for r in batch)
    )
    for row in batch:
        context: EnrollmentContext | None = contexts.get(row.enrollment_id)
        if context is None:
            result.errors.append((row.line, "enrollment_id", "No enrollment with this id."))
            continue
        if context.status != EnrollmentStatus.completed:
            message = f"The enrollment is {context.status}; it must be completed."
            result.errors.append((row.line, "enrollment_id", message))
            continue
        key = (row.enrollment_id, row.body.follow_up.value)
        stored = row.body.stored()
        existing = state.get(key)
        if existing is None:
            outcome = service.new_outcome(context, stored, actor=actor, at=now)
            session.add(outcome)
            await session.flush()
            service.recorded(session, context, outcome)
            state[key] = outcome
            result.created += 1
            continue
        changes = {f: stored[f] for f in VALUE_FIELDS if f in row.given}
        if "recorded_on" in changes and row.body.recorded_on is None:
            del changes["recorded_on"]  # an empty date keeps the one recorded
        if service.apply_changes(session, existing, changes, actor=actor, at=now):
            service.recorded(session, context, existing)
            result.updated += 1
        else:
            result.unchanged += 1
    await session.flush()
    return result
