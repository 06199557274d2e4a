"""Who may read which applicant. Applicants belong to no centre.

The rule itself is ``Actor.may_read_applicant`` (and its SQL twin
``service.core.scope.applicants_readable_by``):

- admin and staff: every applicant;
- client: only the applicants its key registered or was linked to (a second
  partner app for the same person, ``applicant_clients``); others are 404 to it;
- reporter: none (the routes refuse the role with 403 before this is asked).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from service.core import scope
from service.core.auth import Actor
from service.core.errors import NotFound
from service.core.i18n import msg
from service.models import Applicant
from service.models.enums import Role


async def may_read(
    session: AsyncSession, actor: Actor, applicant_id: str, created_by_key_id: str | None
) -> bool:
    """``Actor.may_read_applicant`` for one applicant whose registering key is known; the
    link table is read only for a client that did not register it."""
    if actor.may_read_applicant(created_by_key_id):
        return True
    return actor.role is Role.client and await scope.is_linked(session, actor, applicant_id)


def applicant_not_found() -> NotFound:
    return NotFound(msg("applicant.not_found", "No applicant with this id."))


async def get_readable(session: AsyncSession, actor: Actor, applicant_id: str) -> Applicant:
    """The applicant, or 404 when it does not exist or ``actor`` may not see it."""
    applicant = await scope.readable_applicant(session, actor, applicant_id)
    if applicant is None:
        raise applicant_not_found()
    return applicant
