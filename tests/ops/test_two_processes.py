"""Two independent `serve` processes on one PostgreSQL: one truth, all invariants hold.

Each process has its own pools and memory; nothing they must agree on lives in
process memory. Both are driven at once with registrations of the same CNICs
and enrollments into the same cohort.
"""

import asyncio
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from service.core.db import Database
from service.models import Applicant, Cohort, Enrollment, EnrollmentEvent
from tests.factories import applicant_payload, auth, make_key, random_cnic
from tests.live import live_server

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

CAPACITY = 15
PEOPLE = 40


async def _admin_token(url: str) -> str:
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            token = await make_key(session, "admin")
            await session.commit()
            return token
    finally:
        await db.dispose()


async def test_two_servers_share_one_truth(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    token = await _admin_token(url)
    headers = auth(token)
    with (
        live_server(url, log_path=tmp_path / "a.log") as base_a,
        live_server(url, log_path=tmp_path / "b.log") as base_b,
    ):
        limits = httpx.Limits(max_connections=16)
        async with (
            httpx.AsyncClient(base_url=base_a, timeout=30, limits=limits) as a,
            httpx.AsyncClient(base_url=base_b, timeout=30, limits=limits) as b,
        ):
            start = (date.today() + timedelta(days=20)).isoformat()
            end = (date.today() + timedelta(days=80)).isoformat()
            cohort = await a.post(
                "/api/v1/cohorts",
                headers=headers,
                json={
                    "programme": "zte-ict", "centre": "isb-gitc", "code": "two-proc",
                    "name": "Two processes", "track": "cloud", "start_date": start,
                    "end_date": end, "capacity": CAPACITY, "mode": "onsite",
                },
            )  # fmt: skip
            assert cohort.status_code == 201, cohort.text
            cohort_id = cohort.json()["id"]

            # The same CNIC registered through both servers at once: one 201, one 409.
            bodies = [applicant_payload(cnic=random_cnic()) for _ in range(PEOPLE)]
            answers = await asyncio.gather(
                *(c.post("/api/v1/applicants", json=body, headers=headers)
                  for body in bodies for c in (a, b))
            )  # fmt: skip
            by_cnic: dict[str, Counter[int]] = {}
            ids: dict[str, str] = {}
            for body, response in zip([x for x in bodies for _ in (0, 1)], answers, strict=True):
                cnic = str(body["cnic"])
                by_cnic.setdefault(cnic, Counter())[response.status_code] += 1
                if response.status_code == 201:
                    ids[cnic] = response.json()["id"]
                else:
                    assert response.json()["existing_id"]
            assert all(c == Counter({201: 1, 409: 1}) for c in by_cnic.values()), by_cnic

            # Everyone enrols twice, once through each server, at once.
            enrolments = await asyncio.gather(
                *(c.post(f"/api/v1/cohorts/{cohort_id}/enrollments",
                         json={"applicant_id": applicant_id}, headers=headers)
                  for applicant_id in ids.values() for c in (a, b))
            )  # fmt: skip
            codes = Counter(r.status_code for r in enrolments)
            assert codes == Counter({201: PEOPLE, 409: PEOPLE}), codes
            created = [r.json() for r in enrolments if r.status_code == 201]
            assert sum(e["status"] == "enrolled" for e in created) == CAPACITY
            positions = sorted(
                e["waitlist_position"] for e in created if e["status"] == "waitlisted"
            )
            assert positions == list(range(1, PEOPLE - CAPACITY + 1))

            # Both servers read the same cohort state.
            seen = [
                (await c.get(f"/api/v1/cohorts/{cohort_id}", headers=headers)).json()
                for c in (a, b)
            ]
            assert seen[0]["seats_taken"] == seen[1]["seats_taken"] == CAPACITY
            assert seen[0]["waitlist_length"] == seen[1]["waitlist_length"] == PEOPLE - CAPACITY

    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Applicant)) == PEOPLE
            row = await session.get(Cohort, cohort_id)
            assert row is not None
            held = await session.scalar(
                select(func.count()).where(
                    Enrollment.cohort_id == cohort_id, Enrollment.status == "enrolled"
                )
            )
            assert row.seats_taken == held == CAPACITY
            events = await session.scalar(
                select(func.count())
                .select_from(EnrollmentEvent)
                .where(EnrollmentEvent.from_status.is_(None))
            )
            assert events == PEOPLE
    finally:
        await db.dispose()
