"""events: what the outbox costs, how fast the dispatcher delivers, the feed at 1M events.

- **Outbox A/B** (one run, one server with 2 workers, same settings): register
  and enroll-hot with the outbox on and off. The outbox is written by database
  triggers (migration 0008, reused by 0011): ``events_applicants_ins`` on
  ``applicants`` (``applicant.registered``) and ``events_enrollment_events_ins`` on
  ``enrollment_events`` (``enrollment.*``). For the "off" points the bench runs
  ``ALTER TABLE … DISABLE TRIGGER`` on exactly those two, on the bench database
  only, and enables them again for the "on" points. Order: register on, off;
  enroll off, on (so drift over the run favours neither side). Each point counts
  the event rows written meanwhile (0 when off).
- **Dispatcher throughput**: a local receiver answering 204 at once
  (``bench/receiver.py``, its own process), one webhook endpoint subscribed to
  ``*`` (``ENROLL_WEBHOOK_ALLOW_PRIVATE=true`` allows http and loopback), then
  N events inserted by SQL in one transaction while 1 (then 2) standalone
  dispatchers (``python -m service worker``) are already running; timed from
  that commit until every delivery is ``succeeded`` (fan-out included).
- **Feed at 1M events**: rows inserted by SQL (``INSERT … SELECT
  generate_series``, 100,000 per transaction, so with ten ``xid``s as real
  writers leave them), the fan-out cursor moved past them (as a running
  service would have); ``GET /api/v1/events?limit=500`` with an admin key and
  one connection: the first page, and a page deep in the feed (a cursor 1,000
  events before the end).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import asyncpg
import httpx

from bench import harness
from bench.harness import BenchError, Pending, Settings, measure, run_server
from bench.scenarios import enroll
from bench.scenarios.common import create_cohort, require_endpoint

TITLE = "events: outbox on/off, dispatcher throughput, feed at 1M events"
AB_WORKERS = 2
OUTBOX_TRIGGERS = (
    ("applicants", "events_applicants_ins"),
    ("enrollment_events", "events_enrollment_events_ins"),
)
DISPATCH_ENV = {"ENROLL_WEBHOOK_ALLOW_PRIVATE": "true", "ENROLL_DISPATCHER": "off"}
FEED_PAGE = "/api/v1/events?limit=500"
FEED_BATCH = 100_000
EVENT_TYPES = ("applicant.registered", "enrollment.enrolled", "enrollment.waitlisted",
               "certificate.issued", "cohort.updated")  # fmt: skip


def sizes(settings: Settings) -> dict[str, int]:
    if settings.quick:
        return {"dispatch_events": 2_000, "feed_events": 50_000}
    return {"dispatch_events": 20_000, "feed_events": 1_000_000}


async def _sql(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


async def _fetchval(dsn: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def set_outbox(dsn: str, on: bool) -> None:
    """Enable or disable the outbox triggers of registration and enrollment (bench only)."""
    verb = "ENABLE" if on else "DISABLE"
    asyncio.run(_sql(dsn, *(f"ALTER TABLE {t} {verb} TRIGGER {n}" for t, n in OUTBOX_TRIGGERS)))


def event_count(dsn: str) -> int:
    return int(asyncio.run(_fetchval(dsn, "SELECT count(*) FROM events")))


# ---------------------------------------------------------------- outbox A/B


def run_ab(settings: Settings) -> list[dict[str, Any]]:
    db, applicants = enroll._prepare(settings, "events_ab")
    points: list[dict[str, Any]] = []
    try:
        with run_server("service", db.name, AB_WORKERS, settings) as server:
            require_endpoint(server, "post", "/api/v1/applicants")
            require_endpoint(server, "post", enroll.ENROLL_PATH)
            register = {"path": "/api/v1/applicants", "token": db.admin_token}
            for i, (kind, on) in enumerate(
                (("register", True), ("register", False), ("enroll", False), ("enroll", True))
            ):
                state = "on" if on else "off"
                set_outbox(db.dsn, on)
                if kind == "register":
                    before = event_count(db.dsn)
                    point = measure(
                        settings,
                        server,
                        f"register, outbox {state}",
                        "register",
                        {**register, "prefix": str(40 + 2 * i)},
                        warmup_args={**register, "prefix": str(41 + 2 * i)},
                    )
                else:
                    hot = create_cohort(
                        server, db.admin_token, f"bench-ab-{state}", enroll.HOT_CAPACITY
                    )
                    warm = create_cohort(
                        server, db.admin_token, f"bench-ab-{state}-warm", enroll.HOT_CAPACITY
                    )
                    before = event_count(db.dsn)
                    point = enroll._point(
                        settings,
                        server,
                        db,
                        f"enroll-hot, outbox {state}",
                        applicants,
                        [hot["id"]],
                        warm["id"],
                    )
                point["outbox"] = state
                point["events_written"] = event_count(db.dsn) - before
                points.append(point)
    finally:
        set_outbox(db.dsn, True)
        if not settings.keep_databases:
            harness.drop_database(db.name)
    return points


# ---------------------------------------------------------------- dispatcher


@contextmanager
def receiver(settings: Settings) -> Iterator[str]:
    """The 204 receiver in its own process; yields its base URL."""
    port = harness.free_port()
    argv = [sys.executable, "-m", "bench.receiver", "--port", str(port)]
    with harness.background(
        argv, dict(os.environ), settings.work_dir / f"receiver-{port}.log", stop_seconds=20
    ) as proc:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise BenchError(f"the receiver exited with {proc.returncode}")
            try:
                httpx.get(url + "/count", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise BenchError("the receiver did not start") from None
                time.sleep(0.1)
        yield url


def received(url: str) -> int:
    return int(httpx.get(url + "/count", timeout=5).text)


@contextmanager
def dispatchers(database: str, count: int, settings: Settings) -> Iterator[list[int]]:
    """``count`` standalone dispatcher processes; yields their pids."""
    env = {**harness.service_env(database, settings), **DISPATCH_ENV}
    argv = [sys.executable, "-m", "service", "worker"]
    log_name = f"worker-{database}-{count}-{time.monotonic_ns()}.log"
    with harness.background(argv, env, settings.work_dir / log_name, stop_seconds=20) as proc:
        if count == 1:
            yield [proc.pid]
            return
        with dispatchers(database, count - 1, settings) as others:
            yield [proc.pid, *others]


MAKE_EVENTS = """
INSERT INTO events (id, xid, type, occurred_at, data, applicant_id)
SELECT gen_random_uuid()::text, pg_current_xact_id()::text::bigint, 'applicant.updated', now(),
       json_build_object('applicant_id', a)::text, a
  FROM (SELECT gen_random_uuid()::text AS a FROM generate_series(1, $1::int)) AS s
