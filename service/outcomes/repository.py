"""SQL for outcomes: the enrollment they belong to (scoped to the actor), reads and writes."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.scope import enrollments_visible_to
from service.core.sql import AnyRow, AnySelect
from service.models import (
    Applicant,
    Centre,
    Cohort,
    Enrollment,
    Outcome,
    OutcomeCorrection,
    Programme,
)


@dataclass(frozen=True, slots=True)
class EnrollmentContext:
    """An enrollment with what outcome events and checks need (no personal data)."""

    id: str
    applicant_id: str
    cohort_id: str
    cohort: str
    programme: str
    centre: str
    centre_id: str
    status: str
    completed_at: datetime | None

    def event_data(self, follow_up: str, status: str) -> dict[str, Any]:
        return {
            "enrollment_id": self.id,
            "applicant_id": self.applicant_id,
            "cohort_id": self.cohort_id,
            "cohort": self.cohort,
            "programme": self.programme,
            "centre": self.centre,
            "follow_up": follow_up,
            "status": status,
        }


def context_select() -> AnySelect:
    """Enrollments with their cohort, programme and centre codes (Cohort joined)."""
    return (
        select(
            Enrollment.id,
            Enrollment.applicant_id,
            Enrollment.cohort_id,
            Cohort.code.label("cohort"),
            Programme.code.label("programme"),
            Centre.code.label("centre"),
            Cohort.centre_id,
            Enrollment.status,
            Enrollment.completed_at,
        )
        .select_from(Enrollment)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Programme, Programme.id == Cohort.programme_id)
        .join(Centre, Centre.id == Cohort.centre_id)
    )


def _context(row: AnyRow) -> EnrollmentContext:
    return EnrollmentContext(*row[:9])


def visible_contexts(actor: Actor) -> AnySelect:
    return (
        context_select()
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(enrollments_visible_to(actor))
    )


async def visible_enrollment(
    session: AsyncSession, actor: Actor, enrollment_id: str, *, lock: bool = False
) -> EnrollmentContext | None:
    """The enrollment if ``actor`` may see it; ``lock`` holds it against concurrent changes."""
    stmt = visible_contexts(actor).where(Enrollment.id == enrollment_id)
    if lock:
        stmt = stmt.with_for_update(of=Enrollment, key_share=True)
    row = (await session.execute(stmt)).first()
    return None if row is None else _context(row)


async def visible_enrollments(
    session: AsyncSession, actor: Actor, ids: Iterable[str]
) -> dict[str, EnrollmentContext]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (await session.execute(visible_contexts(actor).where(Enrollment.id.in_(wanted)))).all()
    return {row.id: _context(row) for row in rows}


async def find(session: AsyncSession, enrollment_id: str, follow_up: str) -> Outcome | None:
    found: Outcome | None = await session.scalar(
        select(Outcome)
        .where(Outcome.enrollment_id == enrollment_id, Outcome.follow_up == follow_up)
        .execution_options(populate_existing=True)
    )
    return found


async def find_many(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Outcome]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = (
        await session.scalars(
            select(Outcome).where(tuple_(Outcome.enrollment_id, Outcome.follow_up).in_(wanted))
        )
    ).all()
    return {(o.enrollment_id, o.follow_up): o for o in rows}


async def visible_outcome(
    session: AsyncSession, actor: Actor, outcome_id: str, *, lock: bool = False
) -> tuple[Outcome, EnrollmentContext] | None:
    stmt = (
        visible_contexts(actor)
        .add_columns(Outcome)
        .join(Outcome, Outcome.enrollment_id == Enrollment.id)
    )
    stmt = stmt.where(Outcome.id == outcome_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(of=Outcome)
    row = (await session.execute(stmt)).first()
    return None if row is None else (row.Outcome, _context(row))


async def for_enrollment(session: AsyncSession, enrollment_id: str) -> Sequence[Outcome]:
    return (
        await session.scalars(
            select(Outcome)
            .where(Outcome.enrollment_id == enrollment_id)
            .order_by(Outcome.created_at, Outcome.id)
        )
    ).all()


async def corrections(
    session: AsyncSession, outcome_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each outcome's corrections, oldest first."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not outcome_ids:
        return out
    rows = (
        await session.scalars(
            select(OutcomeCorrection)
            .where(OutcomeCorrection.outcome_id.in_(sorted(set(outcome_ids))))
            .order_by(OutcomeCorrection.at, OutcomeCorrection.id)
        )
    ).all()
    for row in rows:
        out[row.outcome_id].append(
            {"at": row.at, "actor": row.actor, "changes": json.loads(row.changes)}
        )
    return out


def add_correction(
    session: AsyncSession,
    outcome_id: str,
    changes: dict[str, dict[str, Any]],
    *,
    at: datetime,
    actor: Actor,
) -> None:
    session.add(
        OutcomeCorrection(
            outcome_id=outcome_id,
            at=at,
            actor=actor.name,
            key_id=actor.key_id,
            changes=json.dumps(changes, default=str, separators=(",", ":")),
        )
    )
