"""Completions: the pass rule, one completion, bulk results (certificates: certificates.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from service.completions import repository
from service.completions.attendance import MISSING, computed_for, outcome_reason, resolve
from service.completions.repository import Candidate, Outcome
from service.completions.rows import ParsedRow
from service.completions.schemas import (
    CompleteRequest,
    CompletionResult,
)
from service.core.auth import Actor
from service.core.errors import Conflict, NotFound, ValidationFailed
from service.core.i18n import msg
from service.core.transitions import InvalidTransition
from service.enrollments.schemas import EnrollmentRead
from service.models import Cohort, Enrollment
from service.models.base import utcnow
from service.models.enums import CohortStatus, EnrollmentStatus
from service.seats import service as seats
from service.seats.events import record_event

_TIMESTAMP = TypeAdapter(datetime)


class CohortNotInProgress(Conflict):
    title, slug = "Cohort not in progress", "cohort-not-in-progress"

    def __init__(self, cohort: Cohort) -> None:
        super().__init__(
            msg(
                "cohort.not_in_progress",
                "Completions are recorded while a cohort is in_progress; "
                "cohort {code} is {status}.",
                code=cohort.code,
                status=cohort.status,
            ),
            extra={"cohort_status": cohort.status},
        )


def _not_completable(status: str) -> InvalidTransition:
    return InvalidTransition(
        msg(
            "enrollment.cannot_complete",
            "Only an enrolled enrollment can be completed; this one is {status}.",
            status=status,
        ),
        current_status=status,
    )


def _enrollment_not_found() -> NotFound:
    return NotFound(msg("enrollment.not_found", "No enrollment with this id."))


def passes(cohort: Cohort, score: float, attendance: float) -> bool:
    return score >= cohort.pass_score and attendance >= cohort.min_attendance


def enrollment_read(enrollment: Enrollment, certificate_code: str | None) -> EnrollmentRead:
    read = EnrollmentRead.model_validate(enrollment)
    return read.model_copy(update={"waitlist_position": None, "certificate_code": certificate_code})


# --- one enrollment ---------------------------------------------------------


async def complete(
    session: AsyncSession,
    actor: Actor,
    enrollment_id: str,
    data: CompleteRequest,
    *,
    today: date | None = None,
) -> EnrollmentRead:
    """enrolled → completed (with a certificate) or failed, in an in_progress cohort."""
    found = await repository.enrollment_in_cohort(session, enrollment_id)
    if found is None or not actor.may_act_on_centre(found.cohort.centre_id):
        raise _enrollment_not_found()
    cohort = await seats.share_lock(session, found.cohort.id)
    if cohort is None:
        raise _enrollment_not_found()
    if cohort.status != CohortStatus.in_progress:
        raise CohortNotInProgress(cohort)
    if found.enrollment.status != EnrollmentStatus.enrolled:
        raise _not_completable(found.enrollment.status)
    computed = await computed_for(session, cohort.id, [enrollment_id], today or utcnow().date())
    attendance = resolve(data.attendance, computed, enrollment_id)
    if attendance.value is None:
        raise ValidationFailed({"attendance": attendance.error or MISSING})

    status = (
        EnrollmentStatus.completed
        if passes(cohort, data.score, attendance.value)
        else EnrollmentStatus.failed
    )
    at = utcnow()
    enrollment = await repository.mark_completed(
        session,
        enrollment_id,
        status=status.value,
        score=data.score,
        attendance=attendance.value,
        at=at,
        key_id=actor.key_id,
    )
    if enrollment is None:
        # A concurrent request changed it between our read and the update.
        current = await repository.enrollment_in_cohort(session, enrollment_id)
        raise _not_completable(current.enrollment.status if current else "gone")
    code = None
    if status is EnrollmentStatus.completed:
        issued = await repository.issue_certificates(
            session, [enrollment.id], found.programme_code, at=at
        )
        code = issued[enrollment.id]
    record_event(
        session,
        enrollment,
        from_status=EnrollmentStatus.enrolled.value,
        to_status=status.value,
        actor=actor.name,
        reason=outcome_reason(data.score, attendance.value, attendance.computed),
    )
    await session.flush()
    return enrollment_read(enrollment, code)


# --- many enrollments of one cohort -----------------------------------------


@dataclass(slots=True)
class _Planned:
    row: ParsedRow
    enrollment_id: str | None = None
    status: str | None = None
    error: str | None = None
    attendance: float | None = None
    computed: float | None = None


def _pick_for_cnic(found: Sequence[Candidate]) -> Candidate | None:
    """The applicant's enrolled enrollment in the cohort, else its latest one."""
    if not found:
        return None
    enrolled = [c for c in found if c.status == EnrollmentStatus.enrolled]
    return enrolled[0] if enrolled else max(found, key=lambda c: c.queue_no)


