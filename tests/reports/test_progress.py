"""GET /api/v1/reports/progress against the hand-counted world of tests/reports/fixtures.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key
from tests.reports.fixtures import add_target, build_world


def by_code(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["code"]: item for item in items}


async def test_progress_every_number(client: httpx.AsyncClient, session: AsyncSession) -> None:
    world = await build_world(session)
    today = world.today
    await add_target(
        session,
        "zte-small",
        metric="trainees",
        goal=10,
        programmes=["zte-ict"],
        deadline=today + timedelta(days=30),
    )
    await add_target(
        session,
        "ali-completions",
        metric="completions",
        goal=10,
        programmes=["alibaba-ecommerce"],
        deadline=today + timedelta(days=10),
    )
    await add_target(
        session,
        "all-enrol",
        metric="enrollments",
        goal=20,
        programmes=["alibaba-ecommerce", "zte-ict"],
    )
    r = await client.get(
        "/api/v1/reports/progress", headers=auth(await make_key(session, "reporter"))
    )
    assert r.status_code == 200, r.text
    body = r.json()
    targets = by_code(body["targets"])
    assert list(targets) == ["zte-100k", "zte-small", "ali-completions", "all-enrol"]

    # Trainees of ZTE: A (two ZTE completions, counted once) and B; C's certificate is revoked.
    assert targets["zte-100k"] == {
        "code": "zte-100k",
        "name": targets["zte-100k"]["name"],
        "goal": 100000,
        "metric": "trainees",
        "programmes": ["zte-ict"],
        "deadline": None,
        "achieved": 2,
        "percent": 0.0,
        "in_training": 1,  # D
        "waitlisted": 1,  # E
        "completions_last_30_days": 2,  # A twice; B is 40 days old, C revoked
        "daily_rate": pytest.approx(1 / 30),  # A became a trainee 5 days ago; B 40 days ago
        # 99,998 more at 1/30 a day is beyond the year 9999: no date.
        "projected_date": None,
        "required_daily_rate": None,
    }
    small = targets["zte-small"]
    assert (small["achieved"], small["percent"]) == (2, 20.0)
    assert small["daily_rate"] == pytest.approx(1 / 30)
    assert small["projected_date"] == (today + timedelta(days=8 * 30)).isoformat()
    assert small["required_daily_rate"] == pytest.approx(8 / 30)

    ali = targets["ali-completions"]
    assert (ali["achieved"], ali["percent"], ali["in_training"], ali["waitlisted"]) == (
        1,
        10.0,
        1,
        1,
    )
    assert ali["completions_last_30_days"] == 1
    assert ali["daily_rate"] == pytest.approx(1 / 30)
    assert ali["projected_date"] == (today + timedelta(days=270)).isoformat()
    assert ali["required_daily_rate"] == pytest.approx(0.9)

    # Seat-holding enrollments: ZTE A, A, B, C (completed), D (enrolled), H (failed);
    # Alibaba A (completed), I (enrolled). All created today, so all in the window.
    both = targets["all-enrol"]
    assert (both["achieved"], both["percent"], both["in_training"], both["waitlisted"]) == (
        8,
        40.0,
        2,
        2,
    )
    assert both["completions_last_30_days"] == 3
    assert both["daily_rate"] == pytest.approx(8 / 30)
    assert both["projected_date"] == (today + timedelta(days=45)).isoformat()
    assert both["required_daily_rate"] is None

    programmes = by_code(body["programmes"])
    assert programmes["zte-ict"] == {
        "code": "zte-ict",
        "applicants": 8,  # A B C D E F G H
        "enrolled": 1,
        "waitlisted": 1,
        "completed": 3,  # A twice, B (C revoked)
        "failed": 1,
        "dropped": 1,
        "withdrawn": 1,
        "cancelled": 0,
        "offered": 0,
        "declined": 0,
        "expired": 0,
        "no_show": 0,
    }
    assert programmes["alibaba-ecommerce"] == {
        "code": "alibaba-ecommerce",
        "applicants": 3,
        "enrolled": 1,
        "waitlisted": 1,
        "completed": 1,
        "failed": 0,
        "dropped": 0,
        "withdrawn": 0,
        "cancelled": 0,
        "offered": 0,
        "declined": 0,
        "expired": 0,
        "no_show": 0,
    }


async def test_goal_met_has_no_projection(client: httpx.AsyncClient, session: AsyncSession) -> None:
    world = await build_world(session)
    await add_target(
        session,
        "tiny",
        metric="completions",
        goal=2,
        programmes=["zte-ict"],
        deadline=world.today - timedelta(days=1),
    )
    r = await client.get("/api/v1/reports/progress", headers=auth(await make_key(session, "staff")))
    tiny = by_code(r.json()["targets"])["tiny"]
    assert (tiny["achieved"], tiny["percent"]) == (3, 150.0)
    assert tiny["projected_date"] is None
    assert tiny["required_daily_rate"] == 0


async def test_empty_database(client: httpx.AsyncClient, session: AsyncSession) -> None:
    r = await client.get("/api/v1/reports/progress", headers=auth(await make_key(session, "admin")))
    assert r.status_code == 200
    target = by_code(r.json()["targets"])["zte-100k"]
    assert target["achieved"] == 0
    assert target["daily_rate"] == 0
    assert target["projected_date"] is None
