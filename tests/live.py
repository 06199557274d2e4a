"""Start the real server (``python -m service serve``) as subprocesses, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server at {base_url} not healthy after {timeout}s")


@contextmanager
def live_server(
    database_url: str,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[str]:
    """Serve ``database_url`` on a free port; yields the base URL; stops the server after."""
    port = free_port()
    full_env = {
        **os.environ,
        "ENROLL_DATABASE_URL": database_url,
        "ENROLL_LOG_LEVEL": "warning",
        **(env or {}),
    }
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", str(workers)],
        env=full_env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, proc)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_path:
            out.close()  # type: ignore[union-attr]
