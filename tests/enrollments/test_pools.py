"""Reserved seats over HTTP (contract: Reserved seats): pools on cohort create and PATCH
with their validation, placement, eligible-FIFO when a seat frees, the release at its
exact instant (with and without the scheduler job, and at /start), offers holding a
pool seat, and the invariants against the rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.db import Database
from service.models import Applicant, CohortPool, Enrollment, Event
from service.models.enums import SEAT_HOLDING_STATUSES
from service.scheduler import JOBS
from service.seats.sweep import release_pools
from tests.factories import auth, cohort_payload, make_applicant, make_key, unique

C = "/api/v1/cohorts"
E = "/api/v1/enrollments"
WOMEN = {"code": "women", "seats": 1, "rule": {"gender": ["female"]}}


async def create(client: httpx.AsyncClient, token: str, **overrides: Any) -> dict[str, Any]:
    r = await client.post(
        C, json=cohort_payload(code=unique("pools"), **overrides), headers=auth(token)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def person(session: AsyncSession, gender: str = "male", **place: Any) -> Applicant:
    return await make_applicant(session, gender=gender, **place)


async def enrol(
    client: httpx.AsyncClient, token: str, cohort_id: str, applicant: Applicant
) -> dict[str, Any]:
    r = await client.post(
        f"{C}/{cohort_id}/enrollments", json={"applicant_id": applicant.id}, headers=auth(token)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def get(client: httpx.AsyncClient, token: str, path: str) -> dict[str, Any]:
    r = await client.get(path, headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def assert_pools_consistent(session: AsyncSession, cohort_id: str) -> None:
    """Each pool's taken matches its seat-holding rows and is within its seats; seats held
    ≤ capacity."""
    pools = (
        await session.scalars(
            select(CohortPool)
            .where(CohortPool.cohort_id == cohort_id)
            .execution_options(populate_existing=True)
        )
    ).all()
    for pool in pools:
        held = await session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(
                Enrollment.cohort_id == cohort_id,
                Enrollment.pool == pool.code,
                Enrollment.status.in_(SEAT_HOLDING_STATUSES),
            )
        )
        assert pool.taken == held
        assert 0 <= pool.taken <= pool.seats


async def test_pools_on_create_and_every_representation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    reserved = [
        {"code": "women", "seats": 3, "rule": {"gender": ["female"]}},
        {"code": "quetta", "seats": 2, "rule": {"district": ["QTA"], "province": ["balochistan"]}},
    ]
    body = await create(client, token, capacity=10, reserved=reserved)
    assert body["pools"] == [
        {"code": "women", "seats": 3, "taken": 0, "available": 3, "released": False},
        {"code": "quetta", "seats": 2, "taken": 0, "available": 2, "released": False},
    ]
    assert (body["seats_taken"], body["seats_available"]) == (0, 5)
    assert (await get(client, token, f"{C}/{body['id']}"))["pools"] == body["pools"]
    listed = await get(client, token, f"{C}?centre=isb-gitc")
    [item] = [c for c in listed["items"] if c["id"] == body["id"]]
    assert item["pools"] == body["pools"]
    plain = await create(client, token)
    assert plain["pools"] == []
    stored = await session.scalar(
        select(CohortPool).where(CohortPool.cohort_id == body["id"], CohortPool.code == "quetta")
    )
    assert stored is not None
    assert '"Quetta"' in stored.rule


@pytest.mark.parametrize(
    ("reserved", "field"),
    [
        ([{"code": "w", "seats": 31, "rule": {}}], "reserved"),
        ([{"code": "w", "seats": 1, "rule": {"age": [18]}}], "reserved[0].rule.age"),
        ([{"code": "w", "seats": 1, "rule": {"gender": ["woman"]}}], "reserved[0].rule.gender[0]"),
        (
            [{"code": "w", "seats": 1, "rule": {"district": ["Lahore", "Lahorr"]}}],
            "reserved[0].rule.district[1]",
        ),
        (
            [{"code": "w", "seats": 1, "rule": {}}, {"code": "w", "seats": 1, "rule": {}}],
            "reserved[1].code",
        ),
        ([{"code": "w", "seats": 0, "rule": {}}], "reserved[0].seats"),
        ([{"code": "w", "seats": 1, "rule": {}, "release_on": "soon"}], "reserved[0].release_on"),
    ],
)
async def test_bad_reserved_is_a_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, reserved: list[Any], field: str
) -> None:
    token = await make_key(session, "admin")
    r = await client.post(C, json=cohort_payload(reserved=reserved), headers=auth(token))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_placement_and_eligible_fifo_when_seats_free(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await create(client, token, capacity=3, reserved=[WOMEN])
    m1, m2, m3 = [await person(session) for _ in range(3)]
    w1, w2 = [await person(session, "female") for _ in range(2)]
    e_m1 = await enrol(client, token, cohort["id"], m1)
    e_m2 = await enrol(client, token, cohort["id"], m2)
    assert (e_m1["status"], e_m1["pool"], e_m2["status"]) == ("enrolled", None, "enrolled")
    # The last seat is the women's: a man waits, a woman takes it.
    e_m3 = await enrol(client, token, cohort["id"], m3)
    assert (e_m3["status"], e_m3["waitlist_position"]) == ("waitlisted", 1)
    e_w1 = await enrol(client, token, cohort["id"], w1)
    assert (e_w1["status"], e_w1["pool"]) == ("enrolled", "women")
    e_w2 = await enrol(client, token, cohort["id"], w2)
    assert (e_w2["status"], e_w2["waitlist_position"]) == ("waitlisted", 2)
    c = await get(client, token, f"{C}/{cohort['id']}")
    assert c["pools"][0] == {
        "code": "women",
        "seats": 1,
        "taken": 1,
        "available": 0,
        "released": False,
    }
    assert (c["seats_taken"], c["seats_available"], c["waitlist_length"]) == (3, 0, 2)

    # A freed pool seat goes to the longest-waiting ELIGIBLE enrollment (w2, not m3).
    r = await client.post(f"{E}/{e_w1['id']}/withdraw", headers=auth(token))
    assert r.status_code == 200, r.text
    got = await get(client, token, f"{E}/{e_w2['id']}")
    assert (got["status"], got["pool"]) == ("enrolled", "women")
    assert (await get(client, token, f"{E}/{e_m3['id']}"))["waitlist_position"] == 1
    # A freed open seat goes to the longest-waiting of any kind.
    await client.post(f"{E}/{e_m1['id']}/withdraw", headers=auth(token))
    got = await get(client, token, f"{E}/{e_m3['id']}")
    assert (got["status"], got["pool"]) == ("enrolled", None)
    await assert_pools_consistent(session, cohort["id"])


async def test_a_matching_applicant_takes_an_open_seat_when_the_pool_is_full(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    two = [WOMEN, {"code": "lahore", "seats": 1, "rule": {"district": ["lahore"]}}]
    cohort = await create(client, token, capacity=4, reserved=two)
    lahori_women = [await person(session, "female", district="Lahore") for _ in range(3)]
    got = [await enrol(client, token, cohort["id"], a) for a in lahori_women]
    # First pool in order, then the second pool, then an open seat.
    assert [(e["status"], e["pool"]) for e in got] == [
        ("enrolled", "women"),
        ("enrolled", "lahore"),
        ("enrolled", None),
    ]
    man = await enrol(
        client,
        token,
        cohort["id"],
        await person(session, district="Quetta", province="balochistan"),
    )
    assert (man["status"], man["pool"]) == ("enrolled", None)
    late = await enrol(client, token, cohort["id"], await person(session, "female"))
    assert late["status"] == "waitlisted"
    await assert_pools_consistent(session, cohort["id"])


async def test_patch_reserved_and_capacity_rules(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await create(client, token, capacity=3, reserved=[WOMEN])
    url = f"{C}/{cohort['id']}"
    w = await enrol(client, token, cohort["id"], await person(session, "female"))
    for _ in range(2):
        await enrol(client, token, cohort["id"], await person(session))
    w2 = await enrol(client, token, cohort["id"], await person(session, "female"))
    assert (w["pool"], w2["status"]) == ("women", "waitlisted")
    # Removing a pool with a taken seat, or lowering it below taken: 409.
    r = await client.patch(url, json={"reserved": []}, headers=auth(token))
    assert r.status_code == 409, r.text
    # Capacity below the pools' seats: 422 naming capacity; reserved above capacity: reserved.
    r = await client.patch(
        url, json={"capacity": 4, "reserved": [WOMEN | {"seats": 5}]}, headers=auth(token)
    )
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "reserved")
    r = await client.patch(url, json={"reserved": None}, headers=auth(token))
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "reserved")
    # Raising the pool (and the capacity) gives the new pool seat to the eligible waiter.
    r = await client.patch(
        url, json={"capacity": 4, "reserved": [WOMEN | {"seats": 2}]}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    assert r.json()["pools"][0]["taken"] == 2
    assert (await get(client, token, f"{E}/{w2['id']}"))["pool"] == "women"
    r = await client.patch(url, json={"capacity": 3}, headers=auth(token))
    assert r.status_code == 409, r.text
    # Lowering a pool below its taken seats is a 409 too.
    r = await client.patch(url, json={"reserved": [WOMEN]}, headers=auth(token))
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("pool-below-taken")
    await assert_pools_consistent(session, cohort["id"])


async def test_capacity_below_the_pools_seats_names_capacity(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await create(client, token, capacity=3, reserved=[WOMEN | {"seats": 3}])
    r = await client.patch(f"{C}/{cohort['id']}", json={"capacity": 2}, headers=auth(token))
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "capacity")


@pytest.mark.parametrize("by_job", [True, False])
async def test_release_at_the_exact_instant(
    client: httpx.AsyncClient, session: AsyncSession, database: Database, by_job: bool
) -> None:
    assert ("pool_releases", release_pools) in JOBS
    token = await make_key(session, "admin")
    women = WOMEN | {"release_on": "2026-12-10"}
    with time_machine.travel(datetime(2026, 12, 1, tzinfo=UTC), tick=False):
        cohort = await create(client, token, capacity=2, reserved=[women])
        await enrol(client, token, cohort["id"], await person(session))
        waiting = await enrol(client, token, cohort["id"], await person(session))
    assert waiting["status"] == "waitlisted"
    instant = datetime(2026, 12, 10, tzinfo=UTC)
    with time_machine.travel(instant - timedelta(microseconds=1), tick=False):
        c = await get(client, token, f"{C}/{cohort['id']}")
        assert (c["pools"][0]["released"], c["pools"][0]["available"], c["seats_available"]) == (
            False,
            1,
            0,
        )
        assert await release_pools(database, instant - timedelta(microseconds=1)) == 0
    with time_machine.travel(instant, tick=False):
        c = await get(client, token, f"{C}/{cohort['id']}")
        assert (c["pools"][0]["released"], c["pools"][0]["available"], c["seats_available"]) == (
            True,
            0,
            1,
        )
        if by_job:
            assert await release_pools(database, instant) == 1
            assert await release_pools(database, instant) == 0
        else:
            # Any write that locks the cohort materialises the release first.
            late = await enrol(client, token, cohort["id"], await person(session, "female"))
            assert late["status"] == "waitlisted"
        got = await get(client, token, f"{E}/{waiting['id']}")
        assert (got["status"], got["pool"]) == ("enrolled", None)
        c = await get(client, token, f"{C}/{cohort['id']}")
        assert (c["seats_taken"], c["seats_available"]) == (2, 0)
    await assert_pools_consistent(session, cohort["id"])


async def test_start_releases_the_pools(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "admin")
    cohort = await create(client, token, capacity=2, reserved=[WOMEN])
    await enrol(client, token, cohort["id"], await person(session))
    waiting = await enrol(client, token, cohort["id"], await person(session))
    r = await client.post(f"{C}/{cohort['id']}/start", headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["pools"][0]["released"] is True
    assert (await get(client, token, f"{E}/{waiting['id']}"))["status"] == "enrolled"


async def test_an_offer_holds_the_pool_seat(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    t0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        cohort = await create(
            client, token, capacity=2, reserved=[WOMEN], waitlist_mode="offer", offer_hours=1
        )
        w1 = await enrol(client, token, cohort["id"], await person(session, "female"))
        await enrol(client, token, cohort["id"], await person(session))
        man = await enrol(client, token, cohort["id"], await person(session))
        w2 = await enrol(client, token, cohort["id"], await person(session, "female"))
        w3 = await enrol(client, token, cohort["id"], await person(session, "female"))
        await client.post(f"{E}/{w1['id']}/withdraw", headers=auth(token))
        got = await get(client, token, f"{E}/{w2['id']}")
        assert (got["status"], got["pool"]) == ("offered", "women")
        assert (await get(client, token, f"{E}/{man['id']}"))["status"] == "waitlisted"
        c = await get(client, token, f"{C}/{cohort['id']}")
        assert c["pools"][0]["taken"] == 1
    with time_machine.travel(t0 + timedelta(hours=1), tick=False):
        c = await get(client, token, f"{C}/{cohort['id']}")
        assert (c["pools"][0]["taken"], c["pools"][0]["available"]) == (0, 1)
        # The expiry (materialised by this write) offers the pool seat to the next woman.
        await client.post(f"{E}/{man['id']}/withdraw", headers=auth(token))
        got = await get(client, token, f"{E}/{w3['id']}")
        assert (got["status"], got["pool"]) == ("offered", "women")
    await assert_pools_consistent(session, cohort["id"])


async def test_a_changed_applicant_keeps_the_pool_seat(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    lahore = [{"code": "lahore", "seats": 1, "rule": {"district": ["Lahore"]}}]
    cohort = await create(client, token, capacity=2, reserved=lahore)
    mover = await person(session, district="Lahore")
    got = await enrol(client, token, cohort["id"], mover)
    assert got["pool"] == "lahore"
    r = await client.patch(
        f"/api/v1/applicants/{mover.id}", json={"district": "Pindi"}, headers=auth(token)
    )
    assert (r.status_code, r.json()["district"]) == (200, "Rawalpindi")
    # The seat is kept; the change is recorded (applicant.updated); new placements use it.
    assert (await get(client, token, f"{E}/{got['id']}"))["pool"] == "lahore"
    updated = await session.scalars(select(Event).where(Event.type == "applicant.updated"))
    assert any(json.loads(e.data).get("applicant_id") == mover.id for e in updated)
    other = await create(client, token, capacity=2, reserved=lahore)
    assert (await enrol(client, token, other["id"], mover))["pool"] is None
    await assert_pools_consistent(session, cohort["id"])


async def test_events_and_breakdown_by_pool(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await create(client, token, capacity=3, reserved=[WOMEN])
    got = await enrol(client, token, cohort["id"], await person(session, "female"))
    await enrol(client, token, cohort["id"], await person(session))
    rows = await session.scalars(select(Event).where(Event.type == "enrollment.enrolled"))
    data = [json.loads(e.data) for e in rows]
    assert {d["enrollment_id"]: d["pool"] for d in data if d["cohort_id"] == cohort["id"]}[
        got["id"]
    ] == "women"
    r = await get(client, token, "/api/v1/reports/breakdown?dimension=pool&metric=enrollments")
    counts = {row["key"]: row["count"] for row in r["rows"]}
    assert counts["women"] >= 1
    assert counts["open"] >= 1
    reporter = await make_key(session, "reporter")
    r = await get(client, reporter, "/api/v1/reports/breakdown?dimension=pool&metric=enrollments")
    assert {row["key"]: row["count"] for row in r["rows"]}["women"] == "<5"
    refused = await client.post(
        C,
        json=cohort_payload(reserved=[{"code": "open", "seats": 1, "rule": {}}]),
        headers=auth(token),
    )
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "reserved[0].code")
