"""Reserved seats under real concurrency on PostgreSQL: two server processes, 400
enrolment requests of mixed eligibility (200 applicants, each sent twice) at a cohort
of 60 seats with two pools. No pool is oversold, seats held ≤ capacity, positions are
1..n, one success and one 409 per applicant, the counters match the rows, and no
waiting applicant could take a free seat. Then 20 seat holders withdraw at once and
the freed seats go to eligible waiters only."""

from __future__ import annotations

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
from service.seats import pools
from tests.enrollments.helpers import assert_cohort_consistent
from tests.enrollments.test_concurrency import fire
from tests.enrollments.test_pools import assert_pools_consistent
from tests.factories import centre, programme, random_cnic, random_phone
from tests.live import live_server

APPLICANTS = 200
CAPACITY = 60
POOLS = [
    pools.PoolSpec("women", 20, {"gender": ["female"]}),
    pools.PoolSpec("quetta", 10, {"district": ["Quetta"]}),
]
# Women of Lahore, men of Quetta, women of Quetta, men of Lahore.
PLACES = [
    ("female", "punjab", "Lahore"),
    ("male", "balochistan", "Quetta"),
    ("female", "balochistan", "Quetta"),
    ("male", "punjab", "Lahore"),
    ("male", "punjab", "Lahore"),
]


async def arrange(url: str) -> tuple[str, str, list[str]]:
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            token = await create_key(session, role="admin", name="pool-admin")
            start = date.today() + timedelta(days=30)
            cohort = Cohort(
                code="hot-pools",
                programme_id=(await programme(session)).id,
                centre_id=(await centre(session)).id,
                name="Hot cohort with pools",
                track="cloud",
                start_date=start,
                end_date=start + timedelta(days=60),
                capacity=CAPACITY,
                mode="onsite",
                pool_count=len(POOLS),
            )
            applicants = []
            for i in range(APPLICANTS):
                gender, province, district = PLACES[i % len(PLACES)]
                applicants.append(
                    Applicant(
                        cnic=random_cnic(),
                        full_name=f"Applicant {i}",
                        date_of_birth=date(2002, 3, 14),
                        gender=gender,
                        email=f"a{i}@example.pk",
                        phone=random_phone(),
                        province=province,
                        district=district,
                        education_level="bachelor",
                        consent_at=utcnow(),
                    )
                )
            session.add_all([cohort, *applicants])
            await session.flush()
            await pools.create(session, cohort.id, POOLS)
            await session.commit()
            return token, cohort.id, [a.id for a in applicants]
    finally:
        await db.dispose()


async def check(url: str, cohort_id: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            await assert_cohort_consistent(session, cohort_id)
            await assert_pools_consistent(session, cohort_id)
    finally:
        await db.dispose()


@pytest.mark.postgres_only
@pytest.mark.slow
async def test_pools_never_oversold(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    token, cohort_id, applicant_ids = await arrange(url)
    sends = applicant_ids * 2
    random.Random(11).shuffle(sends)
    log = tmp_path / "server.log"
    with live_server(url, workers=2, log_path=log) as base:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            path = f"/api/v1/cohorts/{cohort_id}/enrollments"
            responses = await fire(client, [(path, {"applicant_id": a}) for a in sends])
            created = []
            by_applicant: dict[str, list[int]] = {}
            for applicant_id, r in zip(sends, responses, strict=True):
                assert r.status_code in (201, 409), (r.status_code, r.text, log.read_text())
                by_applicant.setdefault(applicant_id, []).append(r.status_code)
                if r.status_code == 201:
                    created.append(r.json())
            assert all(sorted(codes) == [201, 409] for codes in by_applicant.values())
            held = Counter(e["pool"] for e in created if e["status"] == "enrolled")
            # Women (80 of them) fill their 20; Quetta (80) its 10; the 30 open seats the rest.
            assert held == {"women": 20, "quetta": 10, None: 30}
            handed = sorted(e["waitlist_position"] for e in created if e["status"] == "waitlisted")
            assert handed == list(range(1, APPLICANTS - CAPACITY + 1))
            cohort = (await client.get(f"/api/v1/cohorts/{cohort_id}")).json()
            assert cohort["seats_taken"] == CAPACITY
            assert [(p["code"], p["taken"], p["available"]) for p in cohort["pools"]] == [
                ("women", 20, 0),
                ("quetta", 10, 0),
            ]
            await check(url, cohort_id)

            leaving = [e["id"] for e in created if e["pool"] == "women"][:10]
            leaving += [e["id"] for e in created if e["status"] == "enrolled" and not e["pool"]][
                :10
            ]
            withdrawn = await fire(
                client, [(f"/api/v1/enrollments/{i}/withdraw", None) for i in leaving]
            )
            assert [r.status_code for r in withdrawn] == [200] * 20, f"see {log}"
            cohort = (await client.get(f"/api/v1/cohorts/{cohort_id}")).json()
            assert cohort["seats_taken"] == CAPACITY
            assert cohort["pools"][0]["taken"] == 20
            await check(url, cohort_id)
