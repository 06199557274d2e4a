"""Measure PostgreSQL table and index sizes at 100,000 and 1,000,000 applicants.

    .venv/bin/python bench/table_sizes.py                   # both sizes (several minutes)
    .venv/bin/python bench/table_sizes.py --sizes 100000 --keep

For each size N: a fresh database ``enroll_bench_sizes_<N>`` seeded by the
progress scenario's bulk loader (``bench.scenarios.progress.seed_database``:
N applicants, one enrollment each, 30 % completed with a certificate, loaded
with COPY before the reports migration, which then backfills its counters),
then ``VACUUM ANALYZE`` and the sizes of every table and index in ``public``.
Writes docs/table_sizes.md and bench/results/table_sizes.json; the databases
are dropped afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench import harness
from bench.scenarios import progress

DEFAULT_SIZES = (100_000, 1_000_000)
COMPLETED_SHARE = 0.3
DOCS = harness.ROOT / "docs" / "table_sizes.md"
JSON_PATH = harness.RESULTS_DIR / "table_sizes.json"
COMMAND = ".venv/bin/python bench/table_sizes.py"
TOP_INDEXES = 10
MIB = 1024 * 1024


@dataclass
class TableSize:
    name: str
    rows: int
    table_bytes: int  # pg_table_size: heap + TOAST (+ free space and visibility maps)
    index_bytes: int  # pg_indexes_size
    total_bytes: int  # pg_total_relation_size

    @property
    def bytes_per_row(self) -> float | None:
        return self.total_bytes / self.rows if self.rows else None


@dataclass
class IndexSize:
    name: str
    table: str
    bytes: int  # pg_relation_size
    unique: bool
    primary: bool
    definition: str


@dataclass
class SizeRun:
    applicants: int
    completions: int
    database: str
    seed_method: str
    seed_seconds: float
    vacuum_seconds: float
    database_bytes: int
    schema_revision: str
    enrollment_status: dict[str, int]
    distinct: dict[str, int]
    tables: list[TableSize] = field(default_factory=list)
    indexes: list[IndexSize] = field(default_factory=list)

    def row_count(self, table: str) -> int:
        return next((t.rows for t in self.tables if t.name == table), 0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


TABLES_SQL = """
SELECT c.relname AS name,
       pg_table_size(c.oid) AS table_bytes,
       pg_indexes_size(c.oid) AS index_bytes,
       pg_total_relation_size(c.oid) AS total_bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
