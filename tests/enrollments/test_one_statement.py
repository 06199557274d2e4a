"""PostgreSQL's one-statement enrollment: it only acts on the rules it was decided on."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.enrollments import enroll_repository as repository
from service.models import Cohort, Enrollment, EnrollmentEvent
from service.models.base import new_id, utcnow
from tests.factories import auth, make_applicant, make_cohort, make_key


async def _counts(session: AsyncSession, cohort_id: str) -> tuple[int, int, int, int]:
    cohort = (
        await session.execute(
            select(Cohort.seats_taken, Cohort.waitlist_length, Cohort.queue_seq).where(
                Cohort.id == cohort_id
            )
        )
    ).one()
    rows = await session.scalar(
        select(func.count()).select_from(Enrollment).where(Enrollment.cohort_id == cohort_id)
    )
    return (cohort.seats_taken, cohort.waitlist_length, cohort.queue_seq, int(rows or 0))


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "stale",
    [
        {"min_age": 30},
        {"max_age": 40},
        {"status": "in_progress"},
        {"start_date_shift": 400},
        {"centre_id": "another-centre"},
    ],
)
async def test_a_stale_decision_changes_nothing(
    session: AsyncSession, stale: dict[str, object]
) -> None:
    """If the cohort's rules changed between the unlocked read and the statement,
    the statement matches no cohort row: no seat, no enrollment, no event."""
    cohort = await make_cohort(session, capacity=5)
    applicant = await make_applicant(session)
    found = await repository.snapshot(session, cohort.id, applicant.id, utcnow())
    assert found is not None
    assert found.cohort is not None
    snap = found.cohort
    # Change the cohort behind the snapshot's back (what a concurrent PATCH does).
    if "start_date_shift" in stale:
        changes: dict[str, object] = {
            "start_date": cohort.start_date - timedelta(days=int(str(stale["start_date_shift"])))
        }
    elif "centre_id" in stale:
        snap = dataclasses.replace(snap, centre_id=str(stale["centre_id"]))
        changes = {}
    else:
        changes = dict(stale)
    if changes:
        await session.execute(update(Cohort).where(Cohort.id == cohort.id).values(**changes))
    before = await _counts(session, cohort.id)
    events_before = await session.scalar(select(func.count()).select_from(EnrollmentEvent))
    row = await repository.enroll_in_one_statement(
        session,
        snap,
        enrollment_id=new_id(),
        applicant_id=applicant.id,
        key_id=None,  # type: ignore[arg-type]
        actor_name="test",
        at=utcnow(),
    )
    assert row is None
    assert await _counts(session, cohort.id) == before
    assert await session.scalar(select(func.count()).select_from(EnrollmentEvent)) == events_before


async def test_a_changed_cohort_is_decided_again_under_the_lock(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Through the API (the one-statement path on PostgreSQL, the locked path on SQLite):
    seat, then waitlist, each with exactly one event; a cancelled cohort refuses with 409."""
    token = await make_key(session, "admin")
    cohort = await make_cohort(session, capacity=1)
    first, second = await make_applicant(session), await make_applicant(session)

    async def enrol(applicant_id: str) -> httpx.Response:
        return await client.post(
            f"/api/v1/cohorts/{cohort.id}/enrollments",
            json={"applicant_id": applicant_id},
            headers=auth(token),
        )

    r = await enrol(first.id)
    assert r.status_code == 201
    assert r.json()["status"] == "enrolled"
    events = await session.scalar(
        select(func.count())
        .select_from(EnrollmentEvent)
        .where(EnrollmentEvent.enrollment_id == r.json()["id"])
    )
    assert events == 1
    r = await enrol(second.id)
    assert r.status_code == 201
    assert (r.json()["status"], r.json()["waitlist_position"]) == ("waitlisted", 1)
    await session.execute(update(Cohort).where(Cohort.id == cohort.id).values(status="cancelled"))
    third = await make_applicant(session)
    r = await enrol(third.id)
    assert r.status_code == 409
    assert r.json()["title"] == "Cohort not open"
