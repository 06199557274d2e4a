"""Arranging outcome tests: completions of a given age, and the outcome payloads."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Cohort, Enrollment, Event
from service.models.base import utcnow
from tests.factories import make_applicant, make_certificate, make_cohort, make_enrollment

URL = "/api/v1/enrollments/{}/outcomes"
PERSONAL = ("cnic", "full_name", "phone", "email", "date_of_birth")


def outcome(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"follow_up": "6m", "status": "employed", "source": "phone"}
    body.update(overrides)
    return body


async def cohort(session: AsyncSession, **kwargs: Any) -> Cohort:
    kwargs.setdefault("status", "in_progress")
    kwargs.setdefault("capacity", 500)
    return await make_cohort(session, **kwargs)


async def completer(
    session: AsyncSession,
    *,
    days_ago: float = 0,
    in_cohort: Cohort | None = None,
    client_key_id: str | None = None,
    status: str = "completed",
    **applicant: Any,
) -> Enrollment:
    """A completion (with its certificate) ``days_ago`` days before now."""
    where = in_cohort or await cohort(session)
    person = await make_applicant(session, created_by_key_id=client_key_id, **applicant)
    enrollment = await make_enrollment(session, where, person, status=status, score=90)
    if status == "completed":
        await make_certificate(session, enrollment)
    if days_ago:
        enrollment.completed_at = utcnow() - timedelta(days=days_ago)
        await session.flush()
    return enrollment


async def events_of(session: AsyncSession, type_: str) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Event.data).where(Event.type == type_).order_by(Event.seq))
    return [json.loads(d) for d in rows]
