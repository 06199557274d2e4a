"""The enrollment audit trail: one append-only row per status change.

Every status change writes its event here, in the transaction of the change.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Enrollment, EnrollmentEvent
from service.models.base import utcnow

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
