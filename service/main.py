"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response

from service import __version__
from service.catalog.router import router as catalog_router
from service.completions.router import public_router as certificates_router
from service.completions.router import router as completions_router
from service.core.config import Settings, get_settings
from service.core.db import Database
from service.core.errors import install_error_handlers
from service.core.idempotency import IdempotentReplay
from service.health import router as health_router

logger = logging.getLogger(__name__)

DESCRIPTION = """
System of record for the **ZTE Global ICT Training Centre** (commitment: train
100,000 young people) and **Alibaba e-commerce training**: applicants, cohorts,
enrollments, completions, certificates and progress reports.

Authenticate with `Authorization: Bearer <token>`; create a first key with
`python -m service keys create --role admin --name me`.
"""


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app. Tests pass a ``database`` bound to a rolled-back transaction."""
    settings = settings or get_settings()
    owns_database = database is None
    db = database or Database.from_url(settings.database_url, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_database:
            await db.dispose()

    app = FastAPI(
        title="Youth training enrollment service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.db = db
    app.state.settings = settings

    install_error_handlers(app)

    @app.exception_handler(IdempotentReplay)
    async def _replay(_request: Request, exc: IdempotentReplay) -> Response:
        return exc.response()

    app.include_router(health_router)
    app.include_router(catalog_router)
    app.include_router(completions_router)
    app.include_router(certificates_router)
    return app
