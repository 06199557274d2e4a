"""Run uvicorn with one or several worker processes on one port.

With several workers each process binds its own socket with ``SO_REUSEPORT``,
so the kernel spreads new connections across them. (uvicorn's own
``--workers`` shares one listening socket, and long-lived keep-alive
connections then pile up on whichever worker accepts first.)

Each process enforces the HTTP limits in ``Settings`` (header size and time,
body time, keep-alive, concurrency; docs/operations.md "HTTP limits"). With
several workers and no ``ENROLL_SECRET_KEY`` the supervisor makes one secret
for all of them, so a dashboard cookie signed by one worker opens on another.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from types import FrameType

import uvicorn
from dotenv import dotenv_values

from service.core.config import Settings, get_settings
from service.core.http import limited_protocol
from service.core.observability import configure_logging
from service.dashboard.config import MIN_SECRET_BYTES

APP = "service.main:create_app"
logger = logging.getLogger(__name__)


class SecretKeyError(SystemExit):
    pass


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def uvicorn_config(settings: Settings, log_level: str) -> uvicorn.Config:
    """The server configuration of one process, with the HTTP limits from ``settings``."""
    return uvicorn.Config(
        APP,
        factory=True,
        log_level=log_level,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=20,
        http=limited_protocol(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=settings.header_timeout,
        ),
        # uvicorn types it int, but waits with call_later: fractions work.
        timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
        limit_concurrency=settings.max_concurrency,
        server_header=False,
    )


def listening_message(host: str, port: int) -> str:
    """What ``serve`` says once it accepts connections: where, the docs, the first key."""
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):  # noqa: S104  (all interfaces: show the local one)
        shown = "127.0.0.1"
    url = f"http://{shown}:{port}"
    python = Path(sys.executable)
    try:
        command = str(python.relative_to(Path.cwd()))
    except ValueError:
        command = "python"
    return (
        f"Listening on {url}  ·  API docs {url}/docs  ·  "
        f"first admin key: {command} -m service keys create --role admin --name admin"
    )


class _Server(uvicorn.Server):
    """Says where it listens once its socket accepts connections (first worker only)."""

    announce: str | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.announce and self.started:
            logger.info(self.announce)


def _serve_one(host: str, port: int, log_level: str, reuse_port: bool, announce: bool) -> None:
    settings = get_settings()
    configure_logging(log_level, settings.log_format)
    config = uvicorn_config(settings, log_level)
    load_and_freeze(config)
    server = _Server(config)
    if announce:
        server.announce = listening_message(host, port)
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


def check_secret_key(workers: int, environ: dict[str, str] | None = None) -> None:
    """Refuse a short ``ENROLL_SECRET_KEY``; with several workers and none, make one for all.

    The generated secret lives in the environment the workers inherit, so every
    worker signs and checks dashboard cookies with it; it changes on restart
    (signing everyone out), hence the warning.
    """
    env = os.environ if environ is None else environ
    secret = env.get("ENROLL_SECRET_KEY") or dotenv_values(".env").get("ENROLL_SECRET_KEY")
    if secret:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise SecretKeyError(
                f"error: ENROLL_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes "
                '(for example: python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        return
    if workers > 1:
        env["ENROLL_SECRET_KEY"] = secrets.token_urlsafe(32)
        logger.warning(
            "ENROLL_SECRET_KEY is not set: made one for this server's %d workers; dashboard "
            "sessions end when it restarts. Set ENROLL_SECRET_KEY (32+ random bytes) in "
            "production.",
            workers,
        )


def run_server(*, host: str, port: int, workers: int, log_level: str) -> None:
    configure_logging(log_level, get_settings().log_format)
    check_secret_key(workers)
    if workers == 1:
        _serve_one(host, port, log_level, reuse_port=False, announce=True)
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
        ctx.Process(
            target=_serve_one, args=(host, port, log_level, True, i == 0), name=f"worker-{i}"
        )
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
