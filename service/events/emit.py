"""Write an event in the caller's transaction (the outbox)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.events.types import DATA_KEYS, EVENT_TYPES
from service.models import Event
from service.models.base import new_id, utcnow


def emit(
    session: AsyncSession,
    type_: str,
    data: dict[str, Any],
    *,
    centre_id: str | None = None,
    at: datetime | None = None,
) -> Event:
    """Add one event; it commits with the change that caused it or not at all.

    ``data`` takes only the contract's thin keys (``DATA_KEYS``): never a CNIC,
    name, phone or email. ``data["applicant_id"]`` decides which client keys see
    it; ``centre_id`` (the cohort's centre *id*) which staff keys do.
    Changes to applicants, enrollments, certificates and cohorts are emitted by
    database triggers already (migration 0004); call this for any other change.
    """
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}: add it to service.events.types")
    unknown = set(data) - DATA_KEYS
    if unknown:
        raise ValueError(f"event data keys not allowed: {sorted(unknown)}")
    event = Event(
        id=new_id(),
        type=type_,
        occurred_at=at or utcnow(),
        data=json.dumps(data, default=str, separators=(",", ":")),
        applicant_id=data.get("applicant_id"),
        centre_id=centre_id,
    )
    session.add(event)
    return event
