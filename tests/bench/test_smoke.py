"""Smoke tests of the benchmark harness (bench/): it still imports, generates and starts.

No assertion here is about speed. The first group needs nothing but Python;
the PostgreSQL group seeds tiny data with the scenario seeders and runs a
~1 s wrk point against the floor app and the real server (skipped with a
reason when wrk is missing).
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bench import data, harness, report
from bench.harness import Settings
from bench.scenarios import (
    SCENARIOS,
    catalog,
    enroll,
    events,
    export,
    import_,
    offers,
    outcomes,
    progress,
    register,
)
from tests.conftest import PG_URL

BRIEF_NAMES = {"register", "enroll-hot", "enroll-spread", "progress", "export", "import"}
BRIEF_NAMES |= {"churn", "offer-sweep", "events"}


def test_every_scenario_is_registered() -> None:
    assert set(SCENARIOS) >= BRIEF_NAMES
    for module in (catalog, enroll, events, export, import_, offers, progress, register):
        assert module.__doc__
    for title, runner in SCENARIOS.values():
        assert title
        assert callable(runner)


def test_applicant_generator_gives_unique_valid_rows() -> None:
    rows = data.applicant_rows(0, 500)
    assert len(rows) == 500
    cnics = [r[1] for r in rows]
    assert len(set(cnics)) == 500
    assert all(re.fullmatch(r"\d{5}-\d{7}-\d", c) for c in cnics)
    assert all(re.fullmatch(r"\+923\d{9}", r[6]) for r in rows)
    assert len({r[0] for r in rows}) == 500
    assert len(rows[0]) == len(data.APPLICANT_COLUMNS)
    body = data.applicant_fields(7)
    assert body["consent"] is True
    assert set(body) >= {"cnic", "full_name", "date_of_birth", "phone", "province"}


def test_enrollment_generator_matches_applicants_and_certificates() -> None:
    cohorts = [data.row_id(4, i) for i in range(3)]
    now = datetime.now(UTC)
    pairs = list(data.enrollment_rows(0, 100, cohorts, completions=30, total=100, now=now))
    assert len(pairs) == 100
    statuses = [row[3] for row, _ in pairs]
    assert statuses.count("completed") == 30
    assert [row[3] for row, _ in pairs[:10]].count("completed") == 3
    certs = [c for _, c in pairs if c is not None]
    assert len(certs) == 30
    assert len({c[1] for c in certs}) == 30
    assert all(row[2] == data.row_id(1, i) for i, (row, _) in enumerate(pairs))
    assert all(len(row) == len(data.ENROLLMENT_COLUMNS) for row, _ in pairs)


def test_import_csv_has_the_post_field_names(tmp_path: Path) -> None:
    path = data.import_csv(tmp_path / "a.csv", 25)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 25
    assert set(rows[0]) == set(data.applicant_fields(0))
    assert {r["consent"] for r in rows} == {"true"}
    assert data.csv_rows(path.read_text()) == 25


def test_lua_scripts_are_complete(tmp_path: Path) -> None:
    for name in ("get", "register", "centre", "enroll", "mark"):
        script = harness.lua_script(name, tmp_path).read_text()
        assert "function done(" in script
        assert "function request()" in script
        assert "BENCH_JSON" in script


def test_report_renders_goals_from_results() -> None:
    point = {
        "label": "POST /api/v1/applicants",
        "workers": 2,
        "requests": 3600,
        "rps": 1200.0,
        "p50_ms": 20.0,
        "p90_ms": 40.0,
        "p99_ms": 80.0,
        "max_ms": 90.0,
        "non2xx": 0,
        "n5xx": 0,
        "socket_errors": 0,
        "peak_rss_mb": 200.0,
        "wrk_cpu_share": 0.2,
        "server_cpu_share": 0.9,
        "worker_cpu_split": [0.5, 0.5],
    }
    floor = {**point, "label": "floor: raw asyncpg INSERT", "rps": 3000.0}
    results = {
        "machine": report.machine_info(),
        "settings": {
            "duration": 1,
            "warmup": 0,
            "connections": 4,
            "threads": 1,
            "wrk_cpus": None,
            "log_level": "info",
            "quick": True,
        },
        "label": "test",
        "scenarios": {
            "register": {"status": "ok", "points": [floor, point], "notes": []},
            "import": {"status": "pending", "points": [], "notes": ["not built"]},
        },
    }
    text = report.render(results, {"register": "register", "import": "import"})
    assert "✔ 2 workers ≥ 1,000 req/s" in text
    assert "✘ 2 workers ≥ 50 % of the raw-asyncpg floor (measured 40%)" in text
    assert "**Pending**: not built" in text


def test_report_renders_points_measured_without_wrk() -> None:
    dispatch = {"label": "dispatcher x1", "dispatchers": 1, "events": 100, "delivered": 100}
    dispatch |= {"seconds": 0.05, "events_per_s": 2000.0, "fanned_out_s": 0.01, "failed": 0}
    sweep = {"label": "offer-sweep (1 cohort)", "offers_expired": 2000, "sweep_s": 1.5}
    results = {
        "machine": report.machine_info(),
        "settings": {
            "duration": 1,
            "warmup": 0,
            "connections": 4,
            "threads": 1,
            "wrk_cpus": None,
            "log_level": "info",
            "quick": True,
        },
        "scenarios": {
            "events": {"status": "ok", "points": [dispatch], "notes": []},
            "offer-sweep": {"status": "ok", "points": [sweep], "notes": []},
        },
    }
    text = report.render(results, {"events": "events", "offer-sweep": "offer-sweep"})
    assert "| dispatcher x1 | 1 | 100 | 100 | 0.1 | 2,000.0 |" in text
    assert "✔ one dispatcher ≥ 1,000 events/s (measured 2,000)" in text
    assert "| offer-sweep (1 cohort) | 2,000 | 1.5 |" in text


# ---------------------------------------------------------------- with PostgreSQL

needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)"
)


@pytest.fixture
def bench_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the harness at the test PostgreSQL server, with database names of its own."""
    assert PG_URL is not None
    url = make_url(PG_URL)
    monkeypatch.setattr(harness, "PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setattr(harness, "PG_PORT", url.port or 5432)
    monkeypatch.setattr(harness, "PG_USER", url.username or "postgres")
    monkeypatch.setattr(harness, "DB_PREFIX", f"{url.database}_bench")
    return Settings(
        duration=1, warmup=0, connections=4, wrk_cpus=None, log_level="warning", work_dir=tmp_path
    )


async def _count(dsn: str, table: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
    finally:
        await conn.close()


@pytest.mark.postgres_only
@pytest.mark.slow
def test_scenario_seeders_on_tiny_sizes(bench_settings: Settings) -> None:
    db = harness.fresh_database("smoke_seed")
    try:
        ids = asyncio.run(enroll._seed_applicants(db.dsn, 50))
        assert len(ids) == 50
        assert asyncio.run(_count(db.dsn, "applicants")) == 50
        db2 = harness.fresh_database("smoke_seed2")
        try:
            asyncio.run(progress.seed(db2.dsn, 0, 200, 40, 200))
            assert asyncio.run(_count(db2.dsn, "enrollments")) == 200
            assert asyncio.run(_count(db2.dsn, "certificates")) == 40
        finally:
            harness.drop_database(db2.name)
    finally:
        harness.drop_database(db.name)


@pytest.mark.postgres_only
@pytest.mark.slow
@needs_wrk
def test_floor_and_service_points_run(bench_settings: Settings) -> None:
    db = harness.fresh_database("smoke")
    try:
        asyncio.run(register._scratch_table(db.dsn))
        with harness.run_server("floor", db.name, 1, bench_settings) as floor:
            point = harness.measure(
                bench_settings,
                floor,
                "floor: raw asyncpg INSERT",
                "register",
                {"path": "/floor/applicants", "prefix": "10"},
            )
        assert point["requests"] > 0
        assert point["non2xx"] == 0, point["error_samples"]
        # wrk stops counting at its deadline; requests then in flight still land.
        assert asyncio.run(_count(db.dsn, "bench_floor_applicants")) >= point["requests"]
        with harness.run_server("service", db.name, 2, bench_settings) as server:
            assert len(server.worker_pids) == 2
            args = {"path": "/api/v1/programmes", "token": db.admin_token}
            point = harness.measure(bench_settings, server, "programmes", "get", args)
        assert point["requests"] > 0
        assert point["non2xx"] == 0, point["error_samples"]
        assert len(point["worker_cpu_split"]) == 2
        assert point["peak_rss_mb"] > 0
    finally:
        harness.drop_database(db.name)


@pytest.mark.postgres_only
@pytest.mark.slow
@needs_wrk
def test_run_py_writes_report_and_json(bench_settings: Settings, tmp_path: Path) -> None:
    from bench import run

    out, raw = tmp_path / "b.md", tmp_path / "b.json"
    argv = ["--only", "catalog", "--duration", "1", "--warmup", "0", "--connections", "4"]
    argv += ["--wrk-cpus", "", "--output", str(out), "--json", str(raw), "--fresh"]
    assert run.main(argv) == 0
    results = json.loads(raw.read_text())
    points = results["scenarios"]["catalog"]["points"]
    assert [p["label"] for p in points] == ["GET /api/v1/programmes", "POST /api/v1/centres"]
    assert all(p["non2xx"] == 0 for p in points)
    assert "## catalog" in out.read_text()


@pytest.mark.postgres_only
@pytest.mark.slow
def test_outcomes_scenario_on_tiny_sizes(bench_settings: Settings) -> None:
    db, made = outcomes.seed_database("smoke_outcomes", 600, 300)
    try:
        assert made == 300
        with harness.run_server("service", db.name, 1, bench_settings) as server:
            report_ = server.get(outcomes.REPORT, db.admin_token)
            assert report_.status_code == 200, report_.text
            rows = report_.json()["rows"]
            assert sum(r["responses"] for r in rows) > 0
            due = server.get(outcomes.DUE, db.admin_token)
            assert due.status_code == 200, due.text
            assert due.json()["items"]
    finally:
        harness.drop_database(db.name)


@pytest.mark.postgres_only
@pytest.mark.slow
def test_events_scenario_parts_on_tiny_sizes(bench_settings: Settings) -> None:
    db = harness.fresh_database("smoke_events")
    try:
        events.set_outbox(db.dsn, False)
        before = events.event_count(db.dsn)
        asyncio.run(enroll._seed_applicants(db.dsn, 5))
        assert events.event_count(db.dsn) == before  # the outbox is off
        events.set_outbox(db.dsn, True)
        with events.receiver(bench_settings) as url:
            env = events.DISPATCH_ENV
            with harness.run_server("service", db.name, 1, bench_settings, extra_env=env) as srv:
                events.create_endpoint(srv, db.admin_token, url)
            point = events.dispatch_point(bench_settings, db, url, 1, 50)
        assert point["delivered"] == 50, point
        assert point["received"] >= 50
        assert point["failed"] == 0
        xid, seq = asyncio.run(events.seed_events(db.dsn, 1_600))
        with harness.run_server("service", db.name, 1, bench_settings) as server:
            page = server.get(events.FEED_PAGE, db.admin_token).json()
            assert len(page["items"]) == 500
            deep = server.get(f"{events.FEED_PAGE}&after={xid}.{seq}", db.admin_token).json()
            assert len(deep["items"]) == 500
    finally:
        harness.drop_database(db.name)
