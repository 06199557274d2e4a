"""Measure table and index sizes on PostgreSQL at 100k and 1M applicants.

Seeds a scratch database with COPY (applicants, one enrollment each in 1,000-seat
cohorts, a completion with certificate for 30 % of them), then prints sizes as a
Markdown table for docs/operations.md.

    .venv/bin/python bench/table_sizes.py [--admin-url postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
PROVINCES = ["punjab", "sindh", "kp", "balochistan", "ict", "gb", "ajk"]


def _id() -> str:
    return str(uuid.uuid4())


async def seed(conn: asyncpg.Connection, applicants: int) -> None:
    now = datetime.now(UTC)
    programme = await conn.fetchval("SELECT id FROM programmes WHERE code = 'zte-ict'")
    centre = await conn.fetchval("SELECT id FROM centres WHERE code = 'isb-gitc'")
    start = date.today() - timedelta(days=60)
    cohorts = []
    per_cohort = 1000
    for i in range(applicants // per_cohort):
        cohorts.append(
            (_id(), f"size-{i}", programme, centre, f"Cohort {i}", "cloud", start,
             start + timedelta(days=90), per_cohort, "onsite", 18, 35, 50, 75, "in_progress",
             per_cohort, 0, per_cohort, now, now)
        )  # fmt: skip
    await conn.copy_records_to_table(
        "cohorts",
        records=cohorts,
        columns=["id", "code", "programme_id", "centre_id", "name", "track", "start_date",
                 "end_date", "capacity", "mode", "min_age", "max_age", "pass_score",
                 "min_attendance", "status", "seats_taken", "waitlist_length", "queue_seq",
                 "created_at", "updated_at"],
    )  # fmt: skip
    batch = 100_000
    for offset in range(0, applicants, batch):
        people, enrollments, certificates = [], [], []
        for n in range(offset, min(offset + batch, applicants)):
            applicant_id, enrollment_id = _id(), _id()
            cnic = f"{n:013d}"
            people.append(
                (applicant_id, f"{cnic[:5]}-{cnic[5:12]}-{cnic[12]}", f"Person {n}",
                 date(2000, 1, 1) + timedelta(days=n % 3000), random.choice(["female", "male"]),
                 f"p{n}@example.pk", f"+923{n % 10**9:09d}", random.choice(PROVINCES),
                 "Lahore", "bachelor", now, now, now)
            )  # fmt: skip
            done = n % 10 < 3
            enrollments.append(
                (enrollment_id, cohorts[n // per_cohort][0], applicant_id,
                 "completed" if done else "enrolled", n % per_cohort + 1,
                 80.0 if done else None, 90.0 if done else None, now if done else None, now, now)
            )  # fmt: skip
            if done:
                certificates.append(
                    (_id(), f"ZTE-{secrets.token_hex(8).upper()}", enrollment_id, now)
                )
        await conn.copy_records_to_table(
            "applicants",
            records=people,
            columns=["id", "cnic", "full_name", "date_of_birth", "gender", "email", "phone",
                     "province", "district", "education_level", "consent_at", "created_at",
                     "updated_at"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "enrollments",
            records=enrollments,
            columns=["id", "cohort_id", "applicant_id", "status", "queue_no", "score",
                     "attendance", "completed_at", "created_at", "updated_at"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "certificates",
            records=certificates,
            columns=["id", "code", "enrollment_id", "issued_at"],
        )
    await conn.execute("VACUUM ANALYZE")


SIZES = """
SELECT c.relname AS name, c.relkind AS kind, pg_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') AND pg_relation_size(c.oid) > 8192
ORDER BY pg_relation_size(c.oid) DESC
"""


async def measure(admin_url: str, applicants: int) -> list[tuple[str, str, int]]:
    name = f"enroll_sizes_{applicants}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_url.rsplit("/", 1)[0]
    env_url = f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    subprocess.run(
        [sys.executable, "-m", "service", "db", "upgrade"],
        env={"ENROLL_DATABASE_URL": env_url, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "service", "seed"],
        env={"ENROLL_DATABASE_URL": env_url, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    conn = await asyncpg.connect(f"{base}/{name}")
    try:
        await seed(conn, applicants)
        rows = await conn.fetch(SIZES)
        return [(r["name"], "index" if r["kind"] == "i" else "table", r["bytes"]) for r in rows]
    finally:
        await conn.close()
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    results = {}
    for n in (int(x) for x in args.sizes.split(",")):
        results[n] = {name: (kind, size) for name, kind, size in await measure(args.admin_url, n)}
    sizes = sorted(results)
    names = sorted(
        {name for r in results.values() for name in r},
        key=lambda x: -results[sizes[-1]].get(x, ("", 0))[1],
    )
    print("| relation | kind | " + " | ".join(f"{n:,} applicants" for n in sizes) + " |")
    print("|---|---|" + "---:|" * len(sizes))
    for name in names:
        kind = next(r[name][0] for r in results.values() if name in r)
        cells = [f"{results[n].get(name, ('', 0))[1] / 2**20:,.1f} MB" for n in sizes]
        print(f"| `{name}` | {kind} | " + " | ".join(cells) + " |")
    totals = [sum(s for _, s in results[n].values()) / 2**20 for n in sizes]
    print("| **total** | | " + " | ".join(f"**{t:,.0f} MB**" for t in totals) + " |")


if __name__ == "__main__":
    asyncio.run(main())
