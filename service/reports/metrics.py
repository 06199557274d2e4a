"""Prometheus metrics: request count and latency by route template, target gauges.

With several server processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory shared by them (``serve --workers N`` does this itself): every
process then writes its samples there and a scrape of any one of them adds
up all. Target gauges are read from the database at scrape time, so they are
exact whichever process answers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.auth import ReportActor
from service.core.db import ReportingSessionDep
from service.core.errors import problem_responses
from service.core.observability import route_template
from service.core.routing import CheckedRoute
from service.reports import service

REQUESTS = Counter(
    "enroll_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "enroll_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class MetricsMiddleware:
    """Pure ASGI, so streamed responses are timed to their last byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            labels = (route_template(scope, unmatched="unmatched"), scope["method"], str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - start)


class _TargetGauges:
    def __init__(self, rows: list[tuple[str, int, int, float]]) -> None:
        self.rows = rows

    def collect(self) -> Iterator[Metric]:
        achieved = GaugeMetricFamily(
            "enroll_target_achieved", "Progress of each target in its metric.", labels=["target"]
        )
        goal = GaugeMetricFamily("enroll_target_goal", "Goal of each target.", labels=["target"])
        percent = GaugeMetricFamily(
            "enroll_target_percent", "achieved / goal × 100.", labels=["target"]
        )
        for code, value, target_goal, pct in self.rows:
            achieved.add_metric([code], value)
            goal.add_metric([code], target_goal)
            percent.add_metric([code], pct)
        yield achieved
        yield goal
        yield percent


def _request_registry() -> Any:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


router = APIRouter(tags=["reports"], route_class=CheckedRoute)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        **problem_responses(401, 403),
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
    },
)
async def get_metrics(session: ReportingSessionDep, _actor: ReportActor) -> Response:
    """Prometheus text: request metrics and target progress gauges."""
    report = await service.progress(session)
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(
        _TargetGauges([(t.code, t.achieved, t.goal, t.percent) for t in report.targets])
    )
    body = generate_latest(_request_registry()) + generate_latest(gauges)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware)
    app.include_router(router)
