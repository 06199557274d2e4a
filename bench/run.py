"""Run the benchmarks and write docs/benchmarks.md and bench/results/latest.json.

    python bench/run.py                       # every scenario (what `make bench` runs)
    python bench/run.py --only register --duration 3
    python bench/run.py --quick               # short points, small data: a dev loop

Needs wrk (apt-get install -y wrk), curl, and a local PostgreSQL at
127.0.0.1:5432 with trust auth for user postgres. Databases named
enroll_bench_* are created fresh and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, report
from bench.harness import BenchError, Settings
from bench.scenarios import DEFAULT, SCENARIOS, progress

DOCS = harness.ROOT / "docs" / "benchmarks.md"
LATEST = harness.RESULTS_DIR / "latest.json"
ANALYSIS = harness.BENCH_DIR / "analysis.md"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark the service against its floors.")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these scenarios (repeat or comma-separate): {', '.join(SCENARIOS)}",
    )
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured point")
    p.add_argument("--warmup", type=float, default=None, help="warm-up seconds (default 3)")
    p.add_argument("--connections", type=int, default=32, help="wrk keep-alive connections")
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--wrk-cpus", default="1", help="taskset CPU list for wrk ('' = no pinning)")
    p.add_argument("--log-level", default="info", help="server log level (default info)")
    p.add_argument("--quick", action="store_true", help="small data sizes, for development")
    p.add_argument("--label", default="", help="a line shown at the top of the report")
    p.add_argument("--keep-databases", action="store_true", help="leave enroll_bench_* DBs")
    p.add_argument("--output", type=Path, default=DOCS, help="Markdown report path")
    p.add_argument("--json", type=Path, default=LATEST, help="raw results path")
    p.add_argument("--fresh", action="store_true", help="do not merge with the previous JSON")
    p.add_argument(
        "--render",
        action="store_true",
        help="only rewrite the Markdown from the JSON (e.g. after editing bench/analysis.md)",
    )
    return p.parse_args(argv)


def selected(only: list[str]) -> list[str]:
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {unknown}; known: {list(SCENARIOS)}")
    return names or list(DEFAULT)


def preflight() -> None:
    harness.wrk_path()  # raises with install instructions
    if shutil.which("curl") is None:
        raise BenchError("curl is not installed: apt-get install -y curl")
    try:
        report.machine_info()["versions"]["postgresql"]
    except Exception as exc:  # pragma: no cover - environment problem
        raise BenchError(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        write_report(json.loads(args.json.read_text()), args.output)
        print(f"bench: wrote {args.output} from {args.json}")
        return 0
    names = selected(args.only)
    try:
        preflight()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    settings = Settings(
        duration=args.duration,
        warmup=args.warmup if args.warmup is not None else min(3.0, args.duration),
        connections=args.connections,
        threads=args.threads,
        wrk_cpus=args.wrk_cpus or None,
        log_level=args.log_level,
        quick=args.quick,
        keep_databases=args.keep_databases,
    )
    machine = report.machine_info()
    results: dict[str, Any] = {"scenarios": {}}
    if not args.fresh and args.json.exists() and set(names) != set(DEFAULT):
        results = json.loads(args.json.read_text())
    results["machine"] = machine
    results["label"] = args.label
    results["settings"] = {
        "duration": settings.duration,
        "warmup": settings.warmup,
        "connections": settings.connections,
        "threads": settings.threads,
        "wrk_cpus": settings.wrk_cpus,
        "log_level": settings.log_level,
        "quick": settings.quick,
    }
    started = time.monotonic()
    failed = False
    try:
        for name in names:
            _title, runner = SCENARIOS[name]
            print(f"bench: {name} ...", flush=True)
            t0 = time.monotonic()
            try:
                res = runner(settings)
            except BenchError as exc:
                res = {"status": "failed", "points": [], "notes": [], "error": str(exc)}
            except Exception:
                res = {
                    "status": "failed",
                    "points": [],
                    "notes": [],
                    "error": traceback.format_exc(),
                }
            res["run_at"] = machine["date"]
            res["seconds"] = round(time.monotonic() - t0, 1)
            results["scenarios"][name] = res
            failed = failed or res["status"] == "failed"
            print(f"bench: {name}: {res['status']} in {res['seconds']} s", flush=True)
            if res["status"] == "failed":
                print(res.get("error", ""), file=sys.stderr)
            for p in res.get("points", []):
                print("   ", _summary(p), flush=True)
    finally:
        leftover = progress.LAST.get("db")
        if leftover is not None and not settings.keep_databases:
            harness.drop_database(leftover.name)
        progress.LAST.clear()
        shutil.rmtree(settings.work_dir, ignore_errors=True)
    results["total_seconds"] = round(time.monotonic() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    write_report(results, args.output)
    print(f"bench: wrote {args.output} and {args.json} in {results['total_seconds']} s")
    return 1 if failed else 0


def write_report(results: dict[str, Any], output: Path) -> None:
    titles = {name: title for name, (title, _) in SCENARIOS.items()}
    analysis = ANALYSIS.read_text() if ANALYSIS.exists() else ""
    output.write_text(report.render(results, titles, analysis))


def _summary(p: dict[str, Any]) -> str:
    """One line per point for the console; points of other shapes (churn, sweep) as JSON."""
    keys = ("label", "workers", "rps", "p50_ms", "p99_ms", "non2xx", "n5xx", "peak_rss_mb")
    if all(k in p for k in keys):
        return (
            f"{p['label']} w={p['workers']}: {p['rps']:,.0f} req/s p50 {p['p50_ms']} ms "
            f"p99 {p['p99_ms']} ms non2xx {p['non2xx']} 5xx {p['n5xx']} "
            f"rss {p['peak_rss_mb']} MB wrk {p.get('wrk_cpu_share')} "
            f"split {p.get('worker_cpu_split')}"
        )
    return json.dumps(p, default=str)


if __name__ == "__main__":
    sys.exit(main())
