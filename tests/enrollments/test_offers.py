"""Waitlist offers over HTTP: offers made, accepted, declined, expired (exactly at
``offer_expires_at``, with or without the sweep), no-shows, and bad input.

Time is moved with ``time-machine`` (the wall clock every read and write uses);
nothing sleeps.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.db import Database
from service.models import Cohort, Enrollment, Event
from service.scheduler import JOBS
from service.seats.sweep import expire_offers
from tests.enrollments.helpers import assert_cohort_consistent, enrollment_statuses
from tests.factories import (
    auth,
    cohort_payload,
    make_applicant,
    make_cohort,
    make_enrollment,
    make_key,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
E = "/api/v1/enrollments"


def cohort_url(cohort: Cohort) -> str:
    return f"/api/v1/cohorts/{cohort.id}"


async def offer_cohort(
    session: AsyncSession, *, waiting: int = 2, hours: int = 48
) -> tuple[Cohort, Enrollment, list[Enrollment]]:
    """An offer-mode cohort of one seat: its holder and ``waiting`` in line."""
    cohort = await make_cohort(session, capacity=1, waitlist_mode="offer", offer_hours=hours)
    seat = await make_enrollment(session, cohort)
    line = [await make_enrollment(session, cohort, status="waitlisted") for _ in range(waiting)]
    return cohort, seat, line


async def events_of(session: AsyncSession, enrollment_id: str) -> list[dict[str, object]]:
    rows = await session.scalars(select(Event).order_by(Event.seq))
    data = [(e.type, json.loads(e.data)) for e in rows]
    return [d | {"type": t} for t, d in data if d.get("enrollment_id") == enrollment_id]


async def test_freed_seat_is_offered_then_accepted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort, seat, (first, second) = await offer_cohort(session, hours=24)
    token = await make_key(session, "admin")
    with time_machine.travel(T0, tick=False):
        r = await client.post(f"{E}/{seat.id}/withdraw", headers=auth(token))
        assert r.status_code == 200, r.text
        offer = (await client.get(f"{E}/{first.id}", headers=auth(token))).json()
        assert offer["status"] == "offered"
        assert offer["offer_expires_at"] == "2026-12-02T09:00:00Z"
        c = (await client.get(cohort_url(cohort), headers=auth(token))).json()
        assert (c["seats_taken"], c["seats_available"], c["offers_pending"]) == (1, 0, 1)
        assert c["waitlist_length"] == 1
        [made] = [
            e for e in await events_of(session, first.id) if e["type"] == "enrollment.offered"
        ]
        assert made["offer_expires_at"] == "2026-12-02T09:00:00.000000Z"
        assert (made["from"], made["to"]) == ("waitlisted", "offered")

        r = await client.post(f"{E}/{first.id}/accept", headers=auth(token))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "enrolled"
        again = await client.post(f"{E}/{first.id}/accept", headers=auth(token))
        assert again.status_code == 409
        assert again.json()["current_status"] == "enrolled"
    c = (await client.get(cohort_url(cohort), headers=auth(token))).json()
    assert (c["seats_taken"], c["offers_pending"], c["waitlist_length"]) == (1, 0, 1)
    trail = (await client.get(f"{E}/{first.id}/events", headers=auth(token))).json()["items"]
    assert [(e["from"], e["to"]) for e in trail] == [
        ("waitlisted", "offered"),
        ("offered", "enrolled"),
    ]
    assert await enrollment_statuses(session, [second.id]) == ["waitlisted"]
    await assert_cohort_consistent(session, cohort.id)


async def test_decline_and_withdraw_pass_the_offer_on(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort, seat, (first, second, third) = await offer_cohort(session, waiting=3)
    staff = await make_key(session, "staff")
    await client.post(f"{E}/{seat.id}/withdraw", headers=auth(staff))
    r = await client.post(
        f"{E}/{first.id}/decline", json={"reason": "found a job"}, headers=auth(staff)
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "declined"
    assert await enrollment_statuses(session, [second.id, third.id]) == ["offered", "waitlisted"]
    r = await client.post(f"{E}/{second.id}/withdraw", headers=auth(staff))
    assert (r.status_code, r.json()["status"]) == (200, "withdrawn")
    assert await enrollment_statuses(session, [third.id]) == ["offered"]
    await assert_cohort_consistent(session, cohort.id)


@pytest.mark.parametrize(
    ("offset", "expired"), [(timedelta(microseconds=-1), False), (timedelta(0), True)]
)
async def test_accept_racing_the_expiry_instant(
    client: httpx.AsyncClient, session: AsyncSession, offset: timedelta, expired: bool
) -> None:
    """Expired from offer_expires_at inclusive: a microsecond before, accept wins; at it, 409."""
    _cohort, seat, (first, _second) = await offer_cohort(session)
    token = await make_key(session, "admin")
    with time_machine.travel(T0, tick=False):
        await client.post(f"{E}/{seat.id}/withdraw", headers=auth(token))
    deadline = T0 + timedelta(hours=48)
    with time_machine.travel(deadline + offset, tick=False):
        r = await client.post(f"{E}/{first.id}/accept", headers=auth(token))
    if expired:
        assert r.status_code == 409, r.text
        assert r.json()["type"].endswith("offer-expired")
        assert r.json()["current_status"] == "expired"
    else:
        assert (r.status_code, r.json()["status"]) == (200, "enrolled")


async def test_reads_treat_a_due_offer_as_expired_before_anything_materialises_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort, seat, (first, second) = await offer_cohort(session)
    token = await make_key(session, "admin")
    with time_machine.travel(T0, tick=False):
        await client.post(f"{E}/{seat.id}/withdraw", headers=auth(token))
    with time_machine.travel(T0 + timedelta(hours=48), tick=False):
        got = (await client.get(f"{E}/{first.id}", headers=auth(token))).json()
        assert got["status"] == "expired"
        c = (await client.get(cohort_url(cohort), headers=auth(token))).json()
        assert (c["seats_taken"], c["seats_available"], c["offers_pending"]) == (0, 1, 0)
        listed = await client.get(
            f"{cohort_url(cohort)}/enrollments?status=expired", headers=auth(token)
        )
        assert [e["id"] for e in listed.json()["items"]] == [first.id]
        trail = (await client.get(f"{E}/{first.id}/events", headers=auth(token))).json()["items"]
        assert (trail[-1]["to"], trail[-1]["actor"]) == ("expired", "system")
        assert trail[-1]["at"].startswith("2026-12-03T09:00:00")
        progress = (await client.get("/api/v1/reports/progress", headers=auth(token))).json()
        zte = next(p for p in progress["programmes"] if p["code"] == "zte-ict")
        assert zte["expired"] >= 1
        # Stored: still offered, until a write that needs the seats or the sweep.
        assert await enrollment_statuses(session, [first.id]) == ["offered"]
    with time_machine.travel(T0 + timedelta(hours=50), tick=False):
        # The expired applicant may enrol again (at the back); the request materialises first.
        r = await client.post(
            f"{cohort_url(cohort)}/enrollments",
            json={"applicant_id": first.applicant_id},
            headers=auth(token),
        )
        assert r.status_code == 201, r.text
        assert (r.json()["status"], r.json()["waitlist_position"]) == ("waitlisted", 1)
        nxt = (await client.get(f"{E}/{second.id}", headers=auth(token))).json()
        # The next offer's window starts when the expiry is materialised.
        assert (nxt["status"], nxt["offer_expires_at"]) == ("offered", "2026-12-05T11:00:00Z")
    trail = (await client.get(f"{E}/{first.id}/events", headers=auth(token))).json()["items"]
    assert [(e["to"], e["actor"], e["at"][:19]) for e in trail[-1:]] == [
        ("expired", "system", "2026-12-03T09:00:00")
    ]
    await assert_cohort_consistent(session, cohort.id)


async def _trail(session: AsyncSession, ids: list[str]) -> list[tuple[str, str, str]]:
    out = []
    for enrollment_id in ids:
        for e in await events_of(session, enrollment_id):
            out.append((str(e["type"]), str(e.get("offer_expires_at")), str(e["from"])))
    return out


async def test_sweep_and_request_paths_give_the_same_result(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    """Two identical cohorts: one materialised by the scheduler job, one by a request."""
    assert ("offer_expiries", expire_offers) in JOBS
    token = await make_key(session, "admin")
    results = []
    for by_job in (True, False):
        cohort, seat, line = await offer_cohort(session, waiting=3, hours=1)
        with time_machine.travel(T0, tick=False):
            await client.post(f"{E}/{seat.id}/withdraw", headers=auth(token))
        at = T0 + timedelta(hours=1, minutes=5)
        with time_machine.travel(at, tick=False):
            if by_job:
                assert await expire_offers(database, at) == 1
                assert await expire_offers(database, at) == 0
            else:
                r = await client.patch(cohort_url(cohort), json={"name": "x"}, headers=auth(token))
                assert r.status_code == 200, r.text
        await assert_cohort_consistent(session, cohort.id)
        ids = [e.id for e in line]
        results.append(
            (await enrollment_statuses(session, ids), [t[0::2] for t in await _trail(session, ids)])
        )
        expiries = [t[1] for t in await _trail(session, ids) if t[0] == "enrollment.offered"]
        assert expiries[-1] == "2026-12-01T11:05:00.000000Z"
    assert results[0] == results[1]
    assert results[0][0] == ["expired", "offered", "waitlisted"]


async def test_sweep_batches_are_bounded(session: AsyncSession, database: Database) -> None:
    cohort = await make_cohort(session, capacity=5, waitlist_mode="offer")
    for _ in range(5):
        await make_enrollment(session, cohort, status="offered", offer_expires_at=T0)
    waiting = [await make_enrollment(session, cohort, status="waitlisted") for _ in range(3)]
    await session.flush()
    now = T0 + timedelta(minutes=1)
    assert await expire_offers(database, now, batch=2) == 2
    assert await expire_offers(database, now, batch=2) == 2
    assert await expire_offers(database, now, batch=2) == 1
    assert await expire_offers(database, now, batch=2) == 0
    assert await enrollment_statuses(session, [w.id for w in waiting]) == ["offered"] * 3
    await assert_cohort_consistent(session, cohort.id)


async def test_no_show_frees_the_seat(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort, seat, (first, _second) = await offer_cohort(session)
    staff = await make_key(session, "staff")
    r = await client.post(f"{E}/{seat.id}/no-show", headers=auth(staff))
    assert (r.status_code, r.json()["status"]) == (200, "no_show")
    assert await enrollment_statuses(session, [first.id]) == ["offered"]
    for target in (first, seat):  # offered, then no_show: not enrolled
        bad = await client.post(f"{E}/{target.id}/no-show", headers=auth(staff))
        assert bad.status_code == 409
    waiting = await client.post(f"{E}/{_second.id}/no-show", headers=auth(staff))
    assert (waiting.status_code, waiting.json()["current_status"]) == (409, "waitlisted")
    done = await make_enrollment(session, await make_cohort(session), status="completed")
    bad = await client.post(f"{E}/{done.id}/no-show", headers=auth(staff))
    assert (bad.status_code, bad.json()["current_status"]) == (409, "completed")
    client_key = await make_key(session, "client")
    assert (
        await client.post(f"{E}/{first.id}/no-show", headers=auth(client_key))
    ).status_code == 403
    await assert_cohort_consistent(session, cohort.id)


async def test_no_show_only_while_the_cohort_runs(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=2, status="completed")
    seat = await make_enrollment(session, cohort)
    r = await client.post(f"{E}/{seat.id}/no-show", headers=auth(await make_key(session)))
    assert r.status_code == 409
    assert r.json()["type"].endswith("cohort-not-active")


async def test_auto_mode_no_show_promotes(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await make_cohort(session, capacity=1)
    seat = await make_enrollment(session, cohort)
    head = await make_enrollment(session, cohort, status="waitlisted")
    r = await client.post(f"{E}/{seat.id}/no-show", headers=auth(await make_key(session)))
    assert r.status_code == 200
    assert await enrollment_statuses(session, [head.id]) == ["enrolled"]


async def test_accept_or_decline_anything_but_an_offer_is_409(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _cohort, seat, (first, _second) = await offer_cohort(session)
    token = await make_key(session)
    for action in ("accept", "decline"):
        for target, status in ((seat, "enrolled"), (first, "waitlisted")):
            r = await client.post(f"{E}/{target.id}/{action}", headers=auth(token))
            assert r.status_code == 409, r.text
            assert r.json()["current_status"] == status


async def test_another_clients_enrollment_is_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    mine, theirs = await make_key(session, "client"), await make_key(session, "client")
    cohort = await make_cohort(session, capacity=1, waitlist_mode="offer")
    applicant = await make_applicant(session, created_by_key_id=theirs.id)
    offer = await make_enrollment(session, cohort, applicant, status="offered")
    for action in ("accept", "decline"):
        r = await client.post(f"{E}/{offer.id}/{action}", headers=auth(mine))
        assert r.status_code == 404
    r = await client.post(f"{E}/{offer.id}/accept", headers=auth(theirs))
    assert (r.status_code, r.json()["status"]) == (200, "enrolled")
    assert (await client.post(f"{E}/{offer.id}/accept")).status_code == 401


@pytest.mark.parametrize("hours", [0, 169, "48", 1.5, True, None])
async def test_offer_hours_must_be_1_to_168(
    client: httpx.AsyncClient, session: AsyncSession, hours: object
) -> None:
    token = await make_key(session)
    r = await client.post(
        "/api/v1/cohorts", json=cohort_payload(offer_hours=hours), headers=auth(token)
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["offer_hours"]
    cohort = await make_cohort(session)
    r = await client.patch(cohort_url(cohort), json={"offer_hours": hours}, headers=auth(token))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["offer_hours"]


async def test_mode_and_hours_on_create_and_patch(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session)
    r = await client.post(
        "/api/v1/cohorts",
        json=cohort_payload(code="offers-1", waitlist_mode="offer", offer_hours=1),
        headers=auth(token),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["waitlist_mode"], r.json()["offer_hours"]) == ("offer", 1)
    bad = await client.post(
        "/api/v1/cohorts",
        json=cohort_payload(code="x-2", waitlist_mode="lottery"),
        headers=auth(token),
    )
    assert [e["field"] for e in bad.json()["errors"]] == ["waitlist_mode"]


async def test_switching_mode_keeps_pending_offers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await make_cohort(session, capacity=2, waitlist_mode="offer")
    expires = datetime.now(UTC) + timedelta(hours=3)
    offer = await make_enrollment(session, cohort, status="offered", offer_expires_at=expires)
    seat = await make_enrollment(session, cohort)
    head = await make_enrollment(session, cohort, status="waitlisted")
    token = await make_key(session)
    r = await client.patch(cohort_url(cohort), json={"waitlist_mode": "auto"}, headers=auth(token))
    assert (r.status_code, r.json()["waitlist_mode"], r.json()["offers_pending"]) == (
        200,
        "auto",
        1,
    )
    got = (await client.get(f"{E}/{offer.id}", headers=auth(token))).json()
    assert got["status"] == "offered"
    assert datetime.fromisoformat(got["offer_expires_at"]) == expires
    await client.post(f"{E}/{seat.id}/drop", headers=auth(token))
    assert await enrollment_statuses(session, [head.id]) == ["enrolled"]


@pytest.mark.parametrize("action", ["cancel", "complete"])
async def test_closing_a_cohort_cancels_pending_offers(
    client: httpx.AsyncClient, session: AsyncSession, action: str
) -> None:
    cohort = await make_cohort(session, capacity=3, waitlist_mode="offer", status="in_progress")
    offer = await make_enrollment(session, cohort, status="offered")
    gone = await make_enrollment(
        session, cohort, status="offered", offer_expires_at=datetime.now(UTC) - timedelta(hours=1)
    )
    waiting = await make_enrollment(session, cohort, status="waitlisted")
    r = await client.post(f"{cohort_url(cohort)}/{action}", headers=auth(await make_key(session)))
    assert r.status_code == 200, r.text
    assert r.json()["offers_pending"] == 0
    statuses = await enrollment_statuses(session, [offer.id, gone.id, waiting.id])
    assert statuses == ["cancelled", "expired", "cancelled"]
    await assert_cohort_consistent(session, cohort.id)


async def test_an_expired_seat_goes_to_a_new_request_when_nobody_waits(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Nobody waits, the one seat's offer expired: a new enrolment takes the seat at once
    (the expiry is materialised under the lock first; on PostgreSQL the one-statement
    path stands aside)."""
    cohort = await make_cohort(session, capacity=1, waitlist_mode="offer")
    gone = await make_enrollment(
        session, cohort, status="offered", offer_expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    newcomer = await make_applicant(session)
    r = await client.post(
        f"{cohort_url(cohort)}/enrollments",
        json={"applicant_id": newcomer.id},
        headers=auth(await make_key(session)),
    )
    assert (r.status_code, r.json()["status"]) == (201, "enrolled")
    assert await enrollment_statuses(session, [gone.id]) == ["expired"]
    await assert_cohort_consistent(session, cohort.id)
