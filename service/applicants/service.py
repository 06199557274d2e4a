"""Registering, reading, updating and finding applicants."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from service import places
from service.applicants import repository
from service.applicants.access import can_read, get_readable
from service.applicants.schemas import ApplicantCreate, ApplicantRead, ApplicantUpdate
from service.core.auth import Actor
from service.core.errors import Conflict
from service.models import Applicant
from service.models.base import new_id, utcnow


class DuplicateApplicant(Conflict):
    title, slug = "Applicant already registered", "duplicate-applicant"


def _duplicate(actor: Actor, existing: Applicant | None) -> DuplicateApplicant:
    detail = "An applicant with this CNIC is already registered."
    if existing is not None and can_read(actor, existing):
        return DuplicateApplicant(detail, extra={"existing_id": existing.id})
    return DuplicateApplicant(detail)


async def register(session: AsyncSession, actor: Actor, data: ApplicantCreate) -> ApplicantRead:
    """Create the applicant; 409 when its CNIC is registered (by anyone).

    One ``INSERT ... ON CONFLICT (cnic) DO NOTHING RETURNING``: the unique
    index decides between concurrent registrations of one CNIC (the second
    waits for the first to commit, then inserts nothing) without a pre-check
    query or a savepoint on the hot path.
    """
    district = await places.resolve(session, district=data.district, province=data.province)
    now = utcnow()
    row = await repository.insert_unless_registered(
        session,
        {
            "id": new_id(),
            "cnic": data.cnic,
            "full_name": data.full_name,
            "date_of_birth": data.date_of_birth,
            "gender": data.gender.value,
            "email": data.email,
            "phone": data.phone,
            "province": data.province.value,
            "district": district,
            "education_level": data.education_level.value,
            "consent_at": now,
            "created_at": now,
            "updated_at": now,
            "created_by_key_id": actor.key_id,
        },
    )
    if row is None:
        raise _duplicate(actor, await repository.by_cnic(session, data.cnic))
    return ApplicantRead.model_validate(row)


async def get(session: AsyncSession, actor: Actor, applicant_id: str) -> Applicant:
    return await get_readable(session, actor, applicant_id)


async def update_contact(
    session: AsyncSession, actor: Actor, applicant_id: str, data: ApplicantUpdate
) -> Applicant:
    """Change contact fields; identity fields are refused by the schema."""
    applicant = await get_readable(session, actor, applicant_id)
    sent = await places.resolve_update(session, data.changes(), stored=applicant)
    changes = {k: v for k, v in sent.items() if getattr(applicant, k) != v}
    if changes:
        for name, value in changes.items():
            setattr(applicant, name, value)
        applicant.updated_by_key_id = actor.key_id
        applicant.updated_at = utcnow()
        await session.flush()
    return applicant


async def lookup(session: AsyncSession, actor: Actor, cnic: str) -> Sequence[Applicant]:
    """The applicant with this (normalised) CNIC, if the actor may see it."""
    return await repository.readable_by_cnic(session, actor, cnic)
