"""export: GET /api/v1/reports/completions.csv of all completions (300,000 in the full run).

Reuses the database the progress scenario left (when it ran first in this
process), else seeds one with COPY. One request with curl, streamed to a file;
rows/s = data rows / total time; server RSS (sum over the server tree) is
sampled every 100 ms: growth = peak during the request - before it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from typing import Any

from bench import harness
from bench.harness import BenchDatabase, BenchError, Pending, RssSampler, Settings, run_server
from bench.scenarios import progress
from bench.scenarios.common import require_endpoint

TITLE = "export: GET /api/v1/reports/completions.csv"
PATH = "/api/v1/reports/completions.csv"
WORKERS = 2


def _database(settings: Settings) -> tuple[BenchDatabase, int]:
    completions = settings.sizes()["progress_completions"]
    last = progress.LAST
    if last.get("db") is not None and last.get("completions", 0) >= completions:
        return last["db"], int(last["completions"])
    db, _, _ = progress.seed_database("export", completions, completions, completions)
    return db, completions


def run(settings: Settings) -> dict[str, Any]:
    if shutil.which("curl") is None:
        raise BenchError("curl is needed for the export scenario (apt-get install -y curl)")
    db, completions = _database(settings)
    out = settings.work_dir / "completions.csv"
    try:
        with run_server("service", db.name, WORKERS, settings) as server:
            try:
                require_endpoint(server, "get", PATH)
            except Pending as exc:
                return {"status": "pending", "points": [], "notes": [str(exc)]}
            # Warm-up: one small report request on each connection the pool may use.
            server.get("/api/v1/reports/progress", db.admin_token)
            argv = [
                "curl",
                "-sS",
                "--max-time",
                "300",
                "-H",
                f"Authorization: Bearer {db.admin_token}",
                "-o",
                str(out),
                "-w",
                "%{http_code} %{time_starttransfer} %{time_total} %{size_download}",
                server.base_url + PATH,
            ]
            with RssSampler(server.pids, interval=0.05) as rss:
                t0 = time.monotonic()
                proc = subprocess.run(argv, capture_output=True, text=True, check=False)
                wall = time.monotonic() - t0
            code, ttfb, total, size = proc.stdout.split()
    finally:
        progress.LAST.clear()
        if not settings.keep_databases:
            harness.drop_database(db.name)
    with open(out, "rb") as f:
        lines = sum(1 for _ in f)
    rows = max(0, lines - 1)
    out.unlink(missing_ok=True)
    seconds = float(total) or wall
    point = {
        "label": "GET completions.csv",
        "workers": WORKERS,
        "http_status": int(code),
        "rows": rows,
        "expected_rows": completions,
        "bytes": int(size),
        "seconds": round(seconds, 2),
        "ttfb_s": round(float(ttfb), 3),
        "rows_per_s": round(rows / seconds, 1) if seconds else 0.0,
        "rss_before_mb": round(rss.first_kb / 1024, 1),
        "peak_rss_mb": round(rss.peak_kb / 1024, 1),
        "rss_growth_mb": round((rss.peak_kb - rss.first_kb) / 1024, 1),
    }
    status = "ok" if int(code) == 200 else "failed"
    return {"status": status, "points": [point], "notes": []}
