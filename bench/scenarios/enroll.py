"""enroll-hot / enroll-spread: POST /api/v1/cohorts/{id}/enrollments.

Applicants are pre-seeded with COPY (asyncpg copy_records_to_table) straight
into the database; cohorts are created through the API. Every request enrols
a different applicant. enroll-hot: all into one cohort of capacity 100,000 (the API maximum)
(so every request ends `enrolled`, no waitlist), 1 and 2 workers.
enroll-spread: round-robin over 100 cohorts, 2 workers. Warm-up goes into a
separate cohort, so the measured cohort starts empty.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from bench import data, harness
from bench.harness import BenchDatabase, Pending, Server, Settings, measure, run_server
from bench.scenarios.common import create_cohort, require_endpoint, write_lines

TITLE_HOT = "enroll-hot: POST /api/v1/cohorts/{id}/enrollments, one cohort"
TITLE_SPREAD = "enroll-spread: POST /api/v1/cohorts/{id}/enrollments, 100 cohorts"
HOT_CAPACITY = 100_000  # the API caps capacity at 100,000
SPREAD_COHORTS = 100
ENROLL_PATH = "/api/v1/cohorts/{id}/enrollments"
# enroll-hot's second point: the same cohort with two reserved-seat pools (a women's
# 30 % quota and a district allocation), so requests take the locked path.
HOT_POOLS = [
    {"code": "women", "seats": 30_000, "rule": {"gender": ["female"]}},
    {"code": "lahore", "seats": 5_000, "rule": {"district": ["Lahore"]}},
]


def applicants_needed(settings: Settings) -> int:
    """Enough distinct applicants for one measured run at up to 2,500 req/s."""
    return max(20_000, int(2_500 * max(settings.duration, settings.warmup)) + 5_000)


async def _seed_applicants(dsn: str, count: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        batch = 50_000
        for start in range(0, count, batch):
            rows = data.applicant_rows(start, min(batch, count - start))
            async with conn.transaction():
                await harness.copy_rows(conn, "applicants", data.APPLICANT_COLUMNS, rows)
        await conn.execute("ANALYZE applicants")
        return [data.row_id(1, n) for n in range(count)]
    finally:
        await conn.close()


def _prepare(settings: Settings, suffix: str) -> tuple[BenchDatabase, str]:
    db = harness.fresh_database(suffix)
    ids = asyncio.run(_seed_applicants(db.dsn, applicants_needed(settings)))
    path = settings.work_dir / f"applicants-{suffix}.txt"
    write_lines(path, ids)
    return db, str(path)


def _check(server: Server, token: str, cohort_ids: list[str], point: dict[str, Any]) -> None:
    """Cross-check: seats taken in the measured cohorts = 2xx answers of the run."""
    taken = 0
    for cid in cohort_ids:
        r = server.get(f"/api/v1/cohorts/{cid}", token)
        if r.status_code == 200:
            body = r.json()
            taken += int(body.get("seats_taken", 0)) + int(body.get("waitlist_length", 0))
    point["seats_taken_after"] = taken


def _point(
    settings: Settings,
    server: Server,
    db: BenchDatabase,
    label: str,
    applicants: str,
    cohorts: list[str],
    warm_cohort: str,
) -> dict[str, Any]:
    work = settings.work_dir
    name = label.replace(", ", "-").replace(" ", "-")
    measured = write_lines(work / f"cohorts-{name}-{server.workers}.txt", cohorts)
    warm = write_lines(work / f"cohorts-{name}-{server.workers}-warm.txt", [warm_cohort])
    base = {"token": db.admin_token, "applicants": applicants, "threads": str(settings.threads)}
    point = measure(
        settings,
        server,
        f"{label} ({len(cohorts)} cohort{'s' if len(cohorts) > 1 else ''})",
        "enroll",
        {**base, "cohorts": str(measured)},
        warmup_args={**base, "cohorts": str(warm)},
    )
    _check(server, db.admin_token, cohorts, point)
    return point


def run_hot(settings: Settings) -> dict[str, Any]:
    db, applicants = _prepare(settings, "enroll_hot")
    points: list[dict[str, Any]] = []
    try:
        for workers in (1, 2):
            with run_server("service", db.name, workers, settings) as server:
                try:
                    require_endpoint(server, "post", ENROLL_PATH)
                    require_endpoint(server, "post", "/api/v1/cohorts")
                except Pending as exc:
                    return {"status": "pending", "points": points, "notes": [str(exc)]}
                hot = create_cohort(server, db.admin_token, f"bench-hot-{workers}w", HOT_CAPACITY)
                warm = create_cohort(
                    server, db.admin_token, f"bench-hot-{workers}w-warm", HOT_CAPACITY
                )
                points.append(
                    _point(settings, server, db, "enroll-hot", applicants, [hot["id"]], warm["id"])
                )
                pooled = create_cohort(
                    server, db.admin_token, f"bench-pools-{workers}w", HOT_CAPACITY, HOT_POOLS
                )
                warm = create_cohort(
                    server, db.admin_token, f"bench-pools-{workers}w-warm", HOT_CAPACITY, HOT_POOLS
                )
                points.append(
                    _point(
                        settings,
                        server,
                        db,
                        "enroll-hot, cohort with two pools",
                        applicants,
                        [pooled["id"]],
                        warm["id"],
                    )
                )
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    note = f"one cohort of capacity {HOT_CAPACITY:,}: every request ends `enrolled` (no waitlist)"
    pools = "; `enroll-hot, cohort with two pools`: the same with pools of 30,000 (women) and "
    pools += "5,000 (Lahore) seats, decided under the cohort's lock"
    return {"status": "ok", "points": points, "notes": [note + pools]}


def run_spread(settings: Settings) -> dict[str, Any]:
    db, applicants = _prepare(settings, "enroll_spread")
    points: list[dict[str, Any]] = []
    try:
        with run_server("service", db.name, 2, settings) as server:
            try:
                require_endpoint(server, "post", ENROLL_PATH)
                require_endpoint(server, "post", "/api/v1/cohorts")
            except Pending as exc:
                return {"status": "pending", "points": points, "notes": [str(exc)]}
            cohorts = [
                create_cohort(server, db.admin_token, f"bench-spread-{i}", HOT_CAPACITY)["id"]
                for i in range(SPREAD_COHORTS)
            ]
            warm = create_cohort(server, db.admin_token, "bench-spread-warm", HOT_CAPACITY)
            points.append(
                _point(settings, server, db, "enroll-spread", applicants, cohorts, warm["id"])
            )
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    note = f"{SPREAD_COHORTS} cohorts of capacity {HOT_CAPACITY:,}, requests round-robin"
    return {"status": "ok", "points": points, "notes": [note]}
