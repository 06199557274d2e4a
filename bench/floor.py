"""The floor: a bare ASGI app on uvicorn, served like the service (N workers, SO_REUSEPORT).

- ``POST /floor/applicants``: parse the JSON body and do one raw asyncpg INSERT
  of the same row into a scratch table (no ORM, no validation, no auth) → 201.
- ``POST /floor/validated``: the same INSERT behind a FastAPI route whose body
  is the service's own ``ApplicantCreate`` (CNIC, phone, email, date rules):
  what the fixed stack (FastAPI + pydantic + the validation libraries) costs
  before auth, SQLAlchemy, the idempotency check, middleware and logging.
- ``GET /floor/static``: a constant JSON body (the uvicorn + ASGI ceiling).
- ``GET /health``: for the harness.

Run: ``BENCH_FLOOR_DSN=postgresql://... python -m bench.floor --port P --workers N``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import sys
import uuid
from datetime import UTC, date, datetime
from types import FrameType
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, HTTPException

from service.applicants.schemas import ApplicantCreate
from service.server import load_and_freeze

SCRATCH_TABLE = "bench_floor_applicants"

SCRATCH_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCRATCH_TABLE} (
    id varchar(36) PRIMARY KEY,
    cnic varchar(15) NOT NULL UNIQUE,
    full_name varchar(120) NOT NULL,
    date_of_birth date NOT NULL,
    gender varchar(16) NOT NULL,
    email varchar(254) NOT NULL,
    phone varchar(16) NOT NULL,
    province varchar(16) NOT NULL,
    district varchar(80) NOT NULL,
    education_level varchar(16) NOT NULL,
    consent_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
)
"""

INSERT = """
INSERT INTO bench_floor_applicants (id, cnic, full_name, date_of_birth, gender, email, phone,
    province, district, education_level, consent_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11)
"""
# The registration fields, in the INSERT's order (consent is stored as consent_at).
ROW_COLUMNS = tuple(name for name in ApplicantCreate.model_fields if name != "consent")


def _framework_floor(floor: FloorApp) -> FastAPI:
    """FastAPI and the registration schema, then the floor's raw INSERT."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/floor/validated", status_code=201)
    async def validated(body: ApplicantCreate) -> dict[str, str]:
        row = body.model_dump(mode="json", exclude={"consent"})
        row["date_of_birth"] = body.date_of_birth
        try:
            row_id, now = await floor.insert(row)
        except asyncpg.UniqueViolationError:
            raise HTTPException(409) from None
        return {"id": row_id, "created_at": now.isoformat()}

    return app


STATIC = json.dumps({"status": "ok", "items": [{"code": "zte-ict"}, {"code": "alibaba"}]})
JSON_HEADERS = [(b"content-type", b"application/json")]

Scope = dict[str, Any]


class FloorApp:
    def __init__(self, dsn: str | None) -> None:
        self.dsn = dsn
        self.pool: asyncpg.Pool | None = None
        self.framework = _framework_floor(self)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path == "/floor/validated":
            await self.framework(scope, receive, send)
            return
        if path == "/floor/applicants" and method == "POST":
            body = await _read_body(receive)
            status, payload = await self._insert(body)
        elif path in ("/floor/static", "/health") and method == "GET":
            status, payload = 200, STATIC.encode()
        else:
            status, payload = 404, b'{"status": 404}'
        await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": payload})

    async def _insert(self, body: bytes) -> tuple[int, bytes]:
        try:
            data = json.loads(body)
            data["date_of_birth"] = date.fromisoformat(data["date_of_birth"])
            row_id, now = await self.insert(data)
        except (ValueError, KeyError):
            return 422, b'{"status": 422}'
        except asyncpg.UniqueViolationError:
            return 409, b'{"status": 409}'
        return 201, json.dumps({"id": row_id, "created_at": now.isoformat()}).encode()

    async def insert(self, row: dict[str, Any]) -> tuple[str, datetime]:
        """One INSERT of the applicant columns in ``row``; its new id and time."""
        assert self.pool is not None
        now = datetime.now(UTC)
        row_id = str(uuid.uuid4())
        await self.pool.execute(INSERT, row_id, *(row[c] for c in ROW_COLUMNS), now)
        return row_id, now

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.dsn:
                    self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=20)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _bind(port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    return sock


def serve_one(port: int, reuse_port: bool) -> None:
    app = FloorApp(os.environ.get("BENCH_FLOOR_DSN"))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    load_and_freeze(config)  # as the service does
    uvicorn.Server(config).run(sockets=[_bind(port, reuse_port)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.workers == 1:
        serve_one(args.port, reuse_port=False)
        return
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=serve_one, args=(args.port, True)) for _ in range(args.workers)]
    for proc in procs:
        proc.start()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for proc in procs:
        proc.join()
    sys.exit(0)


if __name__ == "__main__":
    main()
