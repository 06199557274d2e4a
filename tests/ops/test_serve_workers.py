"""``serve`` with several workers: one dashboard secret for all of them, a short secret
refused, and once listening one line that says where, where the docs are and how to
make the first admin key (JSON when the output is not a terminal)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service.server import SecretKeyError, check_secret_key, listening_message
from tests.live import ROOT, live_server


def _create_key(url: str, role: str) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "--role", role, "--name", role],
        env={**os.environ, "ENROLL_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return created.stdout.strip().splitlines()[-1]


def test_workers_share_one_generated_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENROLL_SECRET_KEY", raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'workers.db'}"
    log = tmp_path / "serve.log"
    env = {"ENROLL_LOG_LEVEL": "info"}
    with live_server(url, workers=2, env=env, log_path=log) as base:
        token = _create_key(url, "reporter")
        signed = httpx.post(
            f"{base}/dashboard/login",
            data={"api_key": token},
            headers={"Origin": base},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        cookie = signed.cookies["enroll_dashboard"]
        # Each load on a new connection: the kernel spreads them over both workers.
        statuses = []
        for _ in range(20):
            with httpx.Client(cookies={"enroll_dashboard": cookie}) as fresh:
                statuses.append(fresh.get(f"{base}/dashboard", follow_redirects=False).status_code)
        assert statuses == [200] * 20
    # (Alembic's migration lines, before the server starts, are its own plain text.)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert all("color_message" not in entry for entry in lines)
    warnings = [e for e in lines if "ENROLL_SECRET_KEY is not set" in e["message"]]
    assert len(warnings) == 1
    assert "2 workers" in warnings[0]["message"]
    listening = [e for e in lines if e["message"].startswith("Listening on")]
    assert len(listening) == 1  # the first worker says it, not every worker
    message = listening[0]["message"]
    assert f"{base}/docs" in message
    assert "-m service keys create --role admin" in message


def test_a_short_secret_is_refused_at_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'short.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "service", "serve", "--port", "1", "--workers", "2"],
        env={**os.environ, "ENROLL_DATABASE_URL": url, "ENROLL_SECRET_KEY": "too-short"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert "ENROLL_SECRET_KEY must be at least 32 bytes" in done.stderr


def test_check_secret_key() -> None:
    env: dict[str, str] = {}
    check_secret_key(1, env)
    assert env == {}  # one process makes its own (and warns) when it builds the app
    check_secret_key(3, env)
    assert len(env["ENROLL_SECRET_KEY"].encode()) >= 32
    generated = env["ENROLL_SECRET_KEY"]
    check_secret_key(3, env)
    assert env["ENROLL_SECRET_KEY"] == generated
    with pytest.raises(SecretKeyError, match="at least 32 bytes"):
        check_secret_key(2, {"ENROLL_SECRET_KEY": "x" * 31})
    check_secret_key(2, {"ENROLL_SECRET_KEY": "x" * 32})


def test_listening_message() -> None:
    message = listening_message("127.0.0.1", 8000)
    assert message.startswith("Listening on http://127.0.0.1:8000")
    assert "API docs http://127.0.0.1:8000/docs" in message
    assert message.endswith("-m service keys create --role admin --name admin")
    assert "http://127.0.0.1:8080" in listening_message("0.0.0.0", 8080)  # noqa: S104
    assert "http://[::1]:8000" in listening_message("::1", 8000)