"""
DELIVERIES = "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FROM webhook_deliveries"


async def _deliver(dsn: str, count: int, wait_s: float) -> dict[str, Any]:
    """Insert ``count`` events in one transaction; time until every delivery succeeded."""
    conn = await asyncpg.connect(dsn)
    try:
        done0, _ = await conn.fetchrow(DELIVERIES)
        await conn.execute(MAKE_EVENTS, count)
        began = time.monotonic()
        fanned = None
        done = done0
        while time.monotonic() - began < wait_s:
            done, total = await conn.fetchrow(DELIVERIES)
            if fanned is None and total - done0 >= count:
                fanned = time.monotonic() - began
            if done - done0 >= count:
                break
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - began
        failed = await conn.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'"
        )
    finally:
        await conn.close()
    return {
        "delivered": done - done0,
        "seconds": round(elapsed, 2),
        "events_per_s": round((done - done0) / elapsed, 1) if elapsed else 0.0,
        "fanned_out_s": None if fanned is None else round(fanned, 2),
        "failed": failed,
    }


def create_endpoint(server: harness.Server, token: str, url: str) -> str:
    require_endpoint(server, "post", "/api/v1/webhooks")
    r = server.post("/api/v1/webhooks", {"url": url + "/hook", "events": ["*"]}, token)
    if r.status_code != 201:
        raise BenchError(f"creating the webhook: {r.status_code} {r.text[:300]}")
    return str(r.json()["id"])


def dispatch_point(
    settings: Settings, db: harness.BenchDatabase, url: str, workers: int, count: int
) -> dict[str, Any]:
    """``count`` events through ``workers`` running dispatchers to the receiver."""
    timeout = max(60.0, count / 50)
    with dispatchers(db.name, workers, settings) as pids:
        # Ready: one probe event delivered (then a moment for the others to start polling).
        probe = asyncio.run(_deliver(db.dsn, 1, 60))
        if probe["delivered"] != 1:
            raise BenchError("no dispatcher delivered the probe event within 60 s")
        time.sleep(2)
        before, cpu = received(url), sum(harness.cpu_seconds(p) for p in pids)
        point = asyncio.run(_deliver(db.dsn, count, timeout))
        cpu = sum(harness.cpu_seconds(p) for p in pids) - cpu
        point["received"] = received(url) - before
        # CPU time the dispatchers spent per delivery: comparable on a busy machine too.
        point["cpu_ms_per_event"] = round(cpu * 1000 / max(point["delivered"], 1), 2)
    return {"label": f"dispatcher x{workers}", "dispatchers": workers, "events": count, **point}


def run_dispatch(settings: Settings) -> list[dict[str, Any]]:
    count = sizes(settings)["dispatch_events"]
    db = harness.fresh_database("events_dispatch")
    points = []
    try:
        with receiver(settings) as url:
            with run_server("service", db.name, 1, settings, extra_env=DISPATCH_ENV) as server:
                create_endpoint(server, db.admin_token, url)
            for workers in (1, 2):
                points.append(dispatch_point(settings, db, url, workers, count))
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    return points


# ---------------------------------------------------------------- feed


SEED_EVENTS = """
INSERT INTO events (id, xid, type, occurred_at, data, applicant_id)
SELECT gen_random_uuid()::text, pg_current_xact_id()::text::bigint,
       ($3::text[])[1 + n % cardinality($3::text[])],
       now() - make_interval(secs => ($2::int - n) * 0.01),
       json_build_object('applicant_id', a, 'status', 'enrolled', 'from', NULL,
                         'to', 'enrolled')::text, a
  FROM (SELECT n, md5(n::text)::uuid::text AS a
          FROM generate_series($1::int, $2::int - 1) AS n) AS s
