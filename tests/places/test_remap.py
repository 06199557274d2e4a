"""Applicants registered before the rule: the migration, ``places unmatched`` and ``places map``.

The breakdown cube (PostgreSQL) is keyed on district text: every remapping
must leave it equal to a recount from the base rows, and move counts between
districts without changing any total.
"""

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.db import Database
from service.models import Applicant
from tests.conftest import downgrade, migrate
from tests.factories import make_applicant, make_certificate, make_cohort, make_enrollment
from tests.reports.helpers import assert_counters_exact, expected_breakdown_counts
from tests.test_cli import run_cli

# (province, district text as stored before the rule) → what the migration stores.
LEGACY = {
    ("punjab", "lahore"): "Lahore",
    ("punjab", "LHR District"): "Lahore",
    ("punjab", " D.G. Khan "): "Dera Ghazi Khan",
    ("punjab", "لاہور"): "Lahore",
    ("sindh", "Nawabshah"): "Shaheed Benazirabad",
    ("punjab", "Lahore"): "Lahore",
    # Left alone: several districts, a typo, a district of another province.
    ("sindh", "Karachi"): "Karachi",
    ("punjab", "Lahoor"): "Lahoor",
    ("kp", "Lahore"): "Lahore",
}


async def _arrange(session: AsyncSession) -> None:
    """Two applicants per legacy text, each enrolled; one of them completed and certified."""
    cohort = await make_cohort(session, capacity=100)
    for (province, text), _ in LEGACY.items():
        for done in (False, True):
            applicant = await make_applicant(session, province=province, district=text)
            status = "completed" if done else "enrolled"
            enrollment = await make_enrollment(session, cohort, applicant, status=status)
            if done:
                await make_certificate(session, enrollment)


def _without_district(cube: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """The cube summed over district: what no remapping may change."""
    out: Counter[tuple[Any, ...]] = Counter()
    for (cohort, metric, day, province, _district, gender, age), n in cube.items():
        out[(cohort, metric, day, province, gender, age)] += n
    return out


async def _districts(session: AsyncSession) -> Counter[tuple[str, str]]:
    rows = await session.execute(select(Applicant.province, Applicant.district))
    return Counter((p, d) for p, d in rows)


async def test_migration_maps_unambiguous_text_and_keeps_reports_exact(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    # Arranged with today's models (the ORM knows only the head schema), then taken back
    # to before the districts existed: the text stays as it was typed.
    arranging = Database.from_url(url)
    try:
        async with arranging.sessionmaker() as session:
            await _arrange(session)
            await session.commit()
    finally:
        await arranging.dispose()
    await asyncio.to_thread(downgrade, url, "0003_breakdown_counts")
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            before = _without_district(await expected_breakdown_counts(session))
        await asyncio.to_thread(migrate, url, "head")
        async with db.sessionmaker() as session:
            expected: Counter[tuple[str, str]] = Counter()
            for (province, _), name in LEGACY.items():
                expected[(province, name)] += 2
            assert await _districts(session) == expected
            await assert_counters_exact(session)  # the cube too, on PostgreSQL
            assert _without_district(await expected_breakdown_counts(session)) == before
    finally:
        await db.dispose()


async def test_cli_lists_unmatched_text_and_maps_it(fresh_database_url: str) -> None:
    url = fresh_database_url
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            await _arrange(session)
            await session.commit()
            before = _without_district(await expected_breakdown_counts(session))

        listed = await asyncio.to_thread(run_cli, url, "places", "unmatched")
        assert listed.returncode == 0, listed.stderr
        rows = [line.split("\t") for line in listed.stdout.splitlines()]
        # Everything but canonical names in their own province; most frequent first.
        assert {text: int(n) for text, n in rows} == {
            "lahore": 2,
            "LHR District": 2,
            " D.G. Khan ": 2,
            "لاہور": 2,
            "Nawabshah": 2,
            "Karachi": 2,
            "Lahoor": 2,
            "Lahore": 2,  # the two in kp
        }
        assert "8 texts, 16 applicants unmatched" in listed.stderr

        mapped = await asyncio.to_thread(
            run_cli, url, "places", "map", "Karachi", "sd-karachi-south"
        )
        assert mapped.returncode == 0, mapped.stderr
        assert mapped.stdout.strip() == (
            "mapped 2 applicants to Karachi South (sd-karachi-south, sindh)"
        )
        # "Lahore" is also the text of two kp applicants: those are left, and said so.
        partial = await asyncio.to_thread(run_cli, url, "places", "map", "Lahore", "pb-lahore")
        assert partial.returncode == 1
        assert "left unchanged: 2 in kp" in partial.stderr
        unknown = await asyncio.to_thread(run_cli, url, "places", "map", "Lahoor", "pb-nowhere")
        assert unknown.returncode == 2
        assert "No district with code 'pb-nowhere'." in unknown.stderr

        async with db.sessionmaker() as session:
            districts = await _districts(session)
            assert districts[("sindh", "Karachi South")] == 2
            assert districts[("sindh", "Karachi")] == 0
            assert districts[("kp", "Lahore")] == 2
            await assert_counters_exact(session)
            assert _without_district(await expected_breakdown_counts(session)) == before
    finally:
        await db.dispose()
