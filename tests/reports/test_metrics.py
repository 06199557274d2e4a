"""GET /metrics: Prometheus text, request metrics by route template, target gauges."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key
from tests.live import live_server
from tests.reports.fixtures import build_world, commit_world


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_text_with_gauges_and_route_templates(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await build_world(session)
    headers = auth(await make_key(session, "reporter"))
    assert (await client.get("/api/v1/reports/progress", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/cohorts/some-raw-id-123", headers=headers)).status_code in (
        403,
        404,
    )
    r = await client.get("/metrics", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    found = samples(r.text)
    assert found[("enroll_target_achieved", (("target", "zte-100k"),))] == 2
    assert found[("enroll_target_goal", (("target", "zte-100k"),))] == 100000
    progress = (
        "enroll_http_requests_total",
        (("method", "GET"), ("route", "/api/v1/reports/progress"), ("status", "200")),
    )
    assert found[progress] >= 1
    assert any(
        name == "enroll_http_request_duration_seconds_bucket"
        and dict(labels).get("route") == "/api/v1/reports/progress"
        for name, labels in found
    )
    # Label values are templates or "unmatched", never a raw path.
    routes = {dict(labels).get("route") for _, labels in found} - {None}
    assert not any("some-raw-id" in route for route in routes if route)


async def test_metrics_needs_a_report_role(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    assert (await client.get("/metrics")).status_code == 401
    r = await client.get("/metrics", headers=auth(await make_key(session, "client")))
    assert r.status_code == 403
    for role in ("staff", "admin"):
        r = await client.get("/metrics", headers=auth(await make_key(session, role)))
        assert r.status_code == 200


@pytest.mark.slow
async def test_metrics_add_up_across_worker_processes(fresh_database_url: str) -> None:
    token = await commit_world(fresh_database_url)
    with live_server(fresh_database_url, workers=2) as base_url:
        headers = auth(token)
        async with httpx.AsyncClient(base_url=base_url) as client:
            for _ in range(12):
                # A new connection each time, so the kernel spreads them over the workers.
                r = await client.get(
                    "/api/v1/reports/progress", headers={**headers, "Connection": "close"}
                )
                assert r.status_code == 200
            for _ in range(3):
                r = await client.get("/metrics", headers={**headers, "Connection": "close"})
                assert r.status_code == 200
                found = samples(r.text)
                key = (
                    "enroll_http_requests_total",
                    (("method", "GET"), ("route", "/api/v1/reports/progress"), ("status", "200")),
                )
                assert found[key] == 12
                assert found[("enroll_target_achieved", (("target", "zte-100k"),))] == 2
