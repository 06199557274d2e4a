"""Machine facts, goals and the Markdown report (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import asyncpg

from bench.harness import pg_dsn, wrk_version
from bench.scenarios import events as events_scenario

PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "sqlalchemy",
    "asyncpg",
    "pydantic",
    "pydantic-core",
)

OK, NO = "✔", "✘"


# ---------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


async def _pg_version() -> str:
    conn = await asyncpg.connect(pg_dsn("postgres"))
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine_info() -> dict[str, Any]:
    versions: dict[str, str] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        versions["postgresql"] = asyncio.run(_pg_version())
    except (OSError, asyncpg.PostgresError) as exc:
        versions["postgresql"] = f"unreachable ({exc})"
    versions["wrk"] = wrk_version()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _mem_total_gib(),
        "kernel": platform.release(),
        "loadavg_at_start": _loadavg(),
        "versions": versions,
    }


# ---------------------------------------------------------------- goals

Goal = tuple[str, bool | None, str]  # (text, met? None = not measured, note)


def _find(points: list[dict[str, Any]], label_start: str, workers: int | None = None) -> Any:
    for p in points:
        if str(p.get("label", "")).startswith(label_start) and (
            workers is None or p.get("workers") == workers
        ):
            return p
    return None


def _limits(p: dict[str, Any]) -> list[str]:
    """What a measured point's own numbers say about where its limit is."""
    notes = []
    if p.get("server_cpu_share") is not None and p["server_cpu_share"] >= 0.8:
        notes.append(
            f"server processes used {p['server_cpu_share']:.0%} of all cores (CPU-bound, "
            "sharing the cores with wrk and PostgreSQL)"
        )
    if p.get("wrk_cpu_share") is not None and p["wrk_cpu_share"] >= 0.5:
        notes.append(f"wrk used {p['wrk_cpu_share']:.0%} of one core")
    split = p.get("worker_cpu_split") or []
    if len(split) > 1 and max(split) - min(split) > 0.2:
        notes.append(f"uneven worker CPU split {split}")
    if p.get("n5xx"):
        notes.append(f"{p['n5xx']} 5xx answers: {str(p.get('error_samples', ''))[:200]!r}")
    return notes


def goals_register(points: list[dict[str, Any]]) -> list[Goal]:
    api = _find(points, "POST /api/v1/applicants", 2)
    floor = _find(points, "floor: raw asyncpg INSERT", 2)
    if api is None:
        return [("register 2 workers ≥ 1,000 req/s, p99 < 100 ms, ≥ 50 % of floor", None, "")]
    limits = "; ".join(_limits(api))
    ratio = api["rps"] / floor["rps"] if floor and floor["rps"] else 0.0
    floor_note = ""
    if floor and floor["rps"] < 1000:
        floor_note = f"the raw-asyncpg floor itself reaches only {floor['rps']:,.0f} req/s here"
    elif floor:
        floor_note = (
            f"the raw-asyncpg floor does {floor['rps']:,.0f} req/s on the same machine, so "
            "the gap is the service's own request path (see Analysis)"
        )
    return [
        (
            f"2 workers ≥ 1,000 req/s (measured {api['rps']:,.0f})",
            api["rps"] >= 1000,
            "; ".join(x for x in (floor_note, limits) if x),
        ),
        (
            f"2 workers p99 < 100 ms (measured {api['p99_ms']:.1f} ms)",
            api["p99_ms"] < 100,
            limits or "see Analysis",
        ),
        (
            f"2 workers ≥ 50 % of the raw-asyncpg floor (measured {ratio:.0%})",
            ratio >= 0.5,
            limits or "see Analysis",
        ),
        *_district_goal(api, _find(points, "POST /api/v1/applicants, district", 2)),
    ]


def _district_goal(api: dict[str, Any], alias: dict[str, Any] | None) -> list[Goal]:
    if alias is None or not api["rps"]:
        return []
    ratio = alias["rps"] / api["rps"]
    text = f"district matching (a non-canonical spelling) costs < 5 % (measured {1 - ratio:.0%})"
    return [(text, ratio >= 0.95, "the two points are taken back to back; see Analysis")]


def goals_enroll_hot(points: list[dict[str, Any]]) -> list[Goal]:
    p = _find(points, "enroll-hot", 2)
    if p is None:
        return [("enroll-hot 2 workers ≥ 500 req/s, p99 < 150 ms, zero 5xx", None, "")]
    limits = "; ".join([*_limits(p), "see Analysis"])
    return [
        (f"2 workers ≥ 500 req/s (measured {p['rps']:,.0f})", p["rps"] >= 500, limits),
        (f"2 workers p99 < 150 ms (measured {p['p99_ms']:.1f} ms)", p["p99_ms"] < 150, limits),
        (f"zero 5xx (measured {p['n5xx']})", p["n5xx"] == 0, limits),
    ]


def goals_enroll_spread(points: list[dict[str, Any]]) -> list[Goal]:
    p = _find(points, "enroll-spread", 2)
    if p is None:
        return []
    return [(f"zero 5xx (measured {p['n5xx']}; no throughput goal set)", p["n5xx"] == 0, "")]


