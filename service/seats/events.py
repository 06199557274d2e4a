"""The enrollment audit trail: one append-only row per status change.

Every status change writes its event here, in the transaction of the change.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Enrollment, EnrollmentEvent
from service.models.base import utcnow
from service.models.enums import EnrollmentStatus

SYSTEM_ACTOR = "system"


def record_event(
    session: AsyncSession,
    enrollment: Enrollment,
    *,
    from_status: str | None,
    to_status: str,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> EnrollmentEvent:
    """Add the event for a status change; it commits with the change or not at all.
    ``at`` defaults to now (an expiry is recorded at the instant it was due)."""
    event = EnrollmentEvent(
        enrollment_id=enrollment.id,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        at=at or utcnow(),
        reason=reason,
    )
    session.add(event)
    return event


async def record_expiries(session: AsyncSession, expired: Sequence[Any], *, reason: str) -> None:
    """The audit rows of offers a set-based UPDATE expired, in one multi-row INSERT:
    ``offered → expired`` by ``system``, each at its own ``offer_expires_at``."""
    if not expired:
        return
    await session.execute(
        insert(EnrollmentEvent).values(
            [
                {
                    "enrollment_id": row.id,
                    "from_status": EnrollmentStatus.offered,
                    "to_status": EnrollmentStatus.expired,
                    "actor": SYSTEM_ACTOR,
                    "at": row.offer_expires_at,
                    "reason": reason,
                }
                for row in expired
            ]
        )
    )
