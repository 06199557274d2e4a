"""/docs works offline: Swagger UI's files come from the service, under a strict CSP."""

from __future__ import annotations

import re

import httpx


async def test_docs_page_loads_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert sources, r.text
    assert all(s.startswith("/docs/") for s in sources), sources
    assert "cdn" not in r.text.lower()
    assert "<script>" not in r.text  # no inline script: CSP allows only our own files
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert asset.headers["content-security-policy"] == csp
        assert len(asset.content) > 100
    init = (await client.get("/docs/init.js")).text
    assert '"/openapi.json"' in init
    bundle = await client.get("/docs/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in bundle.content
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.")
