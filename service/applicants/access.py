"""Who may read which applicant. Applicants belong to no centre.

- admin and staff: every applicant;
- client: only the applicants its key registered (others are 404 to it);
- reporter: none (the routes refuse the role with 403 before this is asked).
"""

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import NotFound
from service.models import Applicant
from service.models.enums import Role


def readable_by(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause limiting applicants to those ``actor`` may see."""
    if actor.role in (Role.admin, Role.staff):
        return true()
    if actor.role is Role.client:
        return Applicant.created_by_key_id == actor.key_id
    return false()


def can_read(actor: Actor, applicant: Applicant) -> bool:
    return can_read_registered_by(actor, applicant.created_by_key_id)


def can_read_registered_by(actor: Actor, created_by_key_id: str | None) -> bool:
    """``can_read`` for an applicant known only by the key that registered it."""
    if actor.role in (Role.admin, Role.staff):
        return True
    return actor.role is Role.client and created_by_key_id == actor.key_id


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
