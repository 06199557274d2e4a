"""Who may read which applicant. Applicants belong to no centre.

- admin and staff: every applicant;
- client: only the applicants its key registered or was linked to (a second
  partner app for the same person, ``applicant_clients``); others are 404 to it;
- reporter: none (the routes refuse the role with 403 before this is asked).
"""

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import NotFound
from service.models import Applicant, ApplicantClient
from service.models.enums import Role


def readable_by(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause limiting applicants to those ``actor`` may see."""
    if actor.role in (Role.admin, Role.staff):
        return true()
    if actor.role is Role.client:
        return or_(Applicant.created_by_key_id == actor.key_id, _linked(actor.key_id))
    return false()


def _linked(key_id: str) -> ColumnElement[bool]:
    link = ApplicantClient
    return exists().where(link.applicant_id == Applicant.id, link.key_id == key_id)


def can_read_registered_by(actor: Actor, created_by_key_id: str | None) -> bool:
    """Whether ``actor`` may read an applicant registered by this key, without a query
    (False for a client only linked to it: ask ``may_read``)."""
    if actor.role in (Role.admin, Role.staff):
        return True
    return actor.role is Role.client and created_by_key_id == actor.key_id


async def may_read(
    session: AsyncSession, actor: Actor, applicant_id: str, created_by_key_id: str | None
) -> bool:
    """``readable_by`` for one applicant whose registering key is known: the link table
    is read only for a client that did not register it."""
    if can_read_registered_by(actor, created_by_key_id):
        return True
    if actor.role is not Role.client:
        return False
    link = await session.scalar(
        select(ApplicantClient.key_id).where(
            ApplicantClient.applicant_id == applicant_id, ApplicantClient.key_id == actor.key_id
        )
    )
    return link is not None


def applicant_not_found() -> NotFound:
    return NotFound("No applicant with this id.")


async def get_readable(session: AsyncSession, actor: Actor, applicant_id: str) -> Applicant:
    """The applicant, or 404 when it does not exist or ``actor`` may not see it."""
    applicant = await session.scalar(
        select(Applicant).where(Applicant.id == applicant_id, readable_by(actor))
    )
    if applicant is None:
        raise applicant_not_found()
    return applicant
