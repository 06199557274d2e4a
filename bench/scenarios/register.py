"""register: POST /api/v1/applicants beside its floors, 1 and 2 workers.

Floors, served by bench/floor.py (raw ASGI on uvicorn, same worker count):
- "floor: raw asyncpg INSERT": parse the same JSON body, one INSERT of the
  same row into a scratch table with the same unique CNIC index; no ORM, no
  validation, no auth.
- "stack floor: FastAPI + ApplicantCreate + INSERT": the same INSERT behind a FastAPI
  route validating the service's own registration schema; no auth, no ORM, no
  middleware — what the fixed stack alone allows.
- "ceiling: static GET": a constant JSON body, no database.
Every request body has a unique CNIC (bench/lua/register.lua). With 2 workers
one more point sends the district as "lahore district" instead of "Lahore"
(matched through the normalised key rather than the exact name): the A/B of
district matching, in the same run.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from bench import harness
from bench.floor import SCRATCH_DDL
from bench.harness import Pending, Settings, measure, run_server
from bench.scenarios.common import require_endpoint

TITLE = "register: POST /api/v1/applicants vs raw asyncpg INSERT floor"
WORKER_COUNTS = (1, 2)
# District matching (issue #22): the canonical name "Lahore" (every other point)
# against a spelling matched through its normalised key ("lahore district").
# A body without a district is not measured: the contract requires the field.
DISTRICT_SPELLING = "lahore district"
DISTRICT_AB_WORKERS = 2


async def _scratch_table(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCRATCH_DDL)
    finally:
        await conn.close()


def run(settings: Settings) -> dict[str, Any]:
    db = harness.fresh_database("register")
    asyncio.run(_scratch_table(db.dsn))
    points: list[dict[str, Any]] = []
    notes: list[str] = []
    status = "ok"
    try:
        for i, workers in enumerate(WORKER_COUNTS):
            measure_prefix, warm_prefix = str(10 + 2 * i), str(11 + 2 * i)
            with run_server("floor", db.name, workers, settings) as floor:
                points.append(
                    measure(
                        settings,
                        floor,
                        "ceiling: static GET",
                        "get",
                        {"path": "/floor/static"},
                    )
                )
                points.append(
                    measure(
                        settings,
                        floor,
                        "floor: raw asyncpg INSERT",
                        "register",
                        {"path": "/floor/applicants", "prefix": measure_prefix},
                        warmup_args={"path": "/floor/applicants", "prefix": warm_prefix},
                    )
                )
                points.append(
                    measure(
                        settings,
                        floor,
                        "stack floor: FastAPI + ApplicantCreate + INSERT",
                        "register",
                        {"path": "/floor/validated", "prefix": str(20 + 2 * i)},
                        warmup_args={"path": "/floor/validated", "prefix": str(21 + 2 * i)},
                    )
                )
            with run_server("service", db.name, workers, settings) as server:
                try:
                    require_endpoint(server, "post", "/api/v1/applicants")
                except Pending as exc:
                    status = "pending"
                    notes.append(str(exc))
                    continue
                args = {"path": "/api/v1/applicants", "token": db.admin_token}
                points.append(
                    measure(
                        settings,
                        server,
                        "POST /api/v1/applicants",
                        "register",
                        {**args, "prefix": measure_prefix},
                        warmup_args={**args, "prefix": warm_prefix},
                    )
                )
                if workers == DISTRICT_AB_WORKERS:
                    # The A/B of district matching: the same body with a spelling
                    # that is matched through its normalised key, not the exact name.
                    args = {**args, "district": DISTRICT_SPELLING}
                    points.append(
                        measure(
                            settings,
                            server,
                            f'POST /api/v1/applicants, district "{DISTRICT_SPELLING}"',
                            "register",
                            {**args, "prefix": str(30 + 2 * i)},
                            warmup_args={**args, "prefix": str(31 + 2 * i)},
                        )
                    )
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    return {"status": status, "points": points, "notes": notes}
