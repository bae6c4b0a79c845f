"""Each service's API docs (Swagger UI at ``/docs``), served by the platform itself.

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script: code from
elsewhere, on the origin where tokens live, and a page the Content-Security-Policy
(``shared.hardening``) would have to loosen for. Here the Swagger UI files come from the
``fastapi-offline`` wheel (pinned in uv.lock) and the page starts it with a script of ours,
so the docs work under the same strict policy as everything else.
"""

from __future__ import annotations

import html
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_FILES = files("fastapi_offline") / "static"

INIT_JS = """\
// Starts Swagger UI on the document named by the page (no inline script: the CSP forbids it).
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({ url: root.dataset.openapiUrl, dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset], layout: "BaseLayout" });
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{root}/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="{root}/docs/assets/favicon.png">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{root}{openapi}"></div>
  <script src="{root}/docs/assets/swagger-ui-bundle.js"></script>
  <script src="{root}/docs/init.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """``/docs`` (the page), ``/docs/init.js`` and ``/docs/assets/*`` (Swagger UI's files)."""
    app.mount("/docs/assets", StaticFiles(directory=str(SWAGGER_UI_FILES)), name="api-docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return HTMLResponse(PAGE.format(title=html.escape(f"{app.title} - API docs"), root=html.escape(root),
                                        openapi=html.escape(app.openapi_url or "/openapi.json")))

    @app.get("/docs/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(INIT_JS, media_type="text/javascript")
