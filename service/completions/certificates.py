"""Certificates: lookup by any spelling of the code, public verification, revocation."""

from __future__ import annotations

from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from service.completions import codes, repository
from service.completions.repository import CertificateRecord
from service.completions.schemas import CertificateRead, CertificateVerification
from service.core.auth import Actor
from service.core.errors import Conflict, NotFound, ServiceError
from service.core.i18n import msg
from service.models.base import utcnow
from service.seats.events import record_event

_TIMESTAMP = TypeAdapter(datetime)


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