def _plan(
    cohort: Cohort,
    rows: Sequence[ParsedRow],
    candidates: Sequence[Candidate],
    computed: dict[str, float | None] | None,
) -> list[_Planned]:
    by_id = {c.id: c for c in candidates}
    by_cnic: dict[str, list[Candidate]] = {}
    for c in candidates:
        if c.cohort_id == cohort.id:
            by_cnic.setdefault(c.cnic, []).append(c)
    first_row: dict[str, int] = {}
    plans: list[_Planned] = []
    for row in rows:
        plan = _Planned(row, enrollment_id=row.enrollment_id)
        plans.append(plan)
        if row.error is not None:
            plan.error = row.error
            continue
        if row.cnic is not None:
            target = _pick_for_cnic(by_cnic.get(row.cnic, ()))
            if target is None:
                plan.error = "no enrollment in this cohort for this CNIC"
                continue
        else:
            target = by_id.get(row.enrollment_id or "")
            if target is None or target.cohort_id != cohort.id:
                plan.error = "no enrollment with this id in this cohort"
                continue
        plan.enrollment_id = target.id
        if target.id in first_row:
            plan.error = f"the same enrollment is already in row {first_row[target.id]}"
            continue
        first_row[target.id] = row.row
        if target.status != EnrollmentStatus.enrolled:
            plan.error = f"the enrollment is {target.status}, not enrolled"
            continue
        attendance = resolve(row.attendance, computed, target.id)
        if row.score is None or attendance.value is None:  # parse_row guarantees the score
            plan.error = attendance.error or "score is required"
            continue
        plan.attendance, plan.computed = attendance.value, attendance.computed
        plan.status = (
            EnrollmentStatus.completed.value
            if passes(cohort, row.score, attendance.value)
            else EnrollmentStatus.failed.value
        )
    return plans


async def complete_many(
    session: AsyncSession,
    actor: Actor,
    cohort_id: str,
    rows: Sequence[ParsedRow],
    *,
    today: date | None = None,
) -> list[CompletionResult]:
    """Record many results in set-based statements; bad rows are reported, good rows kept."""
    found = await repository.cohort_with_programme(session, cohort_id)
    if found is None:
        raise seats.cohort_not_found()
    seats.check_centre(actor, found.cohort.centre_id)
    cohort = await seats.share_lock(session, cohort_id)
    if cohort is None:
        raise seats.cohort_not_found()
    if cohort.status != CohortStatus.in_progress:
        raise CohortNotInProgress(cohort)

    ids = sorted({r.enrollment_id for r in rows if r.error is None and r.enrollment_id})
    cnics = sorted({r.cnic for r in rows if r.error is None and r.cnic})
    candidates = await repository.candidates_for_rows(session, cohort.id, ids, cnics)
    in_cohort = [c.id for c in candidates if c.cohort_id == cohort.id]
    computed = await computed_for(session, cohort.id, in_cohort, today or utcnow().date())
    plans = _plan(cohort, rows, candidates, computed)

    at = utcnow()
    outcomes = [
        Outcome(p.enrollment_id, p.status, p.row.score, p.attendance)  # type: ignore[arg-type]
        for p in plans
        if p.status is not None
    ]
    changed = await repository.mark_many_completed(session, outcomes, at=at, key_id=actor.key_id)
    for plan in plans:
        if plan.status is not None and plan.enrollment_id not in changed:
            plan.status, plan.error = None, "the enrollment was changed by a concurrent request"
    passed = [p.enrollment_id for p in plans if p.status == EnrollmentStatus.completed]
    issued = await repository.issue_certificates(
        session,
        passed,  # type: ignore[arg-type]
        found.programme_code,
        at=at,
    )
    await repository.insert_events(
        session,
        [
            {
                "enrollment_id": p.enrollment_id,
                "from_status": EnrollmentStatus.enrolled.value,
                "to_status": p.status,
                "actor": actor.name,
                "at": at,
                "reason": outcome_reason(p.row.score or 0, p.attendance or 0, p.computed),
            }
            for p in plans
            if p.status is not None
        ],
    )
    return [
        CompletionResult(
            row=p.row.row,
            status=p.status or "error",  # type: ignore[arg-type]
            enrollment_id=p.enrollment_id,
            certificate_code=(
                issued.get(p.enrollment_id or "")
                if p.status == EnrollmentStatus.completed
                else None
            ),
            error=p.error,
        )
        for p in plans
    ]
