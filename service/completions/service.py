"""Completions and certificates: the pass rule, bulk results, verification, revocation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from service.completions import codes, repository
from service.completions.repository import Candidate, CertificateRecord, Outcome
from service.completions.rows import ParsedRow
from service.completions.schemas import (
    CertificateRead,
    CertificateVerification,
    CompleteRequest,
    CompletionResult,
)
from service.core.auth import Actor
from service.core.errors import Conflict, NotFound, ServiceError
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


class CertificateNotFound(NotFound):
    title, slug = "Certificate not found", "certificate-not-found"

    def __init__(self) -> None:
        super().__init__(
            msg(
                "certificate.not_found",
                "No certificate has this code. Check it against the printed certificate.",
            )
        )


class CertificateRevoked(ServiceError):
    status, title, slug = 410, "Certificate revoked", "certificate-revoked"

    def __init__(self, code: str, revoked_at: datetime, reason: str) -> None:
        super().__init__(
            msg(
                "certificate.revoked",
                "Certificate {code} was revoked on {date}: {reason}",
                code=code,
                date=revoked_at.date().isoformat(),
                reason=reason,
            ),
            extra={
                "code": code,
                "reason": reason,
                "revoked_at": _TIMESTAMP.dump_python(revoked_at, mode="json"),
            },
        )


class AlreadyRevoked(Conflict):
    title, slug = "Already revoked", "already-revoked"


def _already_revoked(code: str) -> AlreadyRevoked:
    return AlreadyRevoked(
        msg("certificate.already_revoked", "Certificate {code} is already revoked.", code=code)
    )


def _number(value: float) -> str:
    """72.0 → "72", 72.25 → "72.25" (exact, unlike %g)."""
    return str(int(value)) if value.is_integer() else repr(value)


def passes(cohort: Cohort, score: float, attendance: float) -> bool:
    return score >= cohort.pass_score and attendance >= cohort.min_attendance


def _outcome_reason(score: float, attendance: float) -> str:
    return f"score {_number(score)}, attendance {_number(attendance)}"


def enrollment_read(enrollment: Enrollment, certificate_code: str | None) -> EnrollmentRead:
    read = EnrollmentRead.model_validate(enrollment)
    return read.model_copy(update={"waitlist_position": None, "certificate_code": certificate_code})


# --- one enrollment ---------------------------------------------------------


async def complete(
    session: AsyncSession, actor: Actor, enrollment_id: str, data: CompleteRequest
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

    status = (
        EnrollmentStatus.completed
        if passes(cohort, data.score, data.attendance)
        else EnrollmentStatus.failed
    )
    at = utcnow()
    enrollment = await repository.mark_completed(
        session,
        enrollment_id,
        status=status.value,
        score=data.score,
        attendance=data.attendance,
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
        reason=_outcome_reason(data.score, data.attendance),
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


def _pick_for_cnic(found: Sequence[Candidate]) -> Candidate | None:
    """The applicant's enrolled enrollment in the cohort, else its latest one."""
    if not found:
        return None
    enrolled = [c for c in found if c.status == EnrollmentStatus.enrolled]
    return enrolled[0] if enrolled else max(found, key=lambda c: c.queue_no)


def _plan(
    cohort: Cohort, rows: Sequence[ParsedRow], candidates: Sequence[Candidate]
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
        if row.score is None or row.attendance is None:  # parse_row guarantees both
            plan.error = "score and attendance are required"
            continue
        plan.status = (
            EnrollmentStatus.completed.value
            if passes(cohort, row.score, row.attendance)
            else EnrollmentStatus.failed.value
        )
    return plans


async def complete_many(
    session: AsyncSession, actor: Actor, cohort_id: str, rows: Sequence[ParsedRow]
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
    plans = _plan(cohort, rows, candidates)

    at = utcnow()
    outcomes = [
        Outcome(p.enrollment_id, p.status, p.row.score, p.row.attendance)  # type: ignore[arg-type]
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
                "reason": _outcome_reason(p.row.score or 0, p.row.attendance or 0),
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


# --- certificates -----------------------------------------------------------


async def _find(session: AsyncSession, code: str) -> CertificateRecord:
    record = await repository.certificate_by_code(session, codes.candidates(code))
    if record is None:
        raise CertificateNotFound()
    return record


def verification(record: CertificateRecord) -> CertificateVerification:
    return CertificateVerification(
        code=record.certificate.code,
        holder_name=record.holder_name,
        programme=record.programme.code,
        programme_name=record.programme.name,
        partner=record.programme.partner,
        track=record.cohort.track,
        cohort=record.cohort.code,
        cohort_name=record.cohort.name,
        completed_at=record.enrollment.completed_at,
        issued_at=record.certificate.issued_at,
    )


async def verify(session: AsyncSession, code: str) -> CertificateVerification:
    """The public facts of a valid certificate; 404 unknown, 410 revoked."""
    record = await _find(session, code)
    cert = record.certificate
    if cert.revoked_at is not None:
        raise CertificateRevoked(cert.code, cert.revoked_at, cert.revoked_reason or "")
    return verification(record)


async def lookup(session: AsyncSession, code: str) -> CertificateRecord:
    """The certificate whatever its state (for the HTML page, which renders each state)."""
    return await _find(session, code)


def certificate_read(record: CertificateRecord) -> CertificateRead:
    cert = record.certificate
    return CertificateRead(
        code=cert.code,
        enrollment_id=cert.enrollment_id,
        applicant_id=record.enrollment.applicant_id,
        cohort_id=record.enrollment.cohort_id,
        issued_at=cert.issued_at,
        revoked_at=cert.revoked_at,
        revoked_reason=cert.revoked_reason,
    )


async def get_certificate(session: AsyncSession, actor: Actor, code: str) -> CertificateRead:
    record = await _find(session, code)
    if not actor.may_act_on_centre(record.cohort.centre_id):
        raise CertificateNotFound()
    return certificate_read(record)


async def revoke(session: AsyncSession, actor: Actor, code: str, reason: str) -> CertificateRead:
    """Revoke a certificate (admin): verification answers 410 from now on."""
    record = await _find(session, code)
    if record.certificate.revoked_at is not None:
        raise _already_revoked(record.certificate.code)
    cert = await repository.revoke(
        session, record.certificate.id, reason=reason, at=utcnow(), key_id=actor.key_id
    )
    if cert is None:
        raise _already_revoked(record.certificate.code)
    record_event(
        session,
        record.enrollment,
        from_status=record.enrollment.status,
        to_status=record.enrollment.status,
        actor=actor.name,
        reason=f"certificate revoked: {reason}",
    )
    await session.flush()
    return certificate_read(
        CertificateRecord(
            cert, record.enrollment, record.holder_name, record.cohort, record.programme
        )
    )
