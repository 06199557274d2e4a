"""Each scoping question has one answer: the Actor method and its SQL twin agree for every role."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core import scope
from service.core.auth import Actor, hash_token
from service.models import ApiKey, Applicant, Cohort, Enrollment
from service.models.enums import Role
from tests.factories import make_applicant, make_cohort, make_enrollment, make_key


async def key(session: AsyncSession, role: str) -> str:
    """A real key's id (applicants reference the key that registered them)."""
    token = await make_key(session, role)
    found = await session.scalar(select(ApiKey.id).where(ApiKey.token_hash == hash_token(token)))
    assert found is not None
    return found


@pytest.fixture
async def world(session: AsyncSession) -> tuple[list[Actor], list[Enrollment]]:
    client_a, client_b = await key(session, "client"), await key(session, "client")
    isb = await make_cohort(session)
    online = await make_cohort(session, centre_code="online")
    enrollments = []
    for registered_by in (client_a, client_b, None):
        applicant = await make_applicant(session, created_by_key_id=registered_by)
        for cohort in (isb, online):
            enrollments.append(await make_enrollment(session, cohort, applicant))
    actors = [
        Actor("admin", "admin", Role.admin),
        Actor("staff", "staff", Role.staff),
        Actor("staff-isb", "staff-isb", Role.staff, frozenset({isb.centre_id})),
        Actor("staff-none", "staff-none", Role.staff, frozenset({"no-such-centre"})),
        Actor(client_a, "client-a", Role.client),
        Actor(client_b, "client-b", Role.client),
        Actor("reporter", "reporter", Role.reporter),
    ]
    return actors, enrollments


async def test_enrollment_visibility_sql_matches_the_actor_methods(
    session: AsyncSession, world: tuple[list[Actor], list[Enrollment]]
) -> None:
    actors, enrollments = world
    ids = [e.id for e in enrollments]
    facts = {
        row.id: (row.centre_id, row.created_by_key_id)
        for row in await session.execute(
            select(Enrollment.id, Cohort.centre_id, Applicant.created_by_key_id)
            .join(Cohort, Cohort.id == Enrollment.cohort_id)
            .join(Applicant, Applicant.id == Enrollment.applicant_id)
            .where(Enrollment.id.in_(ids))
        )
    }
    seen_counts = []
    for actor in actors:
        in_sql = set(
            await session.scalars(
                select(Enrollment.id)
                .join(Cohort, Cohort.id == Enrollment.cohort_id)
                .join(Applicant, Applicant.id == Enrollment.applicant_id)
                .where(Enrollment.id.in_(ids), scope.enrollments_visible_to(actor))
            )
        )
        in_python = {
            i
            for i, (centre_id, registered_by) in facts.items()
            if actor.may_act_on_centre(centre_id) and actor.may_read_applicant(registered_by)
        }
        assert in_sql == in_python, actor
        seen_counts.append(len(in_sql))
    # admin, staff: all 6; staff of one centre: 3; of none: 0; each client: its 2; reporter: 0.
    assert seen_counts == [6, 6, 3, 0, 2, 2, 0]


async def test_applicant_filter_matches_may_read_applicant(
    session: AsyncSession, world: tuple[list[Actor], list[Enrollment]]
) -> None:
    actors, enrollments = world
    applicant_ids = {e.applicant_id for e in enrollments}
    registered_by = {
        row.id: row.created_by_key_id
        for row in await session.execute(
            select(Applicant.id, Applicant.created_by_key_id).where(Applicant.id.in_(applicant_ids))
        )
    }
    for actor in actors:
        in_sql = set(
            await session.scalars(
                select(Applicant.id).where(
                    Applicant.id.in_(applicant_ids), scope.applicants_readable_by(actor)
                )
            )
        )
        in_python = {i for i, by in registered_by.items() if actor.may_read_applicant(by)}
        assert in_sql == in_python, actor
        for applicant_id in applicant_ids:
            found = await scope.readable_applicant(session, actor, applicant_id)
            assert (found is not None) == (applicant_id in in_python)