def goals_progress(points: list[dict[str, Any]]) -> list[Goal]:
    small = _find(points, "progress @ small, 1 connection")
    large = _find(points, "progress @ large, 1 connection")
    if small is None or large is None:
        return [("progress at 1M p50 < 20 ms and ≤ 2× the 10k figure", None, "")]
    ratio = large["p50_ms"] / small["p50_ms"] if small["p50_ms"] else float("inf")
    limits = "; ".join([*_limits(large), "see Analysis"])
    goals: list[Goal] = [
        (
            f"p50 at large, one caller, < 20 ms (measured {large['p50_ms']:.1f} ms)",
            large["p50_ms"] < 20,
            limits,
        ),
        (f"p50 at large ≤ 2× small (measured {ratio:.2f}×)", ratio <= 2, limits),
    ]
    breakdown = _find(points, "breakdown @ large")
    if breakdown is not None and "single_request_s" in breakdown:
        single_ms = breakdown["single_request_s"] * 1000
        goals.append(
            (
                f"one breakdown request at large < 300 ms (measured {single_ms:,.0f} ms)",
                single_ms < 300 and breakdown.get("single_request_status") == 200,
                "see Analysis",
            )
        )
    return goals


def goals_export(points: list[dict[str, Any]]) -> list[Goal]:
    p = points[0] if points else None
    if p is None:
        return [("export ≥ 50,000 rows/s, RSS growth < 50 MB", None, "")]
    rows_ok = p["rows"] == p["expected_rows"]
    return [
        (f"≥ 50,000 rows/s (measured {p['rows_per_s']:,.0f})", p["rows_per_s"] >= 50_000, ""),
        (f"RSS growth < 50 MB (measured {p['rss_growth_mb']:.1f} MB)", p["rss_growth_mb"] < 50, ""),
        (f"all {p['expected_rows']:,} completions exported (got {p['rows']:,})", rows_ok, ""),
    ]


def goals_import(points: list[dict[str, Any]]) -> list[Goal]:
    p = points[0] if points else None
    if p is None:
        return [("import 100k < 20 s, peak RSS < 200 MB", None, "")]
    return [
        (f"{p['rows']:,} rows < 20 s (measured {p['seconds']:.1f} s)", p["seconds"] < 20, ""),
        (f"peak RSS < 200 MB (measured {p['peak_rss_mb']:.0f} MB)", p["peak_rss_mb"] < 200, ""),
        (f"every row created (created {p['created']})", p["created"] == p["rows"], ""),
    ]


GOALS: dict[str, Callable[[list[dict[str, Any]]], list[Goal]]] = {
    "register": goals_register,
    "enroll-hot": goals_enroll_hot,
    "enroll-spread": goals_enroll_spread,
    "progress": goals_progress,
    "export": goals_export,
    "import": goals_import,
    "events": events_scenario.goals,
}


# ---------------------------------------------------------------- markdown


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _pct(v: Any) -> str:
    return "–" if v is None else f"{v:.0%}"


