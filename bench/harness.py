"""Machinery shared by the scenarios: databases, server processes, wrk, sampling.

Everything here talks to the local PostgreSQL (trust auth, user postgres) and to
server processes this harness starts itself on 127.0.0.1; nothing else.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
LUA_DIR = BENCH_DIR / "lua"
RESULTS_DIR = BENCH_DIR / "results"

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "enroll_bench")

WRK_MISSING = (
    "wrk is not installed. Install it with:\n"
    "    apt-get update && apt-get install -y wrk\n"
    "(Debian/Ubuntu package 'wrk'; on macOS: brew install wrk)"
)


MIGRATION_ENV = {"ENROLL_STATEMENT_TIMEOUT_MS": "900000"}


class BenchError(RuntimeError):
    """A scenario cannot run (missing tool, endpoint not built yet, server failure)."""


class Pending(BenchError):
    """The endpoint a scenario measures is not in this build yet."""


# ---------------------------------------------------------------- settings


@dataclass
class Settings:
    duration: float = 10.0
    warmup: float = 3.0
    connections: int = 32
    threads: int = 1
    wrk_cpus: str | None = "1"  # taskset list for wrk; None: no pinning
    log_level: str = "info"
    quick: bool = False
    keep_databases: bool = False
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))

    def sizes(self) -> dict[str, int]:
        """Data sizes; quick runs (--quick) shrink them for a development loop."""
        if self.quick:
            return {
                "progress_small": 2_000,
                "progress_large": 50_000,
                "progress_completions": 15_000,
                "import_rows": 5_000,
            }
        return {
            "progress_small": 10_000,
            "progress_large": 1_000_000,
            "progress_completions": 300_000,
            "import_rows": 100_000,
        }


# ---------------------------------------------------------------- databases


def pg_dsn(database: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def sqlalchemy_url(database: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def db_name(suffix: str) -> str:
    return f"{DB_PREFIX}_{suffix}" if suffix else DB_PREFIX


async def _recreate(database: str) -> None:
    conn = await asyncpg.connect(pg_dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def _drop(database: str) -> None:
    conn = await asyncpg.connect(pg_dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def service_env(database: str, settings: Settings | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENROLL_")}
    env["ENROLL_DATABASE_URL"] = sqlalchemy_url(database)
    env["ENROLL_LOG_LEVEL"] = settings.log_level if settings else "warning"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(database: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``python -m service ARGS`` against ``database``; returns stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "service", *args],
        env={**service_env(database), **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(f"service {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout


@dataclass
class BenchDatabase:
    name: str
    admin_token: str

    @property
    def dsn(self) -> str:
        return pg_dsn(self.name)


def fresh_database(suffix: str, revision: str = "head") -> BenchDatabase:
    """A new, migrated, seeded database with an admin key (dropped first if it exists).

    With ``revision`` other than head the schema stops there and no key is made:
    bulk-load, then call :func:`finish_database` (migrating on runs any backfill).
    """
    name = db_name(suffix)
    asyncio.run(_recreate(name))
    run_cli(name, "db", "upgrade", revision)
    run_cli(name, "seed")
    if revision != "head":
        return BenchDatabase(name=name, admin_token="")
    return finish_database(name)


def finish_database(name: str) -> BenchDatabase:
    """Migrate to head and create the bench admin key."""
    # A backfill over a million rows outlasts the service's default statement
    # timeout (10 s), which the migration environment applies too.
    run_cli(name, "db", "upgrade", "head", env=MIGRATION_ENV)
    out = run_cli(name, "keys", "create", "--role", "admin", "--name", "bench-admin")
    token = out.strip().splitlines()[-1].strip()
    return BenchDatabase(name=name, admin_token=token)


def revision_before(marker: str) -> str:
    """The revision just before the migration whose source mentions ``marker``; else head.

    Used to bulk-load before the reports migration, whose upgrade backfills its
    counters from existing rows in a few set-based statements.
    """
    from alembic.script import ScriptDirectory

    from service.cli import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for rev in script.walk_revisions():
        if rev.path and marker in Path(rev.path).read_text():
            down = rev.down_revision
            if isinstance(down, str):
                return down
    return "head"


def drop_database(suffix_or_name: str) -> None:
    name = suffix_or_name if suffix_or_name.startswith(DB_PREFIX) else db_name(suffix_or_name)
    asyncio.run(_drop(name))


async def table_columns(conn: asyncpg.Connection, table: str) -> dict[str, bool]:
    """Column name → True when it must be given (NOT NULL without a default)."""
    rows = await conn.fetch(
        "SELECT column_name, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = $1",
        table,
    )
    return {
        r["column_name"]: r["is_nullable"] == "NO" and r["column_default"] is None for r in rows
    }


async def copy_rows(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """COPY ``rows`` into ``table``; fails clearly if the schema grew a required column."""
    known = await table_columns(conn, table)
    missing = [c for c, required in known.items() if required and c not in columns]
    if missing:
        raise BenchError(
            f"table {table} has required columns the bench seeder does not fill: {missing}"
        )
    await conn.copy_records_to_table(table, records=rows, columns=list(columns))


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry))
    return out


def process_tree(pid: int) -> list[int]:
    tree = [pid]
    i = 0
    while i < len(tree):
        tree.extend(_children(tree[i]))
        i += 1
    return tree


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class RssSampler:
    """Samples the summed VmRSS of a set of pids every ``interval`` seconds."""

    def __init__(self, pids: Sequence[int], interval: float = 0.1) -> None:
        self.pids = list(pids)
        self.interval = interval
        self.peak_kb = 0
        self.first_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current_kb(self) -> int:
        return sum(rss_kb(p) for p in self.pids)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.current_kb())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.first_kb = self.current_kb()
        self.peak_kb = self.first_kb
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, self.current_kb())


@dataclass
class Server:
    """A running server: the service or the bench floor app."""

    kind: str
    base_url: str
    proc: subprocess.Popen[bytes]
    workers: int
    log_path: Path
    pids: list[int] = field(default_factory=list)
    worker_pids: list[int] = field(default_factory=list)

    def discover(self) -> None:
        self.pids = process_tree(self.proc.pid)
        if self.workers == 1:
            self.worker_pids = [self.proc.pid]
        else:
            self.worker_pids = [
                p
                for p in self.pids
                if p != self.proc.pid
                and "multiprocessing" in cmdline(p)
                and "resource_tracker" not in cmdline(p)
            ] or self.pids[1:]

    def worker_cpu(self) -> dict[int, float]:
        return {p: cpu_seconds(p) for p in self.worker_pids}

    def rss_mb(self) -> float:
        return sum(rss_kb(p) for p in self.pids) / 1024

    def get(self, path: str, token: str | None = None, timeout: float = 30) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.base_url + path, headers=headers, timeout=timeout)

    def post(self, path: str, body: Any, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(self.base_url + path, json=body, headers=headers, timeout=30)

    def openapi_paths(self) -> dict[str, Any]:
        r = self.get("/openapi.json")
        r.raise_for_status()
        paths: dict[str, Any] = r.json().get("paths", {})
        return paths


def _wait_healthy(server: Server, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-3000:]
            raise BenchError(f"{server.kind} server exited with {server.proc.returncode}:\n{tail}")
        try:
            if httpx.get(server.base_url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        raise BenchError(f"{server.kind} server not healthy after {timeout}s")
    # With several workers, /health may have answered before every worker is up.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.discover()
        if len(server.worker_pids) >= server.workers:
            break
        time.sleep(0.2)
    time.sleep(0.5 if server.workers > 1 else 0)
    server.discover()


@contextmanager
def background(
    argv: list[str], env: dict[str, str], log_path: Path, *, stop_seconds: float = 30
) -> Iterator[subprocess.Popen[bytes]]:
    """A process of its own session, output to ``log_path``; on exit SIGTERM, then after
    ``stop_seconds`` SIGKILL to its whole process group."""
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=stop_seconds)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@contextmanager
def run_server(
    kind: str,
    database: str,
    workers: int,
    settings: Settings,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start ``python -m service serve`` (kind "service") or the floor app (kind "floor")."""
    port = free_port()
    env = {**service_env(database, settings), **(extra_env or {})}
    if kind == "service":
        argv = [sys.executable, "-m", "service", "serve", "--port", str(port)]
        argv += ["--workers", str(workers)]
    elif kind == "floor":
        env["BENCH_FLOOR_DSN"] = pg_dsn(database)
        argv = [sys.executable, "-m", "bench.floor", "--port", str(port)]
        argv += ["--workers", str(workers)]
    else:
        raise ValueError(kind)
    log_path = settings.work_dir / f"{kind}-{database}-{workers}w-{port}.log"
    with background(argv, env, log_path) as proc:
        server = Server(kind, f"http://127.0.0.1:{port}", proc, workers, log_path)
        _wait_healthy(server)
        yield server


