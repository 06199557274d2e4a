"""import: POST /api/v1/applicants/import of a generated CSV (100,000 rows in the full run).

One request with curl (multipart field `file`), 1 worker, fresh database; the
CSV header is the POST /api/v1/applicants field names. Measures seconds and
the server's peak RSS (sampled every 100 ms) and checks the answer's counts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Any

from bench import data, harness
from bench.harness import BenchError, Pending, RssSampler, Settings, run_server
from bench.scenarios.common import require_endpoint

TITLE = "import: POST /api/v1/applicants/import (CSV)"
PATH = "/api/v1/applicants/import"


def run(settings: Settings) -> dict[str, Any]:
    if shutil.which("curl") is None:
        raise BenchError("curl is needed for the import scenario (apt-get install -y curl)")
    rows = settings.sizes()["import_rows"]
    csv_path = data.import_csv(settings.work_dir / "import.csv", rows)
    db = harness.fresh_database("import")
    try:
        with run_server("service", db.name, 1, settings) as server:
            try:
                require_endpoint(server, "post", PATH)
            except Pending as exc:
                return {"status": "pending", "points": [], "notes": [str(exc)]}
            argv = [
                "curl",
                "-sS",
                "--max-time",
                "600",
                "-H",
                f"Authorization: Bearer {db.admin_token}",
                "-F",
                f"file=@{csv_path};type=text/csv",
                "-w",
                "\n%{http_code} %{time_total}",
                server.base_url + PATH,
            ]
            with RssSampler(server.pids) as rss:
                t0 = time.monotonic()
                proc = subprocess.run(argv, capture_output=True, text=True, check=False)
                wall = time.monotonic() - t0
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
        csv_path.unlink(missing_ok=True)
    body, _, tail = proc.stdout.rpartition("\n")
    code, total = tail.split() if tail.strip() else ("0", str(wall))
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {"raw": body[:500]}
    errors = answer.get("errors", [])
    point = {
        "label": f"import {rows:,} rows",
        "workers": 1,
        "http_status": int(code),
        "rows": rows,
        "created": answer.get("created"),
        "updated": answer.get("updated"),
        "unchanged": answer.get("unchanged"),
        "row_errors": len(errors) if isinstance(errors, list) else None,
        "error_samples": json.dumps(errors[:3]) if isinstance(errors, list) else "",
        "seconds": round(float(total), 2),
        "rows_per_s": round(rows / float(total), 1) if float(total) else 0.0,
        "rss_before_mb": round(rss.first_kb / 1024, 1),
        "peak_rss_mb": round(rss.peak_kb / 1024, 1),
        "rss_growth_mb": round((rss.peak_kb - rss.first_kb) / 1024, 1),
    }
    ok = int(code) == 200 and answer.get("created") == rows
    return {"status": "ok" if ok else "failed", "points": [point], "notes": []}
