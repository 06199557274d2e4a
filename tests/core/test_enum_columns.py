"""Closed vocabularies read back as enum members and refuse strays before the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Applicant, Cohort
from service.models.enums import CohortMode, CohortStatus, Gender, Province
from tests.factories import make_applicant, make_cohort


async def test_values_read_back_are_members(session: AsyncSession) -> None:
    applicant = await make_applicant(session)
    cohort = await make_cohort(session)
    session.expunge_all()

    query = select(Applicant).where(Applicant.id == applicant.id)
    row = (await session.execute(query)).scalar_one()
    assert type(row.gender) is Gender
    assert type(row.province) is Province
    status, mode = (
        await session.execute(select(Cohort.status, Cohort.mode).where(Cohort.id == cohort.id))
    ).one()
    assert status is CohortStatus.open
    assert type(mode) is CohortMode


async def test_a_string_outside_the_vocabulary_is_refused_when_bound(session: AsyncSession) -> None:
    with pytest.raises(StatementError, match="not a valid CohortStatus"):
        await session.execute(select(Cohort.id).where(Cohort.status == "opened"))
