"""`python -m service report progress` and examples/reporting_job.py, as operators run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.live import ROOT, live_server
from tests.reports.fixtures import commit_world


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_report_progress_cli(fresh_database_url: str) -> None:
    await commit_world(fresh_database_url)
    env = {"ENROLL_DATABASE_URL": fresh_database_url}
    as_json = run(["-m", "service", "report", "progress", "--json"], env)
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    target = next(t for t in body["targets"] if t["code"] == "zte-100k")
    assert (target["achieved"], target["in_training"], target["waitlisted"]) == (2, 1, 1)
    zte = next(p for p in body["programmes"] if p["code"] == "zte-ict")
    assert (zte["applicants"], zte["completed"]) == (8, 3)

    table = run(["-m", "service", "report", "progress"], {**env, "COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    assert "Targets" in table.stdout
    assert "Programmes" in table.stdout
    assert "zte-100k" in table.stdout
    assert "100,000" in table.stdout
    assert "alibaba-ecommerce" in table.stdout


@pytest.mark.slow
async def test_reporting_job_is_incremental(fresh_database_url: str, tmp_path: Path) -> None:
    token = await commit_world(fresh_database_url)
    state = tmp_path / "state.json"
    with live_server(fresh_database_url) as base_url:

        def job() -> dict[str, Any]:
            result = run(
                [
                    "examples/reporting_job.py",
                    "--base-url",
                    base_url,
                    "--state",
                    str(state),
                    "--page-size",
                    "2",
                    "--json",
                ],
                {"ENROLL_REPORT_TOKEN": token},
            )
            assert result.returncode == 0, result.stderr
            out: dict[str, Any] = json.loads(result.stdout)
            return out

        first = job()
        # Completions A x3 (punjab), B (sindh), C (kp) and C's revocation.
        assert first == {"new_items": 6, "totals": {"kp": 0, "punjab": 3, "sindh": 1}}
        second = job()
        assert second == {"new_items": 0, "totals": {"kp": 0, "punjab": 3, "sindh": 1}}
        assert json.loads(state.read_text())["cursor"]


def test_reporting_job_gives_up_when_unreachable(tmp_path: Path) -> None:
    result = run(
        [
            "examples/reporting_job.py",
            "--base-url",
            "http://127.0.0.1:9",
            "--token",
            "x",
            "--attempts",
            "2",
            "--backoff",
            "0.01",
            "--state",
            str(tmp_path / "s.json"),
        ],
        {},
    )
    assert result.returncode == 2
    assert "giving up after 2 attempts" in result.stderr
    assert not (tmp_path / "s.json").exists()
