"""Outcome rules: record one follow-up per completed enrollment, correct it, read it.

Recording and correcting write ``outcome.recorded`` in the same transaction
(a correction that changes nothing writes nothing). The report counts move by
database triggers (PostgreSQL) on the ``outcomes`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import Conflict, NotFound, ValidationFailed
from service.core.i18n import msg
from service.events.emit import emit
from service.models import Outcome
from service.models.base import utcnow
from service.models.enums import EnrollmentStatus
from service.outcomes import repository
from service.outcomes.repository import EnrollmentContext
from service.outcomes.schemas import (
    VALUE_FIELDS,
    OutcomeCreate,
    OutcomeList,
    OutcomeRead,
    OutcomeUpdate,
)

# Fields a correction may change but not empty.
REQUIRED_FIELDS = ("status", "source", "recorded_on")


class OutcomeExists(Conflict):
    title, slug = "Outcome already recorded", "outcome-exists"


class NotCompleted(Conflict):
    title, slug = "Enrollment not completed", "not-completed"


def enrollment_not_found() -> NotFound:
    return NotFound(msg("enrollment.not_found", "No enrollment with this id."))


def outcome_not_found() -> NotFound:
    return NotFound(msg("outcome.not_found", "No outcome with this id."))


def already_recorded(existing_id: str, follow_up: str) -> OutcomeExists:
    return OutcomeExists(
        msg(
            "outcome.duplicate",
            "The {follow_up} outcome of this enrollment is already recorded; "
            "correct it with PATCH /api/v1/outcomes/{{id}}.",
            follow_up=follow_up,
        ),
        extra={"existing_id": existing_id},
    )


def not_completed(status: str) -> NotCompleted:
    return NotCompleted(
        msg(
            "outcome.not_completed",
            "The enrollment is {status}; outcomes are recorded for completed enrollments only.",
            status=status,
        ),
        extra={"current_status": status},
    )


def to_read(
    outcome: Outcome, context: EnrollmentContext, corrections: list[dict[str, Any]] | None = None
) -> OutcomeRead:
    read = OutcomeRead.model_validate(
        {
            **{f: getattr(outcome, f) for f in VALUE_FIELDS},
            "id": outcome.id,
            "enrollment_id": outcome.enrollment_id,
            "applicant_id": context.applicant_id,
            "cohort_id": context.cohort_id,
            "follow_up": outcome.follow_up,
            "created_at": outcome.created_at,
            "updated_at": outcome.updated_at,
            "corrections": corrections or [],
        }
    )
    return read


def new_outcome(
    context: EnrollmentContext, values: dict[str, Any], *, actor: Actor, at: datetime
) -> Outcome:
    return Outcome(
        enrollment_id=context.id,
        **values,
        recorded_by_key_id=actor.key_id,
        updated_by_key_id=actor.key_id,
        created_at=at,
        updated_at=at,
    )


def recorded(session: AsyncSession, context: EnrollmentContext, outcome: Outcome) -> None:
    """Write ``outcome.recorded`` for a created or corrected outcome."""
    emit(
        session,
        "outcome.recorded",
        context.event_data(outcome.follow_up, outcome.status),
        centre_id=context.centre_id,
    )


def apply_changes(
    session: AsyncSession,
    outcome: Outcome,
    values: dict[str, Any],
    *,
    actor: Actor,
    at: datetime,
) -> bool:
    """Set ``values`` on ``outcome``, keeping old → new in its audit trail; False if none moved."""
    changes: dict[str, dict[str, Any]] = {}
    for name, new in values.items():
        old = getattr(outcome, name)
        if old != new:
            changes[name] = {"from": old, "to": new}
    if not changes:
        return False
    for name, change in changes.items():
        setattr(outcome, name, change["to"])
    outcome.updated_at = at
    outcome.updated_by_key_id = actor.key_id
    repository.add_correction(session, outcome.id, changes, at=at, actor=actor)
    return True


async def record(
    session: AsyncSession, actor: Actor, enrollment_id: str, body: OutcomeCreate
) -> OutcomeRead:
    """One outcome per completed enrollment and follow-up."""
    context = await repository.visible_enrollment(session, actor, enrollment_id, lock=True)
    if context is None:
        raise enrollment_not_found()
    if context.status != EnrollmentStatus.completed:
        raise not_completed(context.status)
    existing = await repository.find(session, enrollment_id, body.follow_up.value)
    if existing is not None:
        raise already_recorded(existing.id, body.follow_up.value)
    outcome = new_outcome(context, body.stored(), actor=actor, at=utcnow())
    try:
        async with session.begin_nested():
            session.add(outcome)
            await session.flush()
    except IntegrityError:
        # A concurrent request recorded the same follow-up first.
        existing = await repository.find(session, enrollment_id, body.follow_up.value)
        if existing is None:
            raise
        raise already_recorded(existing.id, body.follow_up.value) from None
    recorded(session, context, outcome)
    return to_read(outcome, context)


async def correct(
    session: AsyncSession, actor: Actor, outcome_id: str, body: OutcomeUpdate
) -> OutcomeRead:
    """Change the fields sent; each change is kept (who, when, old → new)."""
    found = await repository.visible_outcome(session, actor, outcome_id, lock=True)
    if found is None:
        raise outcome_not_found()
    outcome, context = found
    values = body.model_dump(mode="json", exclude_unset=True)
    nulls = {
        f: msg("field.not_null", "May not be null.")
        for f in REQUIRED_FIELDS
        if f in values and values[f] is None
    }
    if nulls:
        raise ValidationFailed(nulls)
    if "recorded_on" in values:
        values["recorded_on"] = body.recorded_on
    if apply_changes(session, outcome, values, actor=actor, at=utcnow()):
        await session.flush()
        recorded(session, context, outcome)
    history = await repository.corrections(session, [outcome.id])
    return to_read(outcome, context, history[outcome.id])


async def get(session: AsyncSession, actor: Actor, outcome_id: str) -> OutcomeRead:
    found = await repository.visible_outcome(session, actor, outcome_id)
    if found is None:
        raise outcome_not_found()
    outcome, context = found
    history = await repository.corrections(session, [outcome.id])
    return to_read(outcome, context, history[outcome.id])


async def list_for_enrollment(
    session: AsyncSession, actor: Actor, enrollment_id: str
) -> OutcomeList:
    context = await repository.visible_enrollment(session, actor, enrollment_id)
    if context is None:
        raise enrollment_not_found()
    outcomes: Sequence[Outcome] = await repository.for_enrollment(session, enrollment_id)
    history = await repository.corrections(session, [o.id for o in outcomes])
    return OutcomeList(items=[to_read(o, context, history[o.id]) for o in outcomes])
