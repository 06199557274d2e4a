"""progress: GET /api/v1/reports/progress at a small and a large database, and a breakdown.

Two databases of the same shape, seeded with COPY straight into the database
(applicants, enrollments, certificates; cohorts inserted directly, their seat
counters set from the enrollments). When the schema has the reports migration
(trigger-kept counters), rows are loaded at the revision before it and the
database is then migrated to head, so the migration's backfill derives the
counters in a few set-based statements; otherwise (or when it cannot be
found) COPY runs with the triggers firing, 2,000 rows per transaction.
Enrollment events are not seeded. Full run: 10,000 enrollments (3,000
completions) and 1,000,000 (300,000 completions, each with a certificate).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench import data, harness, jobs
from bench.harness import BenchDatabase, Pending, Settings, measure, run_server
from bench.scenarios.common import has_endpoint, require_endpoint

TITLE = "progress: GET /api/v1/reports/progress at 10k and 1M enrollments, and a breakdown"
WORKERS = 2
COHORTS = 200
# Rows per transaction. The reports triggers take one advisory lock per
# applicant (held to commit), so one transaction may not touch more applicants
# than the shared lock table holds (max_locks_per_transaction x max_connections,
# 6,400 by default): larger batches fail with "out of shared memory".
BATCH = 2_000
BREAKDOWN_CONNECTIONS = 4
# The progress goal (p50 < 20 ms) is a latency goal: measured with one caller.
LATENCY_CONNECTIONS = 1
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


async def seed(
    dsn: str, start: int, stop: int, completions: int, total: int, batch: int = BATCH
) -> float:
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
        for lo in range(start, stop, batch):
            n = min(batch, stop - lo)
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


REPORTS_MARKER = "report_enrollments_trg"


def seed_database(
    suffix: str, enrollments: int, completions: int, total: int
) -> tuple[BenchDatabase, float, str]:
    """A database holding ``enrollments`` rows; returns it, seconds taken and the method."""
    t0 = time.monotonic()
    before = harness.revision_before(REPORTS_MARKER)
    db = harness.fresh_database(suffix, revision=before)
    if before == "head":
        method = "COPY with the row triggers firing (2,000 rows per transaction)"
        asyncio.run(seed(db.dsn, 0, enrollments, completions, total, batch=BATCH))
    else:
        method = (
            f"COPY at revision {before} (before the reports migration), then "
            "`db upgrade` to head, whose reports migration backfills the counters"
        )
        asyncio.run(seed(db.dsn, 0, enrollments, completions, total, batch=50_000))
        db = harness.finish_database(db.name)
    return db, time.monotonic() - t0, method


def _points(settings: Settings, db: BenchDatabase, label: str, n: int) -> list[dict[str, Any]]:
    points = []
    # The seeded completions have follow-up windows open: announce them before measuring.
    catch_up = jobs.drain(db.name)
    with run_server("service", db.name, WORKERS, settings) as server:
        require_endpoint(server, "get", "/api/v1/reports/progress")
        args = {"path": "/api/v1/reports/progress", "token": db.admin_token}
        # Latency as a reporting job or dashboard sees it (one caller at a time)...
        one = replace(settings, connections=LATENCY_CONNECTIONS, threads=1)
        points.append(measure(one, server, f"progress @ {label}, 1 connection", "get", args))
        # ... and what the endpoint sustains under a crowd (latency is then queueing).
        crowd = f"progress @ {label}, {settings.connections} connections (throughput)"
        points.append(measure(settings, server, crowd, "get", args))
        if label == "large" and has_endpoint(server, "get", "/api/v1/reports/breakdown"):
            # One request alone first: its latency even when wrk completes none.
            t0 = time.monotonic()
            single = server.get(BREAKDOWN, db.admin_token, timeout=300)
            single_s = time.monotonic() - t0
            # An analytical read: a few concurrent callers, not a crowd.
            few = replace(settings, connections=min(settings.connections, BREAKDOWN_CONNECTIONS))
            args = {"path": BREAKDOWN, "token": db.admin_token}
            point = measure(few, server, f"breakdown @ {label}", "get", args)
            point["single_request_s"] = round(single_s, 3)
            point["single_request_status"] = single.status_code
            points.append(point)
    for p in points:
        p["enrollments"] = n
        p.update(catch_up)
    return points


def run(settings: Settings) -> dict[str, Any]:
    sizes = settings.sizes()
    small, large = sizes["progress_small"], sizes["progress_large"]
    completions = sizes["progress_completions"]
    probe = harness.fresh_database("progress_probe")
    try:
        with run_server("service", probe.name, 1, settings) as server:
            try:
                require_endpoint(server, "get", "/api/v1/reports/progress")
            except Pending as exc:
                return {"status": "pending", "points": [], "notes": [str(exc)]}
    finally:
        harness.drop_database(probe.name)
    points: list[dict[str, Any]] = []
    seed_s: dict[str, float] = {}
    # The same share of completions at both points (3,000 of 10,000; 300,000 of 1M).
    db, seed_s["small"], method = seed_database("progress_small", small, completions, large)
    try:
        points += _points(settings, db, "small", small)
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    db, seed_s["large"], method = seed_database("progress_large", large, completions, large)
    keep = False
    try:
        points += _points(settings, db, "large", large)
        LAST.clear()
        LAST.update(db=db, completions=completions)
        keep = True
    finally:
        if not keep and not settings.keep_databases:
            harness.drop_database(db.name)
    breakdown = [p for p in points if p["label"].startswith("breakdown")]
    single = (
        f"; one breakdown request alone took {breakdown[0]['single_request_s']:.2f} s "
        f"(HTTP {breakdown[0]['single_request_status']})"
        if breakdown
        else ""
    )
    notes = [
        f"small = {small:,} enrollments ({small * completions // large:,} completions); "
        f"large = {large:,} enrollments with {completions:,} completions, each with a "
        f"certificate; 1 applicant per enrollment, {COHORTS} cohorts, 2 programmes",
        f"seeded by {method}: {seed_s['small']:.1f} s and {seed_s['large']:.1f} s",
        f"breakdown: GET {BREAKDOWN}, {BREAKDOWN_CONNECTIONS} connections{single}",
    ]
    return {
        "status": "ok",
        "points": points,
        "notes": notes,
        "seed_seconds": seed_s,
        "sizes": {"small": small, "large": large, "completions": completions},
    }
