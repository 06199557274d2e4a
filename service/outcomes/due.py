"""Follow-ups due: the list (computed at the instant of the read) and ``outcome.due``.

A follow-up is due for a completed enrollment (with a live certificate) while
its window is open (``windows.WINDOWS``) and no outcome is recorded for it.

``emit_due`` is a scheduler job: per follow-up it walks completions in
(``completed_at``, ``id``) order up to the last one whose window has opened,
from the cursor in ``outcome_due_cursors``, and writes ``outcome.due`` once for
each whose window is still open and still lacks an outcome. The cursor row is
locked (``SKIP LOCKED``) and moved in the transaction that writes the events,
so any number of dispatchers emit each one exactly once, however late they run.
A window that closed before any dispatcher reached it is skipped, not announced.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.db import Database
from service.core.errors import ValidationFailed
from service.core.i18n import msg
from service.core.pagination import CURSOR_INVALID, PageParams, decode_cursor, encode_cursor
from service.core.sql import AnySelect
from service.events.emit import emit
from service.models import Centre, Certificate, Enrollment, Outcome, OutcomeDueCursor, Programme
from service.models.base import utcnow
from service.models.enums import EnrollmentStatus, FollowUp
from service.outcomes import repository
from service.outcomes.schemas import DueItem
from service.outcomes.windows import WINDOWS, open_range, window_of

BATCH = 500


def _live_completion(stmt: AnySelect) -> AnySelect:
    return stmt.join(
        Certificate,
        and_(Certificate.enrollment_id == Enrollment.id, Certificate.revoked_at.is_(None)),
    ).where(Enrollment.status == EnrollmentStatus.completed.value)


def _no_outcome(follow_up: str) -> ColumnElement[bool]:
    return ~exists().where(Outcome.enrollment_id == Enrollment.id, Outcome.follow_up == follow_up)


def _after(at: datetime, last_id: str) -> ColumnElement[bool]:
    """Rows after (``at``, ``last_id``) in (``completed_at``, ``id``) order."""
    return or_(
        Enrollment.completed_at > at,
        and_(Enrollment.completed_at == at, Enrollment.id > last_id),
    )


def _encode(at: datetime, last_id: str) -> str:
    return encode_cursor(f"{at.astimezone(UTC).isoformat()}|{last_id}")


def _decode(cursor: str) -> tuple[datetime, str]:
    """The due list pages in completion order: its cursor is (completed_at, id)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode()
        at, last_id = raw.split("|")
        when = datetime.fromisoformat(at)
        decode_cursor(encode_cursor(last_id))  # an id as this API writes them
    except (ValueError, UnicodeError, binascii.Error, ValidationFailed):
        raise ValidationFailed({"cursor": CURSOR_INVALID}) from None
    if when.tzinfo is None:
        raise ValidationFailed({"cursor": CURSOR_INVALID})
    return when, last_id


def _due_clause(follow_up: str, now: datetime) -> ColumnElement[bool]:
    start, end = open_range(follow_up, now.date())
    return and_(
        Enrollment.completed_at >= start, Enrollment.completed_at < end, _no_outcome(follow_up)
    )


def _no_such_code(field: str, code: str) -> str:
    if field == "programme":
        return msg("programme.no_such_code", "No programme with code '{code}'.", code=code)
    return msg("centre.no_such_code", "No centre with code '{code}'.", code=code)


async def _check_code(session: AsyncSession, model: Any, code: str | None, field: str) -> None:
    if (
        code is not None
        and await session.scalar(select(model.id).where(model.code == code)) is None
    ):
        raise ValidationFailed({field: _no_such_code(field, code)})


async def due(
    session: AsyncSession,
    actor: Actor,
    page: PageParams,
    *,
    follow_up: str | None,
    centre: str | None,
    programme: str | None,
) -> tuple[list[DueItem], str | None]:
    """Completed enrollments the actor may see whose window is open now, without an outcome."""
    await _check_code(session, Centre, centre, "centre")
    await _check_code(session, Programme, programme, "programme")
    now = utcnow()
    follow_ups = [follow_up] if follow_up else list(WINDOWS)
    stmt = _live_completion(repository.visible_contexts(actor)).where(
        or_(*(_due_clause(f, now) for f in follow_ups))
    )
    if centre is not None:
        stmt = stmt.where(Centre.code == centre)
    if programme is not None:
        stmt = stmt.where(Programme.code == programme)
    if page.cursor is not None:
        at, last_id = _decode(page.cursor)
        stmt = stmt.where(_after(at, last_id))
    stmt = stmt.order_by(Enrollment.completed_at, Enrollment.id).limit(page.limit + 1)
    rows = list((await session.execute(stmt)).all())
    cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        cursor = _encode(rows[-1].completed_at, rows[-1].id)
    # A page is up to 500 rows read from the database as they are: the windows are
    # computed once per page, and each item is built without validating it again.
    ranges = [(FollowUp(f), *open_range(f, now.date())) for f in WINDOWS]
    items: list[DueItem] = []
    for row in rows:
        found = next((f for f, start, end in ranges if start <= row.completed_at < end), None)
        if found is None:  # pragma: no cover - the WHERE clause decided it is open
            continue
        opens, closes = window_of(found.value, row.completed_at)
        items.append(
            DueItem.model_construct(
                enrollment_id=row.id,
                applicant_id=row.applicant_id,
                cohort_id=row.cohort_id,
                cohort=row.cohort,
                programme=row.programme,
                centre=row.centre,
                follow_up=found,
                completed_at=row.completed_at,
                window_opens=opens,
                window_closes=closes,
            )
        )
    return items, cursor


# --- the scheduler job --------------------------------------------------------------


async def emit_due(db: Database, now: datetime) -> int:
    """Write ``outcome.due`` for windows opened by ``now``; completions walked (bounded)."""
    walked = 0
    for follow_up in WINDOWS:
        async with db.sessionmaker() as session:
            walked += await _advance(session, follow_up, now)
            await session.commit()
    return walked


async def _advance(session: AsyncSession, follow_up: str, now: datetime) -> int:
    cursor: OutcomeDueCursor | None = await session.scalar(
        select(OutcomeDueCursor)
        .where(OutcomeDueCursor.follow_up == follow_up)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if cursor is None:  # another dispatcher is on it
        return 0
    still_open, opened_before = open_range(follow_up, now.date())
    if cursor.through_at is None or cursor.through_id is None:
        after = Enrollment.completed_at >= still_open
    else:
        after = _after(cursor.through_at, cursor.through_id)
    stmt = (
        repository.context_select()
        .add_columns(Certificate.id.label("certificate_id"), Outcome.id.label("outcome_id"))
        .outerjoin(
            Certificate,
            and_(Certificate.enrollment_id == Enrollment.id, Certificate.revoked_at.is_(None)),
        )
        .outerjoin(
            Outcome, and_(Outcome.enrollment_id == Enrollment.id, Outcome.follow_up == follow_up)
        )
        .where(
            Enrollment.status == EnrollmentStatus.completed.value,
            after,
            Enrollment.completed_at < opened_before,
        )
        .order_by(Enrollment.completed_at, Enrollment.id)
        .limit(BATCH)
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return 0
    for row in rows:
        if row.completed_at < still_open or row.certificate_id is None or row.outcome_id:
            continue
        context = repository.EnrollmentContext(*row[:9])
        emit(
            session,
            "outcome.due",
            context.event_data(follow_up, context.status),
            centre_id=context.centre_id,
            at=now,
        )
    cursor.through_at, cursor.through_id = rows[-1].completed_at, rows[-1].id
    return len(rows)