"""

INDEXES_SQL = """
SELECT i.relname AS name, t.relname AS table_name, pg_relation_size(i.oid) AS bytes,
       x.indisunique AS is_unique, x.indisprimary AS is_primary,
       pg_get_indexdef(i.oid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public'
"""


async def server_version() -> str:
    conn = await asyncpg.connect(harness.pg_dsn("postgres"))
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def measure(database: str) -> tuple[float, int, list[TableSize], list[IndexSize]]:
    """VACUUM ANALYZE, then exact row counts and sizes of every public table and index."""
    conn = await asyncpg.connect(harness.pg_dsn(database))
    try:
        t0 = time.monotonic()
        await conn.execute("VACUUM ANALYZE")
        vacuum_s = time.monotonic() - t0
        tables = []
        for r in await conn.fetch(TABLES_SQL):
            name = str(r["name"])
            # The name comes from pg_class and is quoted: not user input.
            count_sql = f"SELECT count(*) FROM {quote_ident(name)}"  # noqa: S608
            rows = int(await conn.fetchval(count_sql))
            tables.append(
                TableSize(
                    name=name,
                    rows=rows,
                    table_bytes=int(r["table_bytes"]),
                    index_bytes=int(r["index_bytes"]),
                    total_bytes=int(r["total_bytes"]),
                )
            )
        tables.sort(key=lambda t: (-t.total_bytes, t.name))
        indexes = [
            IndexSize(
                name=str(r["name"]),
                table=str(r["table_name"]),
                bytes=int(r["bytes"]),
                unique=bool(r["is_unique"]),
                primary=bool(r["is_primary"]),
                definition=str(r["definition"]),
            )
            for r in await conn.fetch(INDEXES_SQL)
        ]
        indexes.sort(key=lambda i: (-i.bytes, i.name))
        db_bytes = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
        return vacuum_s, db_bytes, tables, indexes
    finally:
        await conn.close()


DISTINCT_SQL = """
SELECT (SELECT count(DISTINCT province) FROM applicants) AS provinces,
       (SELECT count(DISTINCT district) FROM applicants) AS districts,
       (SELECT count(DISTINCT (province, district)) FROM applicants) AS province_districts,
       (SELECT count(DISTINCT gender) FROM applicants) AS genders,
       (SELECT count(DISTINCT created_at::date) FROM enrollments) AS enrollment_days,
       (SELECT count(DISTINCT completed_at::date) FROM enrollments) AS completion_days
"""


async def describe(database: str) -> tuple[str, dict[str, int], dict[str, int]]:
    """The alembic revision, enrollments per status and how varied the seeded values are."""
    conn = await asyncpg.connect(harness.pg_dsn(database))
    try:
        revision = str(
            await conn.fetchval("SELECT string_agg(version_num, ',') FROM alembic_version")
        )
        rows = await conn.fetch(
            "SELECT status, count(*) AS n FROM enrollments GROUP BY status ORDER BY status"
        )
        distinct = await conn.fetchrow(DISTINCT_SQL)
        return (
            revision,
            {str(r["status"]): int(r["n"]) for r in rows},
            {str(k): int(v) for k, v in distinct.items()},
        )
    finally:
        await conn.close()


def git_commit() -> str:
    """HEAD's short hash (read-only; uncommitted changes are not detected)."""
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else "unknown"


def run_size(applicants: int, keep: bool) -> SizeRun:
    completions = round(applicants * COMPLETED_SHARE)
    suffix = f"sizes_{applicants}"
    name = harness.db_name(suffix)
    print(f"[{applicants:,}] seeding {name} ...", flush=True)
    try:
        db, seed_s, method = progress.seed_database(suffix, applicants, completions, applicants)
        print(f"[{applicants:,}] seeded in {seed_s:.1f} s; VACUUM ANALYZE ...", flush=True)
        vacuum_s, db_bytes, tables, indexes = asyncio.run(measure(db.name))
        revision, statuses, distinct = asyncio.run(describe(db.name))
        print(
            f"[{applicants:,}] vacuum {vacuum_s:.1f} s; database {db_bytes / MIB:,.1f} MiB",
            flush=True,
        )
        return SizeRun(
            applicants=applicants,
            completions=completions,
            database=db.name,
            seed_method=method,
            seed_seconds=round(seed_s, 1),
            vacuum_seconds=round(vacuum_s, 1),
            database_bytes=db_bytes,
            schema_revision=revision,
            enrollment_status=statuses,
            distinct=distinct,
            tables=tables,
            indexes=indexes,
        )
    finally:
        if not keep:
            harness.drop_database(name)


# ---------------------------------------------------------------- Markdown


def mib(n: float) -> str:
    return f"{n / MIB:,.1f}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def render_run(run: SizeRun) -> list[str]:
    d = run.distinct
    lines = [
        f"## {run.applicants:,} applicants",
        "",
        f"Database size (`pg_database_size`): **{mib(run.database_bytes)} MiB**. "
        f"Seeded in {run.seed_seconds:.1f} s, `VACUUM ANALYZE` {run.vacuum_seconds:.1f} s.",
        "Enrollments by status: "
        + ", ".join(f"{s} {n:,}" for s, n in run.enrollment_status.items())
        + ".",
        f"Distinct values seeded: {d['provinces']} provinces, {d['districts']} districts "
        f"({d['province_districts']} province/district pairs), {d['genders']} genders; "
        f"enrollments created on {plural(d['enrollment_days'], 'day')}, completed on "
        f"{plural(d['completion_days'], 'day')}. The rows of `report_breakdown_counts` "
        "are bounded by these (times cohorts and ages), not by applicants: real data "
        "with more spread gives it more.",
        "",
        "| table | rows | heap MiB | indexes MiB | total MiB | bytes/row |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t in run.tables:
        per_row = f"{t.bytes_per_row:,.0f}" if t.bytes_per_row is not None else "–"
        lines.append(
            f"| {t.name} | {t.rows:,} | {mib(t.table_bytes)} | {mib(t.index_bytes)} "
            f"| {mib(t.total_bytes)} | {per_row} |"
        )
    total_table = sum(t.table_bytes for t in run.tables)
    total_index = sum(t.index_bytes for t in run.tables)
    total = sum(t.total_bytes for t in run.tables)
    lines.append(
        f"| **all tables** | | **{mib(total_table)}** | **{mib(total_index)}** "
        f"| **{mib(total)}** | |"
    )
    lines += [
        "",
        f"Largest indexes (top {TOP_INDEXES} of {len(run.indexes)}):",
        "",
        "| index | table | kind | MiB | bytes per table row |",
        "|---|---|---|---:|---:|",
    ]
    for i in run.indexes[:TOP_INDEXES]:
        kind = "primary key" if i.primary else "unique" if i.unique else "non-unique"
        rows = run.row_count(i.table)
        per_row = f"{i.bytes / rows:,.0f}" if rows else "–"
        lines.append(f"| {i.name} | {i.table} | {kind} | {mib(i.bytes)} | {per_row} |")
    lines.append("")
    return lines


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(harness.ROOT))
    except ValueError:
        return str(path)


def render(
    runs: list[SizeRun],
    version: str,
    commit: str,
    generated: datetime,
    elapsed_s: float,
    json_path: Path,
) -> str:
    by_size = {r.applicants: r for r in runs}
    lines = [
        "# Table and index sizes",
        "",
        f"Generated by `{COMMAND}` on {generated:%Y-%m-%d %H:%M} UTC "
        f"against PostgreSQL {version} (run took {elapsed_s / 60:.1f} min); schema at "
        f"alembic revision `{', '.join(sorted({r.schema_revision for r in runs}))}`, "
        f"code at git commit `{commit}` plus any uncommitted changes in the working tree; "
        f"raw numbers in `{display_path(json_path)}`. Every number below comes "
        "from that run; rerun the command to refresh them.",
        "",
        "**Data.** For each size N, a fresh database seeded by "
        "`bench.scenarios.progress.seed_database`: reference data (`python -m service "
        "seed`), N applicants with exactly one enrollment each (200 cohorts), "
        f"{COMPLETED_SHARE:.0%} of them completed with a certificate, one admin API key. "
        f"Method: {runs[0].seed_method}. "
        "Not seeded: `enrollment_events` (the service writes one row per status change, "
        "so at least one per enrollment) and `idempotency_records`; real databases are "
        "larger by those tables.",
        "",
        "**Measured** after `VACUUM ANALYZE`: rows = exact `count(*)`; heap = "
        "`pg_table_size` (heap + TOAST + free-space/visibility maps); indexes = "
        "`pg_indexes_size`; total = `pg_total_relation_size`; per index "
        "`pg_relation_size`. bytes/row = total / rows. MiB = 2^20 bytes. WAL, "
        "backups and bloat from updates in service are not included.",
        "",
    ]
    large = by_size.get(1_000_000) or max(runs, key=lambda r: r.applicants)
    per_100k = large.database_bytes * 100_000 / large.applicants
    line = (
        f"**Per 100,000 applicants** (database size of the {large.applicants:,} run "
        f"scaled down): **{mib(per_100k)} MiB**"
    )
    small = min(runs, key=lambda r: r.applicants)
    if small.applicants < large.applicants:
        growth = (
            (large.database_bytes - small.database_bytes)
            * 100_000
            / (large.applicants - small.applicants)
        )
        line += (
            f"; growth from {small.applicants:,} to {large.applicants:,}: "
            f"{mib(growth)} MiB per 100,000"
        )
    lines += [line + " (before WAL, backups and `enrollment_events`).", ""]
    for run in sorted(runs, key=lambda r: r.applicants):
        lines += render_run(run)
    return "\n".join(lines)


# ---------------------------------------------------------------- CLI


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of integers: {text}"
        ) from None
    if not sizes or any(n <= 0 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Measure table and index sizes at N applicants.")
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated applicant counts (default 100000,1000000)",
    )
    p.add_argument("--keep", action="store_true", help="leave the enroll_bench_sizes_* DBs")
    p.add_argument("--output", type=Path, default=DOCS, help="Markdown report path")
    p.add_argument("--json", type=Path, default=JSON_PATH, help="raw results path")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes: list[int] = args.sizes
    output: Path = args.output
    json_path: Path = args.json
    started = time.monotonic()
    generated = datetime.now(UTC)
    version = asyncio.run(server_version())
    commit = git_commit()
    runs = [run_size(n, args.keep) for n in sizes]
    elapsed = time.monotonic() - started
    payload = {
        "generated_at": generated.isoformat(timespec="seconds"),
        "command": COMMAND,
        "postgres_version": version,
        "git_commit": commit,
        "elapsed_seconds": round(elapsed, 1),
        "runs": [r.to_json() for r in runs],
    }
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(payload, indent=2) + "\n")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(runs, version, commit, generated, elapsed, json_path))
    print(f"wrote {output} and {json_path} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
