"""GET /api/v1/reports/breakdown: every dimension, metric, filter and the small-count rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.reports.repository import breakdown as repository
from tests.factories import auth, make_key, programme
from tests.reports.fixtures import build_world

URL = "/api/v1/reports/breakdown"


async def rows(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    r = await client.get(URL, params=params, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dimension"] == params["dimension"]
    assert body["metric"] == params.get("metric", "completions")
    return {row["key"]: row["count"] for row in body["rows"]}, [row["key"] for row in body["rows"]]


# Live completions: A at zte-isb-1 (5 days ago), zte-online-1 (2), ali-online-1 (3);
# B at zte-isb-1 (40 days ago). C's is revoked.
EXPECTED_STAFF = {
    "province": {"punjab": 3, "sindh": 1},
    "district": {"Karachi": 1, "Lahore": 3},
    "gender": {"female": 3, "male": 1},
    "age_band": {"25-29": 3, "30-35": 1},
    "track": {"5g": 1, "b2b": 1, "cloud": 2},
    "centre": {"isb-gitc": 2, "online": 2},
    "cohort": {"ali-online-1": 1, "zte-isb-1": 2, "zte-online-1": 1},
}


@pytest.mark.parametrize("dimension", sorted(EXPECTED_STAFF))
async def test_each_dimension_for_staff(
    client: httpx.AsyncClient, session: AsyncSession, dimension: str
) -> None:
    await build_world(session)
    headers = auth(await make_key(session, "staff"))
    counts, keys = await rows(client, headers, dimension=dimension)
    assert counts == EXPECTED_STAFF[dimension]
    assert keys == sorted(keys)


async def test_month_of_completion_and_enrollment(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    headers = auth(await make_key(session, "admin"))
    months: dict[str, int] = {}
    for ago in (5, 2, 3, 40):
        month = (world.today - timedelta(days=ago)).strftime("%Y-%m")
        months[month] = months.get(month, 0) + 1
    counts, _ = await rows(client, headers, dimension="month")
    assert counts == months
    # Enrollments are dated by creation: all 8 seat-holding rows were created today.
    counts, _ = await rows(client, headers, dimension="month", metric="enrollments")
    assert counts == {world.today.strftime("%Y-%m"): 8}


async def test_trainees_count_people_once(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await build_world(session)
    headers = auth(await make_key(session, "admin"))
    counts, _ = await rows(client, headers, dimension="gender", metric="trainees")
    assert counts == {"female": 1, "male": 1}  # A (three completions) and B
    counts, _ = await rows(
        client, headers, dimension="province", metric="trainees", programme="zte-ict"
    )
    assert counts == {"punjab": 1, "sindh": 1}


async def test_enrollments_metric_and_filters(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    headers = auth(await make_key(session, "admin"))
    # Seat-holding: ZTE A A B C D H, Alibaba A I.
    counts, _ = await rows(client, headers, dimension="cohort", metric="enrollments")
    assert counts == {"ali-online-1": 2, "zte-isb-1": 5, "zte-online-1": 1}
    counts, _ = await rows(client, headers, dimension="cohort", programme="alibaba-ecommerce")
    assert counts == {"ali-online-1": 1}
    # from/to are inclusive days of completion.
    counts, _ = await rows(
        client,
        headers,
        dimension="cohort",
        **{
            "from": (world.today - timedelta(days=5)).isoformat(),
            "to": (world.today - timedelta(days=3)).isoformat(),
        },
    )
    assert counts == {"ali-online-1": 1, "zte-isb-1": 1}


async def test_reporter_sees_small_counts_suppressed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await build_world(session)
    reporter = auth(await make_key(session, "reporter"))
    counts, _ = await rows(client, reporter, dimension="province")
    assert counts == {"punjab": "<5", "sindh": "<5"}
    counts, _ = await rows(client, reporter, dimension="cohort", metric="enrollments")
    assert counts == {"ali-online-1": "<5", "zte-isb-1": 5, "zte-online-1": "<5"}
    staff = auth(await make_key(session, "staff"))
    counts, _ = await rows(client, staff, dimension="province")
    assert counts == {"punjab": 3, "sindh": 1}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dimension": "shoe_size"}, "dimension"),
        ({}, "dimension"),
        ({"dimension": "province", "metric": "smiles"}, "metric"),
        ({"dimension": "province", "programme": "nope"}, "programme"),
        ({"dimension": "province", "from": "2026-13-01"}, "from"),
        ({"dimension": "province", "from": "2026-02-01", "to": "2026-01-01"}, "from"),
    ],
)
async def test_bad_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, params: dict[str, str], field: str
) -> None:
    r = await client.get(URL, params=params, headers=auth(await make_key(session, "reporter")))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]


@pytest.mark.postgres_only
async def test_counts_agree_with_the_base_rows_for_every_query(session: AsyncSession) -> None:
    """PostgreSQL answers enrollments and completions from report_breakdown_counts;
    for every dimension, metric and filter it must say what the base rows say."""
    world = await build_world(session)
    zte = await programme(session, "zte-ict")
    await session.flush()
    today = date.today()
    filters: list[dict[str, Any]] = [
        {},
        {"programme_id": zte.id},
        {"date_from": today - timedelta(days=4)},
        {"date_to": today - timedelta(days=3), "programme_id": zte.id},
        {"date_from": today - timedelta(days=60), "date_to": today},
    ]
    checked = 0
    for dimension in [*EXPECTED_STAFF, "month"]:
        for metric in ("enrollments", "completions"):
            for f in filters:
                query = repository.BreakdownQuery(dimension, metric, **f)
                counted = await repository.breakdown_from_counts(session, query)
                base = await repository.breakdown_from_rows(session, "postgresql", query)
                assert counted == base, query
                checked += bool(base)
    assert checked > 40  # most of the queries have rows to compare
    assert world.enrollments  # the world has rows at all
