"""API keys as bearer tokens, the calling actor, and role dependencies.

Tokens are random, shown once at creation, and stored only as their SHA-256.
Every request looks its key up again, so a revocation takes effect at once in
every process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.db import SessionDep, execute_standalone
from service.core.errors import Forbidden, Unauthorized
from service.core.i18n import msg
from service.models import ApiKey
from service.models.api_key import api_key_centres
from service.models.enums import Role

TOKEN_PREFIX = "enr_"  # noqa: S105 - a public marker, not a secret


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: the API key's id, name, role and (for staff) centre scope."""

    key_id: str
    name: str
    role: Role
    # Centre ids a staff key is limited to; None means every centre.
    centre_ids: frozenset[str] | None = None

    # The scoping questions, each answered here once. Their SQL twins (for lists)
    # are in ``service.core.scope``, built from the same fields.

    def may_act_on_centre(self, centre_id: str) -> bool:
        """May this key act on a cohort of this centre (and list its enrollments)?

        Only staff keys are limited to centres (their ``centre_ids``, None for
        all); admin keys act everywhere. Client keys are not tied to a centre:
        what they may touch is limited by ``may_read_applicant`` instead, and
        the role dependencies keep reporters out of every cohort action.
        """
        return (
            self.role is not Role.staff or self.centre_ids is None or (centre_id in self.centre_ids)
        )

    def may_read_applicant(self, registered_by_key_id: str | None) -> bool:
        """May this key read an applicant registered by ``registered_by_key_id``?

        Admin and staff: every applicant; a client: only those its key
        registered; a reporter: none. A client linked to the applicant as a second
        partner app is asked of the database: ``service.applicants.access.may_read``.
        """
        if self.is_staff_or_admin:
            return True
        return self.role is Role.client and registered_by_key_id == self.key_id

    @property
    def is_staff_or_admin(self) -> bool:
        return self.role in (Role.admin, Role.staff)


_keys: Table = ApiKey.__table__  # type: ignore[assignment]

# One round trip per request: the key and its centres (one row per centre,
# or one row with a NULL centre for an unscoped key).
_KEY_BY_HASH = (
    select(_keys.c.id, _keys.c.name, _keys.c.role, _keys.c.token_hash, api_key_centres.c.centre_id)
    .select_from(_keys.outerjoin(api_key_centres, api_key_centres.c.api_key_id == _keys.c.id))
    .where(_keys.c.token_hash == bindparam("digest"), _keys.c.revoked_at.is_(None))
)


async def authenticate(session: AsyncSession, authorization: str | None) -> Actor:
    if not authorization:
        raise Unauthorized()
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(msg("auth.scheme", "Use 'Authorization: Bearer <token>'."))
    digest = hash_token(token)
    # Outside the request's transaction on PostgreSQL: no BEGIN just to read the key.
    rows = (await execute_standalone(session, _KEY_BY_HASH, {"digest": digest})).all()
    # The lookup is by hash; compare again in constant time all the same.
    if not rows or not hmac.compare_digest(rows[0].token_hash, digest):
        raise Unauthorized(msg("auth.token_unknown", "The token is unknown or revoked."))
    key = rows[0]
    centres = frozenset(row.centre_id for row in rows if row.centre_id is not None)
    return Actor(key_id=key.id, name=key.name, role=Role(key.role), centre_ids=centres or None)


async def get_actor(request: Request, session: SessionDep) -> Actor:
    actor = await authenticate(session, request.headers.get("authorization"))
    request.state.actor_name = actor.name
    return actor


def require_roles(*roles: Role) -> Callable[..., Awaitable[Actor]]:
    allowed = frozenset(roles)

    async def dependency(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if actor.role not in allowed:
            raise Forbidden(
                msg("role.forbidden", "The {role} role may not do this.", role=actor.role.value)
            )
        return actor

    return dependency


AnyActor = Annotated[Actor, Depends(get_actor)]
AdminActor = Annotated[Actor, Depends(require_roles(Role.admin))]
StaffActor = Annotated[Actor, Depends(require_roles(Role.admin, Role.staff))]
RegistrarActor = Annotated[Actor, Depends(require_roles(Role.admin, Role.staff, Role.client))]
ReportActor = Annotated[Actor, Depends(require_roles(Role.admin, Role.staff, Role.reporter))]