# ---------------------------------------------------------------- wrk


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError(WRK_MISSING)
    return path


def wrk_version() -> str:
    try:
        out = subprocess.run(
            [wrk_path(), "-v"], capture_output=True, text=True, timeout=10, check=False
        )
    except BenchError:
        return "missing"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0].split(" Copyright")[0] if text else ""


def lua_script(name: str, work_dir: Path) -> Path:
    """bench/lua/common.lua + bench/lua/NAME.lua as one file (wrk takes one script)."""
    text = (LUA_DIR / "common.lua").read_text() + "\n" + (LUA_DIR / f"{name}.lua").read_text()
    path = work_dir / f"{name}.lua"
    path.write_text(text)
    return path


@dataclass
class WrkRun:
    raw: dict[str, Any]
    wall_s: float
    cpu_s: float
    stdout: str

    @property
    def requests(self) -> int:
        return int(self.raw["requests"])

    @property
    def duration_s(self) -> float:
        return float(self.raw["duration_us"]) / 1e6

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def latency_ms(self, key: str) -> float:
        return float(self.raw["latency_us"][key]) / 1000

    @property
    def non2xx(self) -> int:
        s = self.raw["status"]
        return int(s["3xx"]) + int(s["4xx"]) + int(s["5xx"]) + int(s["other"])

    @property
    def n5xx(self) -> int:
        return int(self.raw["status"]["5xx"])

    @property
    def socket_errors(self) -> int:
        e = self.raw["errors"]
        return int(e["connect"]) + int(e["read"]) + int(e["write"]) + int(e["timeout"])


