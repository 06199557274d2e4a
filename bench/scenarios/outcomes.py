"""outcomes: GET /api/v1/reports/outcomes at 300k completions with 200k outcomes, and a
page of 500 of GET /api/v1/outcomes/due.

One database: applicants, enrollments (all completed, spread over the last 400
days so every follow-up window has completers) and certificates are COPYed at
the revision before the reports migration and migrated to head (the migrations
backfill the report cubes); outcomes (3m and 6m, statuses, income bands, export
figures) are then COPYed with the outcome triggers off and the outcome cube is
rebuilt by the migration's backfill function. Goals (issue #24): the report
p50 < 50 ms, the due page p50 < 30 ms.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench import data, harness, jobs
from bench.harness import BenchDatabase, Pending, Settings, measure, run_server
from bench.scenarios.common import require_endpoint
from bench.scenarios.progress import REPORTS_MARKER, _cohorts

TITLE = "outcomes: outcome report at 300k completions / 200k outcomes, due list page of 500"
WORKERS = 2
BATCH = 50_000
REPORT = "/api/v1/reports/outcomes?follow_up=6m"
REPORT_BY_PROVINCE = "/api/v1/reports/outcomes?follow_up=6m&dimension=province"
DUE = "/api/v1/outcomes/due?follow_up=6m&limit=500"
STATUSES = ("employed", "self_employed", "freelance", "further_study", "unemployed", "unreachable")
BANDS = (None, "lt_25k", "25k_50k", "50k_100k", "gt_100k")
OUTCOME_COLUMNS = (
    "id",
    "enrollment_id",
    "follow_up",
    "status",
    "income_band",
    "online_store",
    "export_orders",
    "export_value_usd",
    "source",
    "recorded_on",
    "created_at",
    "updated_at",
)


def sizes(settings: Settings) -> tuple[int, int]:
    """(completions, outcomes)."""
    return (15_000, 10_000) if settings.quick else (300_000, 200_000)


def _completion_rows(
    lo: int, n: int, cohort_ids: list[str], now: datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    enrollments, certificates = [], []
    k = len(cohort_ids)
    for i in range(lo, lo + n):
        completed = now - timedelta(days=i % 400, seconds=i % 3600)
        eid = data.row_id(2, i)
        enrollments.append(
            (eid, cohort_ids[i % k], data.row_id(1, i), "completed", i // k + 1, 80.0, 90.0,
             completed, completed - timedelta(days=90), completed)
        )  # fmt: skip
        certificates.append((data.row_id(3, i), data.certificate_code(i), eid, completed))
    return enrollments, certificates


def _outcome_rows(completions: int, wanted: int, now: datetime) -> list[tuple[Any, ...]]:
    """Up to ``wanted`` outcomes: 6m and 3m answers of two completers in three."""
    rows: list[tuple[Any, ...]] = []
    for i in range(completions):
        age = i % 400
        if i % 3 == 0:
            continue
        for follow_up, opens in (("6m", 170), ("3m", 80)):
            if age < opens or len(rows) >= wanted:
                continue
            exporter = i % 7 == 0
            rows.append(
                (data.row_id(5 if follow_up == "6m" else 6, i), data.row_id(2, i), follow_up,
                 STATUSES[i % len(STATUSES)], BANDS[i % len(BANDS)], i % 4 == 0,
                 i % 5 if exporter else 0, float(i % 900) if exporter else None, "survey",
                 (now - timedelta(days=age - opens)).date(), now, now)
            )  # fmt: skip
    return rows


async def seed(dsn: str, completions: int) -> None:
    """Applicants, completed enrollments and certificates (run before the reports migration)."""
    conn = await asyncpg.connect(dsn)
    try:
        cohort_ids = sorted(await _cohorts(conn))
        now = datetime.now(UTC)
        for lo in range(0, completions, BATCH):
            n = min(BATCH, completions - lo)
            enrollments, certificates = _completion_rows(lo, n, cohort_ids, now)
            async with conn.transaction():
                await harness.copy_rows(
                    conn, "applicants", data.APPLICANT_COLUMNS, data.applicant_rows(lo, n)
                )
                await harness.copy_rows(conn, "enrollments", data.ENROLLMENT_COLUMNS, enrollments)
                await harness.copy_rows(
                    conn, "certificates", data.CERTIFICATE_COLUMNS, certificates
                )
        await conn.execute(
            "UPDATE cohorts c SET seats_taken = s.n, queue_seq = s.n "
            "FROM (SELECT cohort_id, count(*) AS n FROM enrollments GROUP BY cohort_id) s "
            "WHERE s.cohort_id = c.id"
        )
    finally:
        await conn.close()


async def seed_outcomes(dsn: str, completions: int, wanted: int) -> int:
    """COPY the outcomes with their triggers off, then rebuild the outcome cube."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = _outcome_rows(completions, wanted, datetime.now(UTC))
        async with conn.transaction():
            await conn.execute("ALTER TABLE outcomes DISABLE TRIGGER USER")
            for lo in range(0, len(rows), BATCH):
                await harness.copy_rows(conn, "outcomes", OUTCOME_COLUMNS, rows[lo : lo + BATCH])
            await conn.execute("ALTER TABLE outcomes ENABLE TRIGGER USER")
            await conn.execute("DELETE FROM report_outcome_counts")
            await conn.execute("SELECT report_outcome_backfill(NULL)")
        await conn.execute("ANALYZE")
        return len(rows)
    finally:
        await conn.close()


def seed_database(suffix: str, completions: int, outcomes: int) -> tuple[BenchDatabase, int]:
    before = harness.revision_before(REPORTS_MARKER)
    db = harness.fresh_database(suffix, revision=before)
    asyncio.run(seed(db.dsn, completions))
    db = harness.finish_database(db.name)
    return db, asyncio.run(seed_outcomes(db.dsn, completions, outcomes))


def run(settings: Settings) -> dict[str, Any]:
    completions, wanted = sizes(settings)
    t0 = time.monotonic()
    db, outcomes = seed_database("outcomes", completions, wanted)
    seed_s = time.monotonic() - t0
    points: list[dict[str, Any]] = []
    try:
        # Windows opened long ago: the service announces them once (outcome.due) before
        # the steady state this scenario measures.
        catch_up = jobs.drain(db.name)
        with run_server("service", db.name, WORKERS, settings) as server:
            try:
                require_endpoint(server, "get", "/api/v1/reports/outcomes")
                require_endpoint(server, "get", "/api/v1/outcomes/due")
            except Pending as exc:
                return {"status": "pending", "points": [], "notes": [str(exc)]}
            # Latency goals: one caller at a time, as a dashboard or a call centre sees it.
            one = replace(settings, connections=1, threads=1)
            for label, path in (
                ("outcome report (6m, by programme)", REPORT),
                ("outcome report (6m, by province)", REPORT_BY_PROVINCE),
                ("due list, page of 500 (6m)", DUE),
            ):
                point = measure(one, server, label, "get", {"path": path, "token": db.admin_token})
                point["completions"], point["outcomes"] = completions, outcomes
                point.update(catch_up)
                points.append(point)
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    return {
        "status": "ok",
        "points": points,
        "notes": [
            f"{completions:,} completions spread over 400 days, {outcomes:,} outcomes (3m, 6m), "
            f"200 cohorts, 2 programmes; seeded in {seed_s:.1f} s",
            f"report: GET {REPORT} and by province; due: GET {DUE}; 1 connection each",
        ],
        "sizes": {"completions": completions, "outcomes": outcomes},
    }
