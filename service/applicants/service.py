"""Registering (or linking a second client), reading, updating and finding applicants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service import places
from service.applicants import repository
from service.applicants.access import get_readable, may_read
from service.applicants.normalise import same_name
from service.applicants.schemas import ApplicantCreate, ApplicantRegistered, ApplicantUpdate
from service.core.auth import Actor
from service.core.errors import Conflict
from service.core.i18n import msg
from service.events import emit
from service.models import Applicant, ApplicantEvent
from service.models.applicant_event import ApplicantEventType
from service.models.base import utcnow
from service.models.enums import Role


class DuplicateApplicant(Conflict):
    title, slug = "Applicant already registered", "duplicate-applicant"


async def _duplicate(
    session: AsyncSession, actor: Actor, existing: Applicant | None
) -> DuplicateApplicant:
    detail = msg("applicant.duplicate", "An applicant with this CNIC is already registered.")
    if existing is not None and await may_read(
        session, actor, existing.id, existing.created_by_key_id
    ):
        return DuplicateApplicant(detail, extra={"existing_id": existing.id})
    return DuplicateApplicant(detail)


async def register(
    session: AsyncSession, actor: Actor, data: ApplicantCreate
) -> ApplicantRegistered:
    """Create the applicant; link a second client to it; else 409 when its CNIC is registered.

    One ``INSERT ... ON CONFLICT (cnic) DO NOTHING RETURNING``: the unique
    index decides between concurrent registrations of one CNIC (the second
    waits for the first to commit, then inserts nothing) without a pre-check
    query or a savepoint on the hot path.
    """
    district = await places.resolve(session, district=data.district, province=data.province)
    if district != data.district:
        data = data.model_copy(update={"district": district})
    now = utcnow()
    values = repository.new_row(data, key_id=actor.key_id, now=now)
    row = await repository.insert_unless_registered(session, values)
    if row is not None:
        return ApplicantRegistered.model_validate(row)
    existing = await repository.by_cnic(session, data.cnic)
    if existing is not None and _same_person_for_another_client(actor, existing, data):
        await _link(session, actor, existing, now)
        linked = ApplicantRegistered.model_validate(existing)
        linked.linked = True
        return linked
    raise await _duplicate(session, actor, existing)


def _same_person_for_another_client(
    actor: Actor, existing: Applicant, data: ApplicantCreate
) -> bool:
    """A client that did not register the CNIC, sending the registered name and birth date.

    Whoever registered it (another client, staff, a CSV import), the person
    is the same: the contract's "second partner app for the same person".
    """
    return (
        actor.role is Role.client
        and existing.created_by_key_id != actor.key_id
        and existing.date_of_birth == data.date_of_birth
        and same_name(existing.full_name, data.full_name)
    )


async def _link(session: AsyncSession, actor: Actor, applicant: Applicant, now: datetime) -> None:
    """Link the client (once: a repeat writes nothing) and record the link and its consent."""
    if await repository.link_client(session, applicant.id, actor.key_id, consent_at=now):
        repository.add_event(
            session,
            ApplicantEvent(
                applicant_id=applicant.id,
                type=ApplicantEventType.linked.value,
                at=now,
                key_id=actor.key_id,
                actor=actor.name,
                consent_at=now,
            ),
        )
        emit(session, "applicant.linked", {"applicant_id": applicant.id}, at=now)
        await session.flush()


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
