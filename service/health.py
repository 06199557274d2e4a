"""Liveness (`/health`) and readiness (`/health/ready`)."""

import asyncio
import logging
from functools import lru_cache
from typing import Any, Literal

from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from service.core.db import Database, DatabaseDep
from service.core.routing import CheckedRoute

router = APIRouter(tags=["health"], route_class=CheckedRoute)
logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
UNAVAILABLE = {"status": "unavailable", "database": "unavailable"}


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]


class Readiness(Health):
    migrations: Literal["head", "pending", "unknown"] = Field(
        description="`pending`: the schema is behind the code (run `db upgrade`)."
    )


class NotReady(Readiness):
    revision: str | None = Field(
        default=None, description="With `pending`: the database's schema revision."
    )
    head: str | None = Field(default=None, description="With `pending`: the code's revision.")


def _answer(model: type[BaseModel], status: int) -> dict[str, Any]:
    headers = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    return {
        "model": model,
        "description": "Up" if status == 200 else "Unavailable",
        **({"headers": headers} if status == 503 else {}),
    }


@lru_cache
def migrations_head() -> str | None:
    from service.cli import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _database_revision(db: Database) -> str | None:
    """The schema revision, or raise when the database cannot be reached."""
    async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), db.sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        try:
            async with session.begin_nested():
                revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception:  # no alembic_version table: never migrated
            return None
        return str(revision) if revision is not None else None


@router.get(
    "/health",
    responses={200: _answer(Health, 200), 503: _answer(Health, 503)},
)
async def health(db: DatabaseDep) -> JSONResponse:
    """Liveness: report whether the service and its database are up."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), db.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "unavailable"
        logger.warning("health check failed: %s", type(exc).__name__)
        return JSONResponse(UNAVAILABLE, status_code=503, headers={"Retry-After": "2"})
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get(
    "/health/ready",
    responses={200: _answer(Readiness, 200), 503: _answer(NotReady, 503)},
)
async def ready(db: DatabaseDep) -> JSONResponse:
    """Readiness: the database is reachable and its schema is at the latest migration."""
    try:
        revision = await _database_revision(db)
    except Exception as exc:
        logger.warning("readiness check failed: %s", type(exc).__name__)
        return JSONResponse(
            {**UNAVAILABLE, "migrations": "unknown", "revision": None, "head": None},
            status_code=503,
            headers={"Retry-After": "2"},
        )
    head = migrations_head()
    if revision != head:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "migrations": "pending",
             "revision": revision, "head": head},
            status_code=503,
            headers={"Retry-After": "5"},
        )  # fmt: skip
    return JSONResponse({"status": "ok", "database": "ok", "migrations": "head"})