def run_wrk(
    settings: Settings,
    base_url: str,
    script: str,
    args: dict[str, str],
    duration: float,
) -> WrkRun:
    """Run wrk for ``duration`` seconds with a scenario script; returns its JSON summary."""
    argv = [
        wrk_path(),
        "-t",
        str(settings.threads),
        "-c",
        str(settings.connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(lua_script(script, settings.work_dir)),
        base_url,
        "--",
        *(f"{k}={v}" for k, v in args.items()),
    ]
    if settings.wrk_cpus and shutil.which("taskset"):
        argv = ["taskset", "-c", settings.wrk_cpus, *argv]
    out_path = settings.work_dir / f"wrk-{script}-{time.monotonic_ns()}.out"
    started = time.monotonic()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        # wait4 gives the child's own CPU time (user + system).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    stdout = out_path.read_text(errors="replace")
    line = next((x for x in stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed (exit {proc.returncode}):\n{stdout[-2000:]}")
    raw: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    return WrkRun(raw=raw, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, stdout=stdout)


# ---------------------------------------------------------------- one measured point


def measure(
    settings: Settings,
    server: Server,
    label: str,
    script: str,
    args: dict[str, str],
    warmup_args: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Warm up, then measure one point; returns the numbers for the report."""
    warm = None
    if settings.warmup > 0:
        warm = run_wrk(settings, server.base_url, script, warmup_args or args, settings.warmup)
    before = server.worker_cpu()
    t0 = time.monotonic()
    with RssSampler(server.pids) as rss:
        run = run_wrk(settings, server.base_url, script, args, settings.duration)
    wall = time.monotonic() - t0
    after = server.worker_cpu()
    used = {p: after.get(p, 0.0) - before.get(p, 0.0) for p in after}
    total = sum(used.values()) or 1e-9
    cores = os.cpu_count() or 1
    return {
        "label": label,
        "workers": server.workers,
        "connections": settings.connections,
        "wrk_threads": settings.threads,
        "duration_s": round(run.duration_s, 2),
        "requests": run.requests,
        "rps": round(run.rps, 1),
        "p50_ms": round(run.latency_ms("p50"), 2),
        "p90_ms": round(run.latency_ms("p90"), 2),
        "p99_ms": round(run.latency_ms("p99"), 2),
        "max_ms": round(run.latency_ms("max"), 2),
        "non2xx": run.non2xx,
        "n5xx": run.n5xx,
        "socket_errors": run.socket_errors,
        "status": run.raw["status"],
        "error_samples": run.raw.get("samples", ""),
        "warmup_non2xx": warm.non2xx if warm else None,
        "peak_rss_mb": round(rss.peak_kb / 1024, 1),
        "wrk_cpu_share": round(run.cpu_s / run.wall_s, 3) if run.wall_s else None,
        "server_cpu_share": round(sum(used.values()) / wall / cores, 3),
        "worker_cpu_split": [round(used[p] / total, 3) for p in sorted(used)],
    }
