"""catalog: endpoints that exist from the foundation on (validates the harness).

GET /api/v1/programmes (an authenticated read) and POST /api/v1/centres (an
authenticated write through the ORM with a unique code per request), 2 workers.
"""

from __future__ import annotations

from typing import Any

from bench import harness
from bench.harness import Settings, measure, run_server

TITLE = "catalog: GET /api/v1/programmes, POST /api/v1/centres (harness check)"
WORKERS = 2


def run(settings: Settings) -> dict[str, Any]:
    db = harness.fresh_database("catalog")
    points = []
    try:
        with run_server("service", db.name, WORKERS, settings) as server:
            token = db.admin_token
            points.append(
                measure(
                    settings,
                    server,
                    "GET /api/v1/programmes",
                    "get",
                    {"path": "/api/v1/programmes", "token": token},
                )
            )
            points.append(
                measure(
                    settings,
                    server,
                    "POST /api/v1/centres",
                    "centre",
                    {"token": token, "prefix": "m"},
                    warmup_args={"token": token, "prefix": "w"},
                )
            )
    finally:
        if not settings.keep_databases:
            harness.drop_database(db.name)
    return {"status": "ok", "points": points, "notes": []}
