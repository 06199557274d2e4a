"""churn / offer-sweep: waitlist offers under load.

churn: one offer-mode cohort at capacity with as many waiting, then for the
measured duration concurrent withdraws (each offers the freed seat to the
next in line), accepts of the pending offers and new enrolments (to the end
of the line), driven by an asyncio httpx client (the requests depend on each
other's answers, which wrk's scripts cannot follow). No 5xx; the seat
invariants are checked in SQL after the run; throughput and p99 per action.

offer-sweep: one offer-mode cohort whose offers (100,000; --quick 2,000) all
expired a minute ago, with as many waiting, is bulk-loaded; the scheduler job
(``service.seats.sweep.expire_offers``, as every dispatcher round runs it)
materialises the expiries and makes the next offers in bounded batches while
enrolments keep arriving at the cohort. Reported: total sweep time, the
longest batch (the longest the cohort's lock is held at a time) and the
slowest enrolment meanwhile. Goals: < 30 s in all, no enrolment blocked > 1 s.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench import data, harness
from bench.harness import BenchDatabase, Pending, Server, Settings, run_server
from bench.scenarios.common import create_cohort, require_endpoint

TITLE_CHURN = "churn: withdraws + accepts + enrolments on one offer-mode cohort at capacity"
TITLE_SWEEP = "offer-sweep: 100,000 offers expiring at once, materialised in batches"
NO_DISPATCHER = {"ENROLL_DISPATCHER": "off"}  # the sweep runs where we time it


async def _seed(dsn: str, count: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, count, 50_000):
            rows = data.applicant_rows(start, min(50_000, count - start))
            async with conn.transaction():
                await harness.copy_rows(conn, "applicants", data.APPLICANT_COLUMNS, rows)
        return [data.row_id(1, n) for n in range(count)]
    finally:
        await conn.close()


async def invariants(dsn: str, cohort_id: str) -> list[str]:
    """Seat invariants of one cohort, in SQL: the problems found (empty: all hold)."""
    conn = await asyncpg.connect(dsn)
    try:
        c = await conn.fetchrow("SELECT * FROM cohorts WHERE id = $1", cohort_id)
        counts = dict(
            await conn.fetch(
                "SELECT status, count(*) FROM enrollments WHERE cohort_id = $1 GROUP BY status",
                cohort_id,
            )
        )
        twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT applicant_id FROM enrollments WHERE cohort_id = $1 "
            "AND status IN ('enrolled', 'waitlisted', 'offered') GROUP BY applicant_id "
            "HAVING count(*) > 1) t",
            cohort_id,
        )
    finally:
        await conn.close()
    held = sum(counts.get(s, 0) for s in ("enrolled", "offered", "completed", "failed"))
    problems = []
    if held > c["capacity"]:
        problems.append(f"{held} seats held > capacity {c['capacity']}")
    if (c["seats_taken"], c["waitlist_length"], c["offers_pending"]) != (
        held,
        counts.get("waitlisted", 0),
        counts.get("offered", 0),
    ):
        problems.append(f"counters {dict(c)} do not match rows {counts}")
    if c["waitlist_length"] and held < c["capacity"]:
        problems.append("a seat is free while someone waits")
    if twice:
        problems.append(f"{twice} applicants live twice")
    return problems


def _offer_cohort(server: Server, token: str, code: str, capacity: int) -> str:
    cohort = create_cohort(server, token, code, capacity)
    r = httpx.patch(
        f"{server.base_url}/api/v1/cohorts/{cohort['id']}",
        json={"waitlist_mode": "offer"},
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    return str(cohort["id"])


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return (
        round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1) if values else 0.0
    )


async def _churn(
    server: Server,
    db: BenchDatabase,
    cohort_id: str,
    people: list[str],
    settings: Settings,
    capacity: int,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {db.admin_token}"}
    limits = httpx.Limits(max_connections=settings.connections)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=headers, limits=limits, timeout=60
    ) as client:
        enrol = f"/api/v1/cohorts/{cohort_id}/enrollments"
        fresh = iter(people)
        gate = asyncio.Semaphore(settings.connections)

        async def post(path: str, body: Any = None) -> httpx.Response:
            async with gate:
                return await client.post(path, json=body)

        # At capacity, with as many waiting: the starting state.
        start = [next(fresh) for _ in range(2 * capacity)]
        made = await asyncio.gather(*(post(enrol, {"applicant_id": a}) for a in start))
        enrolled = [r.json()["id"] for r in made if r.json().get("status") == "enrolled"]
        offered: set[str] = set()
        samples: dict[str, list[float]] = {"withdraw": [], "accept": [], "enrol": []}
        codes: dict[int, int] = {}
        deadline = time.monotonic() + settings.duration
        rng = random.Random(20)

        async def poll_offers() -> None:
            while time.monotonic() < deadline:
                r = await client.get(enrol, params={"status": "offered", "limit": "500"})
                offered.update(e["id"] for e in r.json()["items"])
                await asyncio.sleep(0.2)

        async def worker() -> None:
            while time.monotonic() < deadline:
                kind = rng.choice(("withdraw", "accept", "enrol"))
                if kind == "withdraw" and enrolled:
                    path, body = f"/api/v1/enrollments/{enrolled.pop()}/withdraw", None
                elif kind == "accept" and offered:
                    chosen = offered.pop()
                    path, body = f"/api/v1/enrollments/{chosen}/accept", None
                else:
                    kind, path, body = "enrol", enrol, {"applicant_id": next(fresh)}
                t = time.monotonic()
                r = await client.post(path, json=body)
                samples[kind].append(time.monotonic() - t)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1
                if kind == "accept" and r.status_code == 200:
                    enrolled.append(r.json()["id"])

        began = time.monotonic()
        await asyncio.gather(poll_offers(), *(worker() for _ in range(settings.connections)))
        elapsed = time.monotonic() - began
    total = sum(len(v) for v in samples.values())
    return {
        "label": "churn (1 cohort, 2 workers)",
        "requests": total,
        "rps": round(total / elapsed, 1),
        "p99_ms": _p99([x for v in samples.values() for x in v]),
        **{f"{k}_p99_ms": _p99(v) for k, v in samples.items()},
        **{f"{k}_count": len(v) for k, v in samples.items()},
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
        "n5xx": sum(v for k, v in codes.items() if k >= 500),
    }


def run_churn(settings: Settings) -> dict[str, Any]:
    capacity = 50 if settings.quick else 1_000
    db = harness.fresh_database("offers_churn")
    try:
        people = asyncio.run(_seed(db.dsn, 5 * capacity + int(2_000 * settings.duration)))
        with run_server("service", db.name, 2, settings) as server:
            try:
                require_endpoint(server, "post", "/api/v1/enrollments/{id}/accept")
            except Pending as exc:
                return {"status": "pending", "points": [], "notes": [str(exc)]}
            cohort_id = _offer_cohort(server, db.admin_token, "bench-churn", capacity)
            point = asyncio.run(_churn(server, db, cohort_id, people, settings, capacity))
        problems = asyncio.run(invariants(db.dsn, cohort_id))
        point["invariants"] = "hold" if not problems else "; ".join(problems)
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    status = "ok" if not problems and point["n5xx"] == 0 else "failed"
    note = f"capacity {capacity:,}, as many waiting; 409s are offers answered twice"
    return {"status": status, "points": [point], "notes": [note]}


# ---------------------------------------------------------------- the sweep


async def _load_offers(dsn: str, count: int, people: list[str]) -> str:
    """One offer-mode cohort: ``count`` offers expired a minute ago, ``count`` waiting."""
    conn = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    cohort_id = data.row_id(9, 0)
    try:
        programme = await conn.fetchval("SELECT id FROM programmes WHERE code = 'zte-ict'")
        centre = await conn.fetchval("SELECT id FROM centres WHERE code = 'isb-gitc'")
        start = date.today() + timedelta(days=14)
        await conn.execute(
            "INSERT INTO cohorts (id, code, programme_id, centre_id, name, track, start_date, "
            "end_date, capacity, mode, min_age, max_age, pass_score, min_attendance, status, "
            "seats_taken, waitlist_length, queue_seq, waitlist_mode, offer_hours, "
            "offers_pending, created_at, updated_at) VALUES ($1, 'bench-sweep', $2, $3, "
            "'Bench sweep', 'cloud', $4, $5, $6, 'onsite', 18, 35, 50, 75, 'open', $6, $6, "
            "$7, 'offer', 48, $6, $8, $8)",
            cohort_id, programme, centre, start, start + timedelta(days=90), count, 2 * count, now,
        )  # fmt: skip
        expired = now - timedelta(minutes=1)
        columns = ("id", "cohort_id", "applicant_id", "status", "queue_no", "offer_expires_at",
                   "created_at", "updated_at")  # fmt: skip
        rows = [
            (data.row_id(10, n), cohort_id, people[n], "offered" if n < count else "waitlisted",
             n + 1, expired if n < count else None, now, now)
            for n in range(2 * count)
        ]  # fmt: skip
        async with conn.transaction():
            await harness.copy_rows(conn, "enrollments", columns, rows)
        await conn.execute("ANALYZE enrollments")
        return cohort_id
    finally:
        await conn.close()


async def _sweep(
    db: BenchDatabase, server: Server, cohort_id: str, people: list[str], batch: int | None = None
) -> dict[str, Any]:
    from service.core.db import Database
    from service.seats.repository import cohorts_with_due_offers
    from service.seats.service import EXPIRY_BATCH
    from service.seats.sweep import expire_offers

    batch = batch or EXPIRY_BATCH

    database = Database.from_url(harness.sqlalchemy_url(db.name))
    batches: list[float] = []
    enrol_latency: list[float] = []
    done = asyncio.Event()

    async def enrolments() -> None:
        headers = {"Authorization": f"Bearer {db.admin_token}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as c:
            for applicant in people:
                if done.is_set():
                    return
                t = time.monotonic()
                r = await c.post(
                    f"/api/v1/cohorts/{cohort_id}/enrollments", json={"applicant_id": applicant}
                )
                enrol_latency.append(time.monotonic() - t)
                if r.status_code >= 500:
                    raise harness.BenchError(f"enrolment during the sweep: {r.status_code}")

    async def sweep() -> int:
        total = 0
        try:
            while True:
                t = time.monotonic()
                now = datetime.now(UTC)
                n = await expire_offers(database, now, batch=batch)
                batches.append(time.monotonic() - t)
                total += n
                if n == 0:
                    # Nothing done: finished, or the cohort was locked by an enrolment.
                    async with database.sessionmaker() as session:
                        if not await cohorts_with_due_offers(session, now, 1):
                            return total
        finally:
            done.set()

    began = time.monotonic()
    expired, _ = await asyncio.gather(sweep(), enrolments())
    elapsed = time.monotonic() - began
    await database.dispose()
    return {
        "label": "offer-sweep (1 cohort)",
        "batch": batch,
        "offers_expired": expired,
        "sweep_s": round(elapsed, 2),
        "batches": len(batches),
        "longest_batch_ms": round(max(batches) * 1000, 1),
        "enrolments_meanwhile": len(enrol_latency),
        "slowest_enrolment_ms": round(max(enrol_latency, default=0) * 1000, 1),
    }


def run_sweep(settings: Settings) -> dict[str, Any]:
    count = 2_000 if settings.quick else 100_000
    db = harness.fresh_database("offers_sweep")
    try:
        people = asyncio.run(_seed(db.dsn, 2 * count + 20_000))
        cohort_id = asyncio.run(_load_offers(db.dsn, count, people))
        with run_server("service", db.name, 1, settings, extra_env=NO_DISPATCHER) as server:
            point = asyncio.run(_sweep(db, server, cohort_id, people[2 * count :]))
        problems = asyncio.run(invariants(db.dsn, cohort_id))
        point["invariants"] = "hold" if not problems else "; ".join(problems)
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    ok = not problems and point["offers_expired"] == count
    from service.seats.service import EXPIRY_BATCH

    note = f"{count:,} offers expired at once, {count:,} waiting; {EXPIRY_BATCH} per transaction"
    return {"status": "ok" if ok else "failed", "points": [point], "notes": [note]}
