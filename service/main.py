"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service import __version__
from service.applicants.router import router as applicants_router
from service.attendance.router import router as attendance_router
from service.catalog.router import router as catalog_router
from service.cohorts.router import router as cohorts_router
from service.completions.router import public_router as certificates_router
from service.completions.router import router as completions_router
from service.core.apidocs import docs_router
from service.core.config import Settings, get_settings
from service.core.db import Database
from service.core.errors import install_error_handlers
from service.core.hosts import AllowedHosts
from service.core.limits import BodySizeLimit
from service.core.observability import RequestContextMiddleware
from service.core.openapi import install_openapi, operation_id
from service.dashboard.console import router as console_router
from service.dashboard.router import router as dashboard_router
from service.enrollments.router import router as enrollments_router
from service.events.router import router as events_router
from service.health import router as health_router
from service.housekeeping import purge, run_periodically
from service.outcomes.router import router as outcomes_router
from service.places.router import router as places_router
from service.reports.metrics import install_metrics
from service.reports.router import router as reports_router
from service.webhooks.router import router as webhooks_router
from service.webhooks.runner import background_dispatcher

logger = logging.getLogger(__name__)

DESCRIPTION = """
System of record for the **ZTE Global ICT Training Centre** (commitment: train
100,000 young people) and **Alibaba e-commerce training**: applicants, cohorts,
enrollments, completions, certificates and progress reports.

Authenticate with `Authorization: Bearer <token>`; create a first key with
`python -m service keys create --role admin --name me`.
"""


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    reporting_database: Database | None = None,
) -> FastAPI:
    """Build the app. Tests pass a ``database`` bound to a rolled-back transaction.

    Reports read from ``reporting_database``, else from ``ENROLL_REPORTING_DATABASE_URL``
    (a read replica), else from the primary.
    """
    settings = settings or get_settings()
    owned: list[Database] = []
    db = database or Database.from_url(settings.database_url, settings)
    if database is None:
        owned.append(db)
    reporting_db = reporting_database or db
    reporting_url = settings.reporting_database_url
    if (
        reporting_database is None
        and database is None
        and not reporting_url
        and db.dialect == "sqlite"
    ):
        # SQLite writers hold the file lock for the whole transaction; reports (a long
        # CSV export above all) read through their own snapshot connections instead.
        reporting_url = settings.database_url
    if reporting_database is None and reporting_url:
        reporting_db = Database.from_url(reporting_url, settings, read_only=True)
        owned.append(reporting_db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A served app (its own database) deletes expired records on schedule; an
        # app given a database (tests) leaves that to whoever gave it.
        housekeeping = None
        if database is None and settings.purge_interval_seconds > 0:
            task = partial(purge, db, idempotency_ttl_hours=settings.idempotency_ttl_hours)
            housekeeping = asyncio.create_task(
                run_periodically(task, interval=settings.purge_interval_seconds)
            )
        # Webhook delivery: a dispatcher per server process (ENROLL_DISPATCHER=off: none).
        async with background_dispatcher(db, enabled=database is None):
            yield
        if housekeeping is not None:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
        for owned_db in owned:
            await owned_db.dispose()

    app = FastAPI(
        title="Youth training enrollment service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by docs_router below, without a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        generate_unique_id_function=operation_id,
    )
    app.state.db = db
    app.state.reporting_db = reporting_db
    app.state.settings = settings

    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        BodySizeLimit,
        max_json_bytes=settings.max_json_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        body_timeout=settings.body_timeout,
    )

    # A request naming a foreign Host is refused before any route sees it (logged,
    # with a request id, by the middleware around it).
    app.add_middleware(AllowedHosts, allowed=settings.allowed_hosts)
    app.add_middleware(RequestContextMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )

    if settings.docs_enabled:
        app.include_router(docs_router(title=app.title, openapi_url="/openapi.json"))
    app.include_router(health_router)
    app.include_router(catalog_router)
    app.include_router(applicants_router)
    app.include_router(places_router)
    app.include_router(cohorts_router)
    app.include_router(enrollments_router)
    app.include_router(outcomes_router)
    app.include_router(reports_router)
    app.include_router(dashboard_router)
    app.include_router(console_router)
    install_metrics(app)
    app.include_router(completions_router)
    app.include_router(attendance_router)
    app.include_router(certificates_router)
    app.include_router(events_router)
    app.include_router(webhooks_router)
    return app
