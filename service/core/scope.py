"""What an actor may see, as SQL: the twins of ``Actor``'s scoping methods, for lists.

One filter per question, built from the same fields as the Python check:

- ``applicants_readable_by`` ↔ ``Actor.may_read_applicant``: admin and staff
  every applicant, a client the applicants its key registered or was linked to
  (``applicant_clients``), a reporter none;
- ``centre_in_scope`` ↔ ``Actor.may_act_on_centre``: staff keys only their centres;
- ``enrollments_visible_to``: an enrollment is visible when both hold (its
  cohort's centre and its applicant), so staff see their centres' enrollments and
  a client its own applicants'.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from service.core.auth import Actor
from service.models import Applicant, ApplicantClient, Cohort
from service.models.enums import Role


def applicants_readable_by(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause limiting applicants to those ``actor`` may read."""
    if actor.is_staff_or_admin:
        return true()
    if actor.role is Role.client:
        linked = exists().where(
            ApplicantClient.applicant_id == Applicant.id, ApplicantClient.key_id == actor.key_id
        )
        return or_(Applicant.created_by_key_id == actor.key_id, linked)
    return false()


def centre_in_scope(actor: Actor, centre_id: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """A WHERE clause limiting ``centre_id`` to the centres ``actor`` may act on."""
    if actor.role is not Role.staff or actor.centre_ids is None:
        return true()
    return centre_id.in_(actor.centre_ids)


def enrollments_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Which enrollments ``actor`` may see (needs Cohort and Applicant joined)."""
    if actor.role is Role.reporter:
        return false()
    return centre_in_scope(actor, Cohort.centre_id) & applicants_readable_by(actor)


async def readable_applicant(
    session: AsyncSession, actor: Actor, applicant_id: str
) -> Applicant | None:
    """The applicant, if it exists and ``actor`` may read it."""
    return await session.scalar(
        select(Applicant).where(Applicant.id == applicant_id, applicants_readable_by(actor))
    )


async def is_linked(session: AsyncSession, actor: Actor, applicant_id: str) -> bool:
    """Whether ``actor``'s key was linked to the applicant as a second partner app."""
    found = await session.scalar(
        select(ApplicantClient.key_id).where(
            ApplicantClient.applicant_id == applicant_id, ApplicantClient.key_id == actor.key_id
        )
    )
    return found is not None
