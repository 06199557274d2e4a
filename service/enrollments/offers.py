"""Waitlist offers and no-shows: accept, decline, no-show.

An offer is made by ``service.seats`` when a seat frees in an ``offer``-mode
cohort. It is expired from the instant ``offer_expires_at`` (inclusive: at
that instant it can no longer be accepted), whether or not the sweep or an
earlier request has materialised it; each action here locks the cohort,
which materialises its due offers first, and decides on the status as read
then.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import Conflict
from service.core.i18n import msg
from service.core.transitions import InvalidTransition
from service.enrollments.schemas import EnrollmentRead
from service.enrollments.service import leave, locked_enrollment, read
from service.models.base import utcnow
from service.models.enums import EnrollmentStatus
from service.seats import service as seats

E = EnrollmentStatus


class OfferExpired(Conflict):
    title, slug = "Offer expired", "offer-expired"


def _check_current_offer(current: str, verb: str) -> None:
    """``verb`` is ``accepted`` or ``declined``."""
    if current == E.expired:
        raise OfferExpired(
            msg(
                "offer.expired_accept",
                "The offer expired; it can no longer be accepted. The applicant may enrol again.",
            )
            if verb == "accepted"
            else msg(
                "offer.expired_decline",
                "The offer expired; it can no longer be declined. The applicant may enrol again.",
            ),
            extra={"current_status": current},
        )
    if current != E.offered:
        raise InvalidTransition(
            msg(
                "offer.cannot_accept",
                "An enrollment that is {status} cannot be accepted; it must be offered.",
                status=current,
            )
            if verb == "accepted"
            else msg(
                "offer.cannot_decline",
                "An enrollment that is {status} cannot be declined; it must be offered.",
                status=current,
            ),
            current_status=current,
        )


async def accept(session: AsyncSession, actor: Actor, enrollment_id: str) -> EnrollmentRead:
    """offered → enrolled, before ``offer_expires_at``; the offer's seat is kept."""
    cohort, enrollment = await locked_enrollment(session, actor, enrollment_id)
    _check_current_offer(seats.status_at(enrollment, utcnow()), "accepted")
    await seats.accept(session, cohort, enrollment, actor=actor.name)
    return await read(session, enrollment_id)


async def decline(
    session: AsyncSession, actor: Actor, enrollment_id: str, *, reason: str | None = None
) -> EnrollmentRead:
    """offered → declined; the seat is offered to the next in line."""
    cohort, enrollment = await locked_enrollment(session, actor, enrollment_id)
    _check_current_offer(seats.status_at(enrollment, utcnow()), "declined")
    await seats.leave(session, cohort, enrollment, E.declined, actor=actor.name, reason=reason)
    return await read(session, enrollment_id)


async def no_show(
    session: AsyncSession, actor: Actor, enrollment_id: str, *, reason: str | None = None
) -> EnrollmentRead:
    """enrolled → no_show (staff, admin) while the cohort is open or in progress; the
    seat frees like a drop."""
    return await leave(session, actor, enrollment_id, E.no_show, (E.enrolled,), reason)
