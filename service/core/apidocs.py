"""``/docs``: Swagger UI served from the service itself, under a strict CSP.

The assets come from the ``swagger-ui-bundle-v2`` package (pinned in
requirements.lock), not from a CDN, so the page works where the internet is
slow or filtered and nothing third-party runs in it. No inline script: the
page loads the bundle and a small initialiser, both from ``/docs/``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from service.core.routing import CheckedRoute

ASSETS = Path(str(swagger_ui_path))
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
ASSET_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "public, max-age=86400"}
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}


def docs_router(*, title: str, openapi_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False, route_class=CheckedRoute)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API docs</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
    init = f"""window.ui = SwaggerUIBundle({{
  url: "{openapi_url}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  showExtensions: true,
}});
"""

    @router.get("/docs")
    async def docs() -> Response:
        return HTMLResponse(page, headers=HEADERS)

    @router.get("/docs/init.js")
    async def docs_init() -> Response:
        return Response(init, media_type="text/javascript; charset=utf-8", headers=HEADERS)

    @router.get("/docs/swagger-ui-bundle.js")
    async def docs_bundle() -> Response:
        name = "swagger-ui-bundle.js"
        return FileResponse(ASSETS / name, media_type=FILES[name], headers=ASSET_HEADERS)

    @router.get("/docs/swagger-ui.css")
    async def docs_css() -> Response:
        name = "swagger-ui.css"
        return FileResponse(ASSETS / name, media_type=FILES[name], headers=ASSET_HEADERS)

    return router
