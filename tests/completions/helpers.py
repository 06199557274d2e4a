"""Arranging completion tests: cohorts in progress with enrolled applicants."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Applicant, Cohort, Enrollment, EnrollmentEvent
from service.models.base import new_id, utcnow
from tests.factories import make_applicant, make_cohort, make_enrollment, random_cnic

CODE_RE = re.compile(r"^(ZTE|ALI|[A-Z]{3})-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
PROBLEM = "application/problem+json"


async def in_progress_cohort(session: AsyncSession, **kwargs: Any) -> Cohort:
    kwargs.setdefault("status", "in_progress")
    return await make_cohort(session, **kwargs)


async def enrolled(session: AsyncSession, cohort: Cohort, **applicant: Any) -> Enrollment:
    person = await make_applicant(session, **applicant)
    return await make_enrollment(session, cohort, person)


async def events_of(session: AsyncSession, enrollment_id: str) -> list[EnrollmentEvent]:
    rows = await session.scalars(
        select(EnrollmentEvent)
        .where(EnrollmentEvent.enrollment_id == enrollment_id)
        .order_by(EnrollmentEvent.id)
    )
    return list(rows)


async def many_enrolled(session: AsyncSession, cohort: Cohort, count: int) -> list[tuple[str, str]]:
    """``count`` enrolled applicants, inserted set-based; returns (enrollment_id, cnic) pairs."""
    now = utcnow()
    people = [
        {
            "id": new_id(),
            "cnic": random_cnic(),
            "full_name": f"Trainee {i}",
            "date_of_birth": now.date().replace(year=2000),
            "gender": "female",
            "email": f"t{i}@example.pk",
            "phone": f"+92300{i:07d}",
            "province": "punjab",
            "district": "Lahore",
            "education_level": "bachelor",
            "consent_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    # Random CNICs may collide in large batches; keep them distinct.
    seen: set[str] = set()
    for p in people:
        while p["cnic"] in seen:
            p["cnic"] = random_cnic()
        seen.add(str(p["cnic"]))
    await session.execute(insert(Applicant), people)
    enrollments = [
        {
            "id": new_id(),
            "cohort_id": cohort.id,
            "applicant_id": p["id"],
            "status": "enrolled",
            "queue_no": cohort.queue_seq + i + 1,
            "created_at": now,
            "updated_at": now,
        }
        for i, p in enumerate(people)
    ]
    await session.execute(insert(Enrollment), enrollments)
    cohort.queue_seq += count
    cohort.seats_taken += count
    await session.flush()
    return [(str(e["id"]), str(p["cnic"])) for e, p in zip(enrollments, people, strict=True)]
