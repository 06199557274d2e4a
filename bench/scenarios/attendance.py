"""attendance-mark / attendance-roster: marking a session, and a roster with percents.

attendance-mark: PUT /api/v1/sessions/{id}/attendance with a 40-trainee body, 32
concurrent connections (staff clients) on 2 workers, bodies alternating between
"all present" and "all absent" so every request rewrites the marks (and their
history). Goal: p99 < 100 ms.

attendance-roster: GET /api/v1/cohorts/{id}/attendance?limit=500 on a cohort of 200
trainees with 60 sessions held, every session marked (COPY-seeded), 2 workers.
Goal: p50 < 20 ms.

Applicants are COPY-seeded; the cohort, enrollments and sessions are made through
the API (the cohort runs from 70 days ago, sessions dated up to today, UTC).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench import data, harness
from bench.harness import BenchDatabase, BenchError, Pending, Server, Settings, measure, run_server
from bench.scenarios.common import require_endpoint, write_lines

TITLE_MARK = "attendance-mark: PUT /api/v1/sessions/{id}/attendance, 40 trainees"
TITLE_ROSTER = "attendance-roster: GET /api/v1/cohorts/{id}/attendance, 200 × 60"
MARK_TRAINEES, ROSTER_TRAINEES, ROSTER_SESSIONS = 40, 200, 60
STATUSES = ("present", "present", "present", "late", "absent", "excused")


async def _seed_applicants(dsn: str, count: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await harness.copy_rows(
                conn, "applicants", data.APPLICANT_COLUMNS, data.applicant_rows(0, count)
            )
        return [data.row_id(1, n) for n in range(count)]
    finally:
        await conn.close()


def _ok(r: httpx.Response, what: str, status: int = 200) -> Any:
    if r.status_code != status:
        raise BenchError(f"{what}: {r.status_code} {r.text[:500]}")
    return r.json()


def _cohort(
    server: Server, token: str, code: str, applicants: list[str], sessions: int
) -> dict[str, Any]:
    """An in-progress cohort with ``applicants`` enrolled and ``sessions`` held (to today)."""
    today = datetime.now(UTC).date()
    body = {
        "programme": "zte-ict",
        "centre": "isb-gitc",
        "code": code,
        "name": f"Bench {code}",
        "track": "cloud-computing",
        "start_date": (today - timedelta(days=70)).isoformat(),
        "end_date": (today + timedelta(days=30)).isoformat(),
        "capacity": len(applicants),
        "mode": "onsite",
    }
    cohort = _ok(server.post("/api/v1/cohorts", body, token), "creating the cohort", 201)
    enrollments = [
        _ok(
            server.post(f"/api/v1/cohorts/{cohort['id']}/enrollments", {"applicant_id": a}, token),
            "enrolling",
            201,
        )["id"]
        for a in applicants
    ]
    _ok(server.post(f"/api/v1/cohorts/{cohort['id']}/start", {}, token), "starting")
    days = [
        {"date": (today - timedelta(days=sessions - 1 - i)).isoformat()} for i in range(sessions)
    ]
    made = _ok(
        server.post(f"/api/v1/cohorts/{cohort['id']}/sessions", {"sessions": days}, token),
        "creating sessions",
        201,
    )
    return {
        "id": cohort["id"],
        "enrollments": enrollments,
        "sessions": [s["id"] for s in made["items"]],
    }


async def _seed_marks(dsn: str, sessions: list[str], enrollments: list[str]) -> None:
    now = datetime.now(UTC)
    rows = [
        (s, e, STATUSES[(i * 7 + j) % len(STATUSES)], now)
        for i, s in enumerate(sessions)
        for j, e in enumerate(enrollments)
    ]
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await harness.copy_rows(
                conn,
                "attendance_marks",
                ("session_id", "enrollment_id", "status", "marked_at"),
                rows,
            )
        await conn.execute("ANALYZE attendance_marks")
    finally:
        await conn.close()


def _run(settings: Settings, suffix: str, trainees: int, work: Any) -> dict[str, Any]:
    db: BenchDatabase = harness.fresh_database(suffix)
    try:
        applicants = asyncio.run(_seed_applicants(db.dsn, trainees))
        with run_server("service", db.name, 2, settings) as server:
            try:
                require_endpoint(server, "put", "/api/v1/sessions/{id}/attendance")
                require_endpoint(server, "get", "/api/v1/cohorts/{id}/attendance")
            except Pending as exc:
                return {"status": "pending", "points": [], "notes": [str(exc)]}
            point, notes = work(server, db, applicants)
            return {"status": "ok", "points": [point], "notes": notes}
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)


def run_mark(settings: Settings) -> dict[str, Any]:
    def work(server: Server, db: BenchDatabase, applicants: list[str]) -> tuple[Any, list[str]]:
        cohort = _cohort(server, db.admin_token, "bench-att-mark", applicants, 1)
        bodies = [
            json.dumps([{"enrollment_id": e, "status": status} for e in cohort["enrollments"]])
            for status in ("present", "absent")
        ]
        path = f"/api/v1/sessions/{cohort['sessions'][0]}/attendance"
        args = {
            "token": db.admin_token,
            "path": path,
            "bodies": str(write_lines(settings.work_dir / "mark-bodies.txt", bodies)),
        }
        point = measure(settings, server, f"mark {MARK_TRAINEES} trainees", "mark", args)
        note = (
            f"one session, {MARK_TRAINEES} trainees per request, {settings.connections} connections"
        )
        return point, [note]

    return _run(settings, "attendance_mark", MARK_TRAINEES, work)


def run_roster(settings: Settings) -> dict[str, Any]:
    def work(server: Server, db: BenchDatabase, applicants: list[str]) -> tuple[Any, list[str]]:
        cohort = _cohort(server, db.admin_token, "bench-att-roster", applicants, ROSTER_SESSIONS)
        asyncio.run(_seed_marks(db.dsn, cohort["sessions"], cohort["enrollments"]))
        path = f"/api/v1/cohorts/{cohort['id']}/attendance?limit=500"
        body = _ok(server.get(path, db.admin_token), "reading the roster")
        if len(body["items"]) != ROSTER_TRAINEES:
            raise BenchError(f"roster has {len(body['items'])} rows, expected {ROSTER_TRAINEES}")
        args = {"token": db.admin_token, "path": path}
        point = measure(
            settings, server, f"roster {ROSTER_TRAINEES} × {ROSTER_SESSIONS}", "get", args
        )
        return point, [f"{ROSTER_TRAINEES} trainees × {ROSTER_SESSIONS} sessions, all marked"]

    return _run(settings, "attendance_roster", ROSTER_TRAINEES, work)
