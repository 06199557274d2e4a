"""Registering, reading, updating and finding applicants."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants import repository
from service.applicants.access import can_read, get_readable
from service.applicants.schemas import ApplicantCreate, ApplicantUpdate
from service.core.auth import Actor
from service.core.errors import Conflict
from service.models import Applicant
from service.models.base import utcnow


class DuplicateApplicant(Conflict):
    title, slug = "Applicant already registered", "duplicate-applicant"


def _duplicate(actor: Actor, existing: Applicant | None) -> DuplicateApplicant:
    detail = "An applicant with this CNIC is already registered."
    if existing is not None and can_read(actor, existing):
        return DuplicateApplicant(detail, extra={"existing_id": existing.id})
    return DuplicateApplicant(detail)


async def register(session: AsyncSession, actor: Actor, data: ApplicantCreate) -> Applicant:
    """Create the applicant; 409 when its CNIC is registered (by anyone)."""
    existing = await repository.by_cnic(session, data.cnic)
    if existing is not None:
        raise _duplicate(actor, existing)
    now = utcnow()
    applicant = Applicant(
        cnic=data.cnic,
        full_name=data.full_name,
        date_of_birth=data.date_of_birth,
        gender=data.gender.value,
        email=data.email,
        phone=data.phone,
        province=data.province.value,
        district=data.district,
        education_level=data.education_level.value,
        consent_at=now,
        created_at=now,
        updated_at=now,
        created_by_key_id=actor.key_id,
    )
    try:
        # A concurrent registration of the same CNIC may commit between the
        # check above and this insert; the unique index decides, and the
        # savepoint keeps the session usable to report the winner.
        async with session.begin_nested():
            session.add(applicant)
    except IntegrityError:
        winner = await repository.by_cnic(session, data.cnic)
        if winner is None:
            raise
        raise _duplicate(actor, winner) from None
    return applicant


async def get(session: AsyncSession, actor: Actor, applicant_id: str) -> Applicant:
    return await get_readable(session, actor, applicant_id)


async def update_contact(
    session: AsyncSession, actor: Actor, applicant_id: str, data: ApplicantUpdate
) -> Applicant:
    """Change contact fields; identity fields are refused by the schema."""
    applicant = await get_readable(session, actor, applicant_id)
    changes = {k: v for k, v in data.changes().items() if getattr(applicant, k) != v}
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
