"""Run uvicorn with one or several worker processes on one port.

With several workers each process binds its own socket with ``SO_REUSEPORT``,
so the kernel spreads new connections across them. (uvicorn's own
``--workers`` shares one listening socket, and long-lived keep-alive
connections then pile up on whichever worker accepts first.)
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from types import FrameType

import uvicorn

from service.core.config import get_settings
from service.core.observability import configure_logging

APP = "service.main:create_app"


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _serve_one(host: str, port: int, log_level: str, reuse_port: bool) -> None:
    settings = get_settings()
    configure_logging(log_level, settings.log_format)
    config = uvicorn.Config(
        APP,
        factory=True,
        log_level=log_level,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
    )
    load_and_freeze(config)
    server = uvicorn.Server(config)
    server.run(sockets=[_bind(host, port, reuse_port)])


def load_and_freeze(config: uvicorn.Config) -> None:
    """Build the app now (not inside ``server.run``) and take what exists out of the GC's scans.

    Everything loaded by then lives as long as the process: modules, the app and
    its routes, pydantic and SQLAlchemy metadata, phonenumbers' tables. Left in
    the collector's oldest generation, every full collection walks all of it
    while requests wait: under steady load that was the p99 (register, 2
    workers: p99 119 ms → 37 ms with this, req/s +5 %; bench/analysis.md).
    """
    config.load()
    gc.collect()
    gc.freeze()


def _prometheus_multiprocess_dir() -> str | None:
    """Give the workers one directory for their metric samples (prometheus_client
    multiprocess mode), so a scrape of any worker reports the sum of all.

    Returns the directory to remove at exit when we made it ourselves. A
    directory named by ``PROMETHEUS_MULTIPROC_DIR`` is emptied of stale sample
    files from an earlier run, as prometheus_client requires.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        return None
    made = tempfile.mkdtemp(prefix="enroll-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made


def run_server(*, host: str, port: int, workers: int, log_level: str) -> None:
    if workers == 1:
        _serve_one(host, port, log_level, reuse_port=False)
        return
    # Before the workers start: they read it when prometheus_client is imported.
    made_dir = _prometheus_multiprocess_dir()
    try:
        _run_workers(host=host, port=port, workers=workers, log_level=log_level)
    finally:
        if made_dir:
            shutil.rmtree(made_dir, ignore_errors=True)


def _run_workers(*, host: str, port: int, workers: int, log_level: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_serve_one, args=(host, port, log_level, True), name=f"worker-{i}")
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()

    def stop_workers(_signum: int, _frame: FrameType | None) -> None:
        # SIGTERM lets each worker finish its in-flight requests.
        for proc in procs:
            if proc.is_alive():
                proc.terminate()

    signal.signal(signal.SIGTERM, stop_workers)
    signal.signal(signal.SIGINT, stop_workers)
    exit_code = 0
    for proc in procs:
        proc.join()
        exit_code = exit_code or (proc.exitcode or 0)
    sys.exit(exit_code)