def _http_table(name: str, points: list[dict[str, Any]]) -> list[str]:
    floors = {p["workers"]: p for p in points if p["label"].startswith("floor:")}
    out = [
        "| point | workers | req/s | p50 ms | p99 ms | max ms | non-2xx | 5xx | sock err "
        "| peak RSS MB | wrk CPU | server CPU | worker CPU split | vs floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for p in points:
        if p.get("requests") == 0:
            p = {**p, "p50_ms": None, "p99_ms": None, "max_ms": None}
        floor = floors.get(p["workers"])
        ratio = "–"
        if floor and p is not floor and p["label"].startswith("POST"):
            ratio = f"{p['rps'] / floor['rps']:.0%}" if floor["rps"] else "–"
        split = " / ".join(f"{x:.0%}" for x in p.get("worker_cpu_split", []))
        label = p["label"]
        if "enrollments" in p and name == "progress":
            label += f" ({p['enrollments']:,})"
        if p.get("requests") == 0:
            label += " — no request completed in the window"
        out.append(
            f"| {label} | {p['workers']} | {_fmt(p['rps'], 0)} | {_fmt(p['p50_ms'])} "
            f"| {_fmt(p['p99_ms'])} | {_fmt(p['max_ms'])} | {_fmt(p['non2xx'])} "
            f"| {_fmt(p['n5xx'])} | {_fmt(p['socket_errors'])} | {_fmt(p['peak_rss_mb'])} "
            f"| {_pct(p['wrk_cpu_share'])} | {_pct(p['server_cpu_share'])} | {split} | {ratio} |"
        )
    return out


def _plain_table(_name: str, points: list[dict[str, Any]]) -> list[str]:
    """Points measured another way than wrk (dispatchers, sweeps): one column per key."""
    keys = list(dict.fromkeys(k for p in points for k in p))
    out = ["| " + " | ".join(k.replace("_", " ") for k in keys) + " |", "|---" * len(keys) + "|"]
    for p in points:
        out.append("| " + " | ".join(_fmt(p.get(k)) for k in keys) + " |")
    return out


def _once_table(_name: str, points: list[dict[str, Any]]) -> list[str]:
    out = [
        "| point | workers | HTTP | rows | seconds | rows/s | RSS before MB "
        "| peak RSS MB | RSS growth MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        out.append(
            f"| {p['label']} | {p['workers']} | {p['http_status']} | {_fmt(p['rows'])} "
            f"| {_fmt(p['seconds'], 2)} | {_fmt(p['rows_per_s'], 0)} "
            f"| {_fmt(p['rss_before_mb'])} | {_fmt(p['peak_rss_mb'])} "
            f"| {_fmt(p['rss_growth_mb'])} |"
        )
    return out


def render(results: dict[str, Any], titles: dict[str, str], analysis: str = "") -> str:
    m = results["machine"]
    s = results["settings"]
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python bench/run.py`); raw numbers in "
        "`bench/results/latest.json`. Do not edit by hand: rerun.",
        "",
        "How to run: `apt-get install -y wrk` once, a local PostgreSQL at 127.0.0.1:5432 "
        "(trust auth, user `postgres`), then `make bench` (every scenario, ~10 s per "
        "point, about 17 minutes on an idle 2-core machine without offer-sweep, whose "
        "100,000-offer seeding and sweep take several minutes more). One scenario: "
        "`.venv/bin/python bench/run.py --only register --duration 3` (its section is "
        "replaced, the others kept); `--quick` shrinks the data for a development loop; "
        "`--help` for the rest. Scenarios whose endpoint is not in the build are "
        "reported as pending. Each run creates `enroll_bench_*` databases and drops them.",
        "",
    ]
    if results.get("label"):
        lines += [f"> **{results['label']}**", ""]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    lines += [
        "## Run",
        "",
        f"- Date: {m['date']}",
        f"- Machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gib']} GiB, "
        f"Linux {m['kernel']}; load average at start: {m['loadavg_at_start']}",
        f"- Versions: {versions}",
        f"- Load: wrk, {s['threads']} thread(s), {s['connections']} keep-alive connections, "
        f"{s['warmup']:g} s warm-up then {s['duration']:g} s measured per point; "
        + (
            f"wrk pinned with `taskset -c {s['wrk_cpus']}`, servers and PostgreSQL unpinned "
            "(all cores)"
            if s.get("wrk_cpus")
            else "no CPU pinning"
        ),
        f"- Servers: `python -m service serve --workers N` (SO_REUSEPORT per worker), "
        f"log level `{s['log_level']}` (JSON access log written to a file), a fresh "
        "PostgreSQL database per scenario on the same machine",
        "- Columns: *non-2xx* counts every answer outside 2xx (5xx also counted alone); "
        "*sock err* = wrk connect/read/write errors and timeouts; *peak RSS* = the highest "
        "sampled sum of VmRSS over the server process tree (every 100 ms); *wrk CPU* = "
        "wrk's CPU time / wall time (share of one core); *server CPU* = CPU time of the "
        "worker processes / (wall × cores); *worker CPU split* = each worker's share of "
        "the workers' CPU time (how evenly SO_REUSEPORT spread the connections)",
        "",
    ]
    if s.get("quick"):
        lines += [
            "Quick run (`--quick`): data sizes shrunk (see each scenario); "
            "not comparable to the goals.",
            "",
        ]
    for name, title in titles.items():
        res = results["scenarios"].get(name)
        lines += [f"## {title}", ""]
        if res is None:
            lines += ["Not run.", ""]
            continue
        if res.get("run_at") and res["run_at"] != m["date"]:
            lines += [f"_Measured {res['run_at']} (an earlier `--only` run)._", ""]
        if res["status"] == "pending":
            lines += [f"**Pending**: {'; '.join(res.get('notes', []))}", ""]
        if res["status"] == "failed" and res.get("error"):
            lines += [f"**Failed**: `{res['error'][:800]}`", ""]
        points = res.get("points", [])
        http = [p for p in points if "rps" in p and "workers" in p and "rows_per_s" not in p]
        once = [p for p in points if "rows_per_s" in p]
        plain = [p for p in points if p not in http and p not in once]
        for table, group in ((_http_table, http), (_once_table, once), (_plain_table, plain)):
            if group:
                lines += table(name, group)
                lines.append("")
        notes = [n for n in res.get("notes", []) if res["status"] != "pending"]
        for n in notes:
            lines.append(f"- {n}")
        if notes:
            lines.append("")
        goal_fn = GOALS.get(name)
        goals = goal_fn(points) if goal_fn and res["status"] != "pending" else []
        if goals:
            lines += ["Goals:", ""]
            for text, met, note in goals:
                mark = "–" if met is None else (OK if met else NO)
                extra = f" — limited by: {note}" if met is False and note else ""
                lines.append(f"- {mark} {text}{extra}")
            lines.append("")
    if analysis.strip():
        lines += ["## Analysis", "", analysis.strip(), ""]
    return "\n".join(lines)
