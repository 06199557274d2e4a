"""progress: GET /api/v1/reports/progress at a small and a large database, and a breakdown.

The data is seeded with COPY straight into the database (applicants,
enrollments, certificates), in batches of 50,000 rows per transaction; COPY
fires row triggers, so counters kept by triggers are maintained as rows land.
Cohorts are inserted directly too (200 cohorts, two programmes, two centres)
and their seat counters set from the enrollments afterwards. Enrollment events
are not seeded. Full run: 10,000 enrollments, then grown to 1,000,000 with
300,000 completions (each with a certificate).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench import data, harness
from bench.harness import BenchDatabase, Pending, Settings, measure, run_server
from bench.scenarios.common import require_endpoint

TITLE = "progress: GET /api/v1/reports/progress at 10k and 1M enrollments, and a breakdown"
WORKERS = 2
COHORTS = 200
BATCH = 50_000
BREAKDOWN = "/api/v1/reports/breakdown?dimension=province&metric=completions"

# The database left by the last run (export reuses it when it has enough completions).
LAST: dict[str, Any] = {}

COHORT_COLUMNS = (
    "id",
    "code",
    "programme_id",
    "centre_id",
    "name",
    "track",
    "start_date",
    "end_date",
    "capacity",
    "mode",
    "min_age",
    "max_age",
    "pass_score",
    "min_attendance",
    "status",
    "seats_taken",
    "waitlist_length",
    "queue_seq",
    "created_at",
    "updated_at",
)


async def _cohorts(conn: asyncpg.Connection) -> list[str]:
    programmes = [r["id"] for r in await conn.fetch("SELECT id FROM programmes ORDER BY code")]
    centres = [r["id"] for r in await conn.fetch("SELECT id FROM centres ORDER BY code")]
    start = date.today() - timedelta(days=60)
    now = datetime.now(UTC)
    rows = []
    for i in range(COHORTS):
        rows.append(
            (
                data.row_id(4, i),
                f"bench-report-{i}",
                programmes[i % len(programmes)],
                centres[i % len(centres)],
                f"Bench cohort {i}",
                ("cloud", "5g", "ai", "ecommerce")[i % 4],
                start,
                start + timedelta(days=120),
                1_000_000,
                "onsite",
                15,
                45,
                50,
                75,
                "in_progress",
                0,
                0,
                0,
                now,
                now,
            )
        )
    await harness.copy_rows(conn, "cohorts", COHORT_COLUMNS, rows)
    return [r[0] for r in rows]


async def seed(dsn: str, start: int, stop: int, completions: int, total: int) -> float:
    """Seed applicants/enrollments ``start..stop`` (+ certificates); returns seconds taken."""
    t0 = time.monotonic()
    conn = await asyncpg.connect(dsn)
    try:
        cohort_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM cohorts WHERE code LIKE 'bench-report-%' ORDER BY code"
            )
        ]
        if not cohort_ids:
            cohort_ids = await _cohorts(conn)
        cohort_ids.sort()
        now = datetime.now(UTC)
        for lo in range(start, stop, BATCH):
            n = min(BATCH, stop - lo)
            enrollments, certificates = [], []
            for row, cert in data.enrollment_rows(lo, n, cohort_ids, completions, total, now):
                enrollments.append(row)
                if cert is not None:
                    certificates.append(cert)
            async with conn.transaction():
                await harness.copy_rows(
                    conn, "applicants", data.APPLICANT_COLUMNS, data.applicant_rows(lo, n)
                )
                await harness.copy_rows(conn, "enrollments", data.ENROLLMENT_COLUMNS, enrollments)
                if certificates:
                    await harness.copy_rows(
                        conn, "certificates", data.CERTIFICATE_COLUMNS, certificates
                    )
        await conn.execute(
            """
            UPDATE cohorts c SET seats_taken = s.taken, queue_seq = s.q
            FROM (SELECT cohort_id, max(queue_no) AS q,
                         count(*) FILTER (
                             WHERE status IN ('enrolled', 'completed', 'failed')) AS taken
                  FROM enrollments GROUP BY cohort_id) s
            WHERE s.cohort_id = c.id
            """
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.monotonic() - t0


def _progress_point(settings: Settings, db: BenchDatabase, label: str) -> list[dict[str, Any]]:
    points = []
    with run_server("service", db.name, WORKERS, settings) as server:
        require_endpoint(server, "get", "/api/v1/reports/progress")
        args = {"path": "/api/v1/reports/progress", "token": db.admin_token}
        points.append(measure(settings, server, f"progress @ {label}", "get", args))
        if label != "small":
            try:
                require_endpoint(server, "get", "/api/v1/reports/breakdown")
                args = {"path": BREAKDOWN, "token": db.admin_token}
                points.append(measure(settings, server, f"breakdown @ {label}", "get", args))
            except Pending:
                pass
    return points


def run(settings: Settings) -> dict[str, Any]:
    sizes = settings.sizes()
    small, large = sizes["progress_small"], sizes["progress_large"]
    completions = sizes["progress_completions"]
    db = harness.fresh_database("progress")
    keep = False
    points: list[dict[str, Any]] = []
    seed_s: dict[str, float] = {}
    try:
        with run_server("service", db.name, 1, settings) as server:
            try:
                require_endpoint(server, "get", "/api/v1/reports/progress")
            except Pending as exc:
                return {"status": "pending", "points": [], "notes": [str(exc)]}
        # Completions are the first `completions` enrollments, scaled for the small point.
        small_completions = completions * small // large
        seed_s["small"] = asyncio.run(seed(db.dsn, 0, small, small_completions, small))
        for p in _progress_point(settings, db, "small"):
            p["enrollments"] = small
            points.append(p)
        seed_s["large"] = asyncio.run(seed(db.dsn, small, large, completions, large))
        for p in _progress_point(settings, db, "large"):
            p["enrollments"] = large
            points.append(p)
        LAST.clear()
        LAST.update(db=db, completions=completions)
        keep = True
    finally:
        if not keep and not settings.keep_databases:
            harness.drop_database(db.name)
    notes = [
        f"small = {small:,} enrollments; large = {large:,} enrollments with "
        f"{completions:,} completions + certificates (COPY with triggers on); seeding took "
        f"{seed_s.get('small', 0):.1f} s and {seed_s.get('large', 0):.1f} s",
        f"breakdown: GET {BREAKDOWN}",
    ]
    return {
        "status": "ok",
        "points": points,
        "notes": notes,
        "seed_seconds": seed_s,
        "sizes": {"small": small, "large": large, "completions": completions},
    }
