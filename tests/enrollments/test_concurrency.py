"""Real concurrency on PostgreSQL: two server processes, hundreds of simultaneous requests.

200 applicants are each sent twice (400 requests, bounded concurrency) at a cohort
of 50 seats: exactly 50 enrolled, 150 waitlisted at positions 1..150 with no gaps,
one success and one 409 per applicant. Then 10 enrolled withdraw at once: exactly
the 10 longest-waiting are promoted and the waitlist closes up to 1..140. Then the
cohort switches to waitlist offers: 10 more withdraw at once and exactly the next 10
in line are offered; then accepts and declines race on the same offers, mixed with
more declines and withdraws: each offer is answered once, every freed seat is
offered once, to the next in line, and seats held never pass capacity.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from service.core.db import Database
from service.keys import create_key
from service.models import Applicant, Cohort
from service.models.base import utcnow
from tests.enrollments.helpers import assert_cohort_consistent
from tests.factories import centre, programme, random_cnic, random_phone
from tests.live import live_server

APPLICANTS = 200
CAPACITY = 50
CONCURRENCY = 24


async def arrange(url: str) -> tuple[str, str, list[str]]:
    """Commit a key, a cohort and the applicants in the fresh database."""
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            token = await create_key(session, role="admin", name="load-admin")
            start = date.today() + timedelta(days=30)
            cohort = Cohort(
                code="hot-cohort",
                programme_id=(await programme(session)).id,
                centre_id=(await centre(session)).id,
                name="Hot cohort",
                track="cloud",
                start_date=start,
                end_date=start + timedelta(days=60),
                capacity=CAPACITY,
                mode="onsite",
            )
            applicants = [
                Applicant(
                    cnic=random_cnic(),
                    full_name=f"Applicant {i}",
                    date_of_birth=date(2002, 3, 14),
                    gender="female",
                    email=f"a{i}@example.pk",
                    phone=random_phone(),
                    province="punjab",
                    district="Lahore",
                    education_level="bachelor",
                    consent_at=utcnow(),
                )
                for i in range(APPLICANTS)
            ]
            session.add_all([cohort, *applicants])
            await session.commit()
            return token, cohort.id, [a.id for a in applicants]
    finally:
        await db.dispose()


async def check_consistent(url: str, cohort_id: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            await assert_cohort_consistent(session, cohort_id)
    finally:
        await db.dispose()


async def fire(
    client: httpx.AsyncClient, requests: list[tuple[str, dict[str, str] | None]]
) -> list[httpx.Response]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(path: str, body: dict[str, str] | None) -> httpx.Response:
        async with gate:
            return await client.post(path, json=body)

    return await asyncio.gather(*(one(p, b) for p, b in requests))


@pytest.mark.postgres_only
@pytest.mark.slow
async def test_hot_cohort_never_oversold(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    token, cohort_id, applicant_ids = await arrange(url)
    headers = {"Authorization": f"Bearer {token}"}
    sends = applicant_ids * 2
    random.Random(7).shuffle(sends)
    log = tmp_path / "server.log"
    with live_server(url, workers=2, log_path=log) as base:
        async with httpx.AsyncClient(
            base_url=base, headers=headers, timeout=httpx.Timeout(60)
        ) as client:
            path = f"/api/v1/cohorts/{cohort_id}/enrollments"
            responses = await fire(client, [(path, {"applicant_id": a}) for a in sends])

            by_applicant: dict[str, list[int]] = {}
            created = []
            for applicant_id, r in zip(sends, responses, strict=True):
                assert r.status_code in (201, 409), (r.status_code, r.text, log.read_text())
                by_applicant.setdefault(applicant_id, []).append(r.status_code)
                if r.status_code == 201:
                    created.append(r.json())
                else:
                    assert r.json()["title"] == "Already enrolled"
            assert all(sorted(codes) == [201, 409] for codes in by_applicant.values())
            assert Counter(e["status"] for e in created) == {
                "enrolled": CAPACITY,
                "waitlisted": APPLICANTS - CAPACITY,
            }
            # Each request was handed its place once: positions 1..150, no gaps, no repeats.
            handed = sorted(e["waitlist_position"] for e in created if e["status"] == "waitlisted")
            assert handed == list(range(1, APPLICANTS - CAPACITY + 1))

            cohort = (await client.get(f"/api/v1/cohorts/{cohort_id}")).json()
            assert (cohort["seats_taken"], cohort["seats_available"]) == (CAPACITY, 0)
            assert cohort["waitlist_length"] == APPLICANTS - CAPACITY
            await check_consistent(url, cohort_id)

            waitlist = (
                await client.get(path, params={"status": "waitlisted", "limit": "500"})
            ).json()["items"]
            first_ten = {e["id"] for e in waitlist if e["waitlist_position"] <= 10}
            leaving = [e["id"] for e in created if e["status"] == "enrolled"][:10]
            withdrawn = await fire(
                client, [(f"/api/v1/enrollments/{i}/withdraw", None) for i in leaving]
            )
            assert [r.status_code for r in withdrawn] == [200] * 10, f"see {log}"
            assert {r.json()["status"] for r in withdrawn} == {"withdrawn"}

            enrolled = (
                await client.get(path, params={"status": "enrolled", "limit": "500"})
            ).json()["items"]
            assert len(enrolled) == CAPACITY
            assert first_ten <= {e["id"] for e in enrolled}  # FIFO: the ten longest waiting
            waitlist = (
                await client.get(path, params={"status": "waitlisted", "limit": "500"})
            ).json()["items"]
            positions = sorted(e["waitlist_position"] for e in waitlist)
            assert positions == list(range(1, APPLICANTS - CAPACITY - 10 + 1))
            cohort = (await client.get(f"/api/v1/cohorts/{cohort_id}")).json()
            assert (cohort["seats_taken"], cohort["waitlist_length"]) == (CAPACITY, 140)
            await check_consistent(url, cohort_id)

            await offers_race(client, cohort_id, log)


async def offers_race(client: httpx.AsyncClient, cohort_id: str, log: Path) -> None:
    cohort_path = f"/api/v1/cohorts/{cohort_id}"
    path = f"{cohort_path}/enrollments"
    r = await client.patch(cohort_path, json={"waitlist_mode": "offer"})
    assert r.status_code == 200, r.text

    async def ids_of(status: str) -> list[str]:
        items = (await client.get(path, params={"status": status, "limit": "500"})).json()
        return [e["id"] for e in items["items"]]

    waiting = (await client.get(path, params={"status": "waitlisted", "limit": "500"})).json()
    line = [e["id"] for e in sorted(waiting["items"], key=lambda e: e["waitlist_position"])]
    seated = await ids_of("enrolled")
    withdrawn = await fire(
        client, [(f"/api/v1/enrollments/{i}/withdraw", None) for i in seated[:10]]
    )
    assert [r.status_code for r in withdrawn] == [200] * 10, f"see {log}"
    assert set(await ids_of("offered")) == set(line[:10])

    e = "/api/v1/enrollments"
    mixed: list[tuple[str, dict[str, str] | None]] = [(f"{e}/{i}/accept", None) for i in line[:5]]
    mixed += [(f"{e}/{i}/decline", None) for i in line[:10]]
    mixed += [(f"{e}/{i}/withdraw", None) for i in seated[10:15]]
    random.Random(3).shuffle(mixed)
    answers = dict(zip([p for p, _ in mixed], await fire(client, mixed), strict=True))
    assert {r.status_code for r in answers.values()} <= {200, 409}, f"see {log}"
    declined = 5
    for i in line[:5]:
        accept, decline = answers[f"{e}/{i}/accept"], answers[f"{e}/{i}/decline"]
        # One answer wins; the other finds the offer already answered.
        assert sorted([accept.status_code, decline.status_code]) == [200, 409]
        loser = accept if accept.status_code == 409 else decline
        assert loser.json()["current_status"] in ("enrolled", "declined")
        declined += decline.status_code == 200
    # Every freed seat (5 withdrawn, each decline) offered once, to the next in line.
    assert set(await ids_of("offered")) == set(line[10 : 10 + 5 + declined])
    cohort = (await client.get(cohort_path)).json()
    assert (cohort["seats_taken"], cohort["offers_pending"]) == (CAPACITY, 5 + declined)
    assert cohort["waitlist_length"] == APPLICANTS - CAPACITY - 25 - declined
