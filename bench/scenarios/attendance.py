"""attendance-mark / attendance-roster: marking a session, and a roster with percents.

attendance-mark: PUT /api/v1/sessions/{id}/attendance with a 40-trainee body, 32
concurrent connections (staff clients) on 2 workers, bodies alternating between
"all present" and "all absent" so every request rewrites the marks (and their
history). Goal: p99 < 100 ms. Two points: the worst case, every connection on the
SAME session (markings of one cohort are serialised), and the connections spread
over the sessions of 8 cohorts (as 32 staff at several centres would be).

attendance-roster: GET /api/v1/cohorts/{id}/attendance?limit=500 on a cohort of 200
trainees with 60 sessions held, every session marked (COPY-seeded), 2 workers.
Goal: p50 < 20 ms. Two points: latency with one connection (as a staff page sees
it), and what 32 connections sustain (their latency is then queueing).

Applicants are COPY-seeded; the cohort, enrollments and sessions are made through
the API (the cohort runs from 70 days ago, sessions dated up to today, UTC).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
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
MARK_COHORTS = 8  # the spread point: one session in each of these cohorts
LATENCY_CONNECTIONS = 1
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
            points, notes = work(server, db, applicants)
            return {"status": "ok", "points": points, "notes": notes}
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)


def _mark_body(enrollments: list[str], status: str) -> str:
    return json.dumps([{"enrollment_id": e, "status": status} for e in enrollments])


def run_mark(settings: Settings) -> dict[str, Any]:
    def work(
        server: Server, db: BenchDatabase, applicants: list[str]
    ) -> tuple[list[Any], list[str]]:
        token = db.admin_token
        groups = [
            applicants[i * MARK_TRAINEES : (i + 1) * MARK_TRAINEES] for i in range(MARK_COHORTS + 1)
        ]
        cohort = _cohort(server, token, "bench-att-mark", groups[0], 1)
        bodies = [_mark_body(cohort["enrollments"], s) for s in ("present", "absent")]
        path = f"/api/v1/sessions/{cohort['sessions'][0]}/attendance"
        args = {
            "token": token,
            "path": path,
            "bodies": str(write_lines(settings.work_dir / "mark-bodies.txt", bodies)),
        }
        points = [measure(settings, server, f"mark {MARK_TRAINEES} trainees", "mark", args)]
        # Spread: consecutive requests go to different cohorts, each alternating its bodies.
        spread = [
            _cohort(server, token, f"bench-att-mark-{i}", group, 1)
            for i, group in enumerate(groups[1:])
        ]
        lines = [
            f"/api/v1/sessions/{c['sessions'][0]}/attendance {_mark_body(c['enrollments'], s)}"
            for s in ("present", "absent")
            for c in spread
        ]
        args = {
            "token": token,
            "requests": str(write_lines(settings.work_dir / "mark-requests.txt", lines)),
        }
        label = f"mark {MARK_TRAINEES} trainees, {MARK_COHORTS} cohorts"
        points.append(measure(settings, server, label, "mark", args))
        notes = [
            f"{MARK_TRAINEES} trainees per request, {settings.connections} connections: "
            f"all on one session (worst case: one cohort's markings are serialised), then "
            f"spread over one session in each of {MARK_COHORTS} cohorts"
        ]
        return points, notes

    return _run(settings, "attendance_mark", MARK_TRAINEES * (MARK_COHORTS + 1), work)


def run_roster(settings: Settings) -> dict[str, Any]:
    def work(
        server: Server, db: BenchDatabase, applicants: list[str]
    ) -> tuple[list[Any], list[str]]:
        cohort = _cohort(server, db.admin_token, "bench-att-roster", applicants, ROSTER_SESSIONS)
        asyncio.run(_seed_marks(db.dsn, cohort["sessions"], cohort["enrollments"]))
        path = f"/api/v1/cohorts/{cohort['id']}/attendance?limit=500"
        body = _ok(server.get(path, db.admin_token), "reading the roster")
        if len(body["items"]) != ROSTER_TRAINEES:
            raise BenchError(f"roster has {len(body['items'])} rows, expected {ROSTER_TRAINEES}")
        args = {"token": db.admin_token, "path": path}
        label = f"roster {ROSTER_TRAINEES} × {ROSTER_SESSIONS}"
        one = replace(settings, connections=LATENCY_CONNECTIONS, threads=1)
        points = [
            measure(one, server, f"{label}, {LATENCY_CONNECTIONS} connection", "get", args),
            measure(settings, server, label, "get", args),
        ]
        return points, [f"{ROSTER_TRAINEES} trainees × {ROSTER_SESSIONS} sessions, all marked"]

    return _run(settings, "attendance_roster", ROSTER_TRAINEES, work)
