"""Seat reads: the expiry rule as reads apply it, and waitlist positions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Enrollment
from service.models.enums import EnrollmentStatus
from service.seats import repository

E = EnrollmentStatus


def offer_due(offer_expires_at: datetime | None, now: datetime) -> bool:
    """The expiry rule: an offer is expired from the instant ``offer_expires_at``
    (inclusive), whether or not anything has materialised it yet."""
    return offer_expires_at is not None and now >= offer_expires_at


def status_at(enrollment: Enrollment, now: datetime) -> str:
    """The status every read shows: a stored offer that is due reads as ``expired``."""
    if enrollment.status == E.offered and offer_due(enrollment.offer_expires_at, now):
        return E.expired.value
    return enrollment.status


async def waitlist_positions(
    session: AsyncSession, enrollments: Sequence[Enrollment]
) -> dict[str, int]:
    """Positions in line (1..n) of the waitlisted ones among ``enrollments``, by id."""
    waitlisted = [e for e in enrollments if e.status == E.waitlisted]
    return await repository.waitlist_positions(session, waitlisted)