"""


async def seed_events(dsn: str, count: int) -> tuple[int, int]:
    """``count`` events in batches of FEED_BATCH (one transaction each); the deep cursor."""
    conn = await asyncpg.connect(dsn)
    try:
        for lo in range(0, count, FEED_BATCH):
            await conn.execute(SEED_EVENTS, lo, min(count, lo + FEED_BATCH), list(EVENT_TYPES))
        await conn.execute("ANALYZE events")
        deep = await conn.fetchrow(
            "SELECT xid, seq FROM events ORDER BY xid DESC, seq DESC OFFSET 1000 LIMIT 1"
        )
        # A running service would have fanned these out long ago.
        await conn.execute(
            "UPDATE webhook_fanout SET (after_xid, after_seq) = "
            "(SELECT xid, seq FROM events ORDER BY xid DESC, seq DESC LIMIT 1)"
        )
    finally:
        await conn.close()
    return int(deep["xid"]), int(deep["seq"])


def run_feed(settings: Settings) -> list[dict[str, Any]]:
    count = sizes(settings)["feed_events"]
    db = harness.fresh_database("events_feed")
    points = []
    try:
        t0 = time.monotonic()
        xid, seq = asyncio.run(seed_events(db.dsn, count))
        seeded = round(time.monotonic() - t0, 1)
        with run_server("service", db.name, AB_WORKERS, settings) as server:
            require_endpoint(server, "get", "/api/v1/events")
            one = replace(settings, connections=1, threads=1)
            for label, path in (
                ("first page", FEED_PAGE),
                ("deep page", f"{FEED_PAGE}&after={xid}.{seq}"),
            ):
                r = server.get(path, db.admin_token)
                if r.status_code != 200 or len(r.json()["items"]) != 500:
                    raise BenchError(f"feed {label}: {r.status_code} {r.text[:300]}")
                args = {"path": path, "token": db.admin_token}
                point = measure(one, server, f"feed {label} @ {count:,}, 1 connection", "get", args)
                point["events"] = count
                point["seed_s"] = seeded
                points.append(point)
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    return points


# ---------------------------------------------------------------- the scenario


def run(settings: Settings) -> dict[str, Any]:
    points: list[dict[str, Any]] = []
    notes: list[str] = []
    errors: list[str] = []
    for part in (run_ab, run_dispatch, run_feed):
        try:
            points += part(settings)
        except Pending as exc:
            notes.append(f"{part.__name__}: pending: {exc}")
        except BenchError as exc:
            errors.append(f"{part.__name__}: {exc}")
    n = sizes(settings)
    notes += [
        "outbox off = `ALTER TABLE applicants DISABLE TRIGGER events_applicants_ins` and "
        "`ALTER TABLE enrollment_events DISABLE TRIGGER events_enrollment_events_ins` on the "
        f"bench database only; one server, {AB_WORKERS} workers, for all four points",
        f"dispatcher: {n['dispatch_events']:,} events inserted in one transaction while the "
        "standalone dispatchers run, one endpoint (`*`), a local receiver answering 204; "
        "seconds from that commit until every delivery is succeeded, fan-out included",
        f"feed: {n['feed_events']:,} events seeded by SQL, GET {FEED_PAGE} with an admin key, "
        "one connection; the deep page starts 1,000 events before the end",
    ]
    written = [f"{p['label']}: {p['events_written']:,}" for p in points if "events_written" in p]
    if written:
        notes.append(
            "event rows written during each A/B point (warm-up included): " + "; ".join(written)
        )
    status = "failed" if errors else "ok"
    result: dict[str, Any] = {"status": status, "points": points, "notes": notes}
    if errors:
        result["error"] = "\n".join(errors)
    return result


def goals(points: list[dict[str, Any]]) -> list[tuple[str, bool | None, str]]:
    found = {p["label"]: p for p in points}
    out: list[tuple[str, bool | None, str]] = []
    for kind, on_label, off_label in (
        ("register", "register, outbox on", "register, outbox off"),
        ("enroll-hot", "enroll-hot, outbox on (1 cohort)", "enroll-hot, outbox off (1 cohort)"),
    ):
        on, off = found.get(on_label), found.get(off_label)
        if on is None or off is None or not off["rps"]:
            out.append((f"{kind} with the outbox within 10 % of without", None, ""))
            continue
        ratio = on["rps"] / off["rps"]
        text = f"{kind} outbox on ≥ 90 % of off (measured {ratio:.0%})"
        out.append((text, ratio >= 0.9, "see Analysis"))
    one = next((p for p in points if p.get("dispatchers") == 1), None)
    two = next((p for p in points if p.get("dispatchers") == 2), None)
    if one is None:
        out.append(("one dispatcher ≥ 1,000 events/s", None, ""))
    else:
        extra = f"; 2 dispatchers: {two['events_per_s']:,.0f}/s" if two else ""
        rate = one["events_per_s"]
        ok = rate >= 1000 and one["delivered"] == one["events"]
        out.append((f"one dispatcher ≥ 1,000 events/s (measured {rate:,.0f}{extra})", ok, ""))
    for p in points:
        if p["label"].startswith("feed "):
            text = f"{p['label'].split(' @')[0]} p50 < 20 ms (measured {p['p50_ms']:.1f} ms)"
            out.append((text, p["p50_ms"] < 20, "see Analysis"))
    return out
