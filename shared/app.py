"""The app factory every service uses: problems, request context, health, readiness, metrics and
OpenAPI the same way everywhere, security headers and the JSON depth limit
(``shared.hardening``), API docs served locally (``shared.apidocs``), and a lifespan that starts
the service's runtime."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import devclock
from .apidocs import install_api_docs
from .config import Settings
from .hardening import JsonDepthLimitMiddleware, SecurityHeadersMiddleware
from .observability import RequestContextMiddleware, configure_logging
from .problems import document_problems, install_problem_handlers
from .service import ServiceRuntime, ServiceSpec


def create_service_app(spec: ServiceSpec, settings: Settings | None = None, *, configure_logs: bool = True) -> FastAPI:
    settings = settings or Settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    runtime = ServiceRuntime(spec, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # No root_path here: the server (uvicorn in `odr serve`) adds ODR_ROOT_PATH to the scope, so
    # routes, docs and OpenAPI `servers` see the prefix the gateway stripped.
    app = FastAPI(title=spec.title, description=spec.description, version=spec.version, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.state.settings = settings
    install_problem_handlers(app)
    app.add_middleware(JsonDepthLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=runtime.metrics)
    install_api_docs(app)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict:
        return {"status": "ok", "service": spec.name}

    @app.get("/readyz", tags=["operations"], summary="Readiness: database and bus reachable")
    async def readyz(request: Request):
        checks = await runtime.check_ready()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not-ready", "service": spec.name, "checks": checks},
                            status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=True)
    async def metrics() -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(spec.router)
    app.include_router(devclock.router)  # answers 404 outside dev mode
    document_problems(app)
    keep_to_openapi_3_1(app)
    return app


def keep_to_openapi_3_1(app: FastAPI) -> None:
    """The document says OpenAPI 3.1.0, but FastAPI describes a streamed response (server-sent
    events, JSON lines) with ``itemSchema``, an OpenAPI 3.2 keyword that 3.1 validators reject.
    In 3.1 such a body is a string; the schema of each item is kept as ``x-item-schema``."""
    build = app.openapi

    def openapi() -> dict:
        schema = build()
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                for response in (operation.get("responses", {}) if isinstance(operation, dict) else {}).values():
                    for media in response.get("content", {}).values():
                        if "itemSchema" in media:
                            media["x-item-schema"] = media.pop("itemSchema")
                            media["schema"] = {"type": "string", "description": "a stream; each item as in x-item-schema"}
        return schema

    app.openapi = openapi
