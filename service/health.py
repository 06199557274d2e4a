"""Liveness: is the process up and can it reach its database?"""

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.core.db import DatabaseDep

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


@router.get(
    "/health",
    responses={
        200: {"description": "Up, database reachable"},
        503: {"description": "Database unreachable"},
    },
)
async def health(db: DatabaseDep) -> JSONResponse:
    """Report whether the service and its database are up."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), db.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "unavailable"
        logger.warning("health check failed: %s", type(exc).__name__)
        return JSONResponse(
            {"status": "unavailable", "database": "unavailable"},
            status_code=503,
            headers={"Retry-After": "2"},
        )
    return JSONResponse({"status": "ok", "database": "ok"})
