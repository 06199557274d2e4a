"""`serve` migrates, seeds an empty database and answers HTTP, with one or two workers."""

import gc
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import uvicorn

from service.server import APP, load_and_freeze
from tests.live import live_server


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_migrates_seeds_and_serves(tmp_path: Path, workers: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    with live_server(url, workers=workers) as base:
        assert httpx.get(f"{base}/health").json() == {"status": "ok", "database": "ok"}
        assert httpx.get(f"{base}/docs").status_code == 200
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "service",
                "keys",
                "create",
                "--role",
                "reporter",
                "--name",
                "r",
            ],
            env={**os.environ, "ENROLL_DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=True,
        )
        token = created.stdout.strip().splitlines()[-1]
        targets = httpx.get(
            f"{base}/api/v1/targets", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert [t["code"] for t in targets["items"]] == ["zte-100k"]


def test_a_worker_builds_its_app_before_serving_and_freezes_what_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long-lived startup objects leave the GC's scans (the p99 fix in bench/analysis.md)."""
    monkeypatch.setenv("ENROLL_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/f.db")
    config = uvicorn.Config(APP, factory=True, log_config=None)
    assert gc.get_freeze_count() == 0
    try:
        load_and_freeze(config)
        assert config.loaded
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
