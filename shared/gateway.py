"""The embedded run's gateway: the four services mounted under their prefixes on one port, and
the browser client at ``/``. In production an nginx/ingress does the routing instead; the
services themselves are the same apps either way."""

from __future__ import annotations

import importlib
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route

from .config import SERVICES, Settings
from .observability import configure_logging

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ODR — online mediation</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
li{margin:.25rem 0}code{background:#f1f1f1;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>ODR — online mediation</h1>
<p>The platform is running. The browser client for parties and mediators will live here.</p>
<h2>Services</h2><ul>
%s
</ul><p>Each service documents its API at <code>/&lt;service&gt;/docs</code>; events are described at
<a href="/asyncapi.json">/asyncapi.json</a>.</p></body></html>"""


def service_app(name: str, settings: Settings):
    module = importlib.import_module(f"services.{name}.app")
    return module.create_app(settings, configure_logs=False)


def create_gateway(settings: Settings | None = None, services: tuple[str, ...] = SERVICES) -> Starlette:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    apps = {name: service_app(name, settings) for name in services}

    @asynccontextmanager
    async def lifespan(_app):
        # Mounted apps' lifespans are not run by Starlette; start each service's runtime here.
        async with AsyncExitStack() as stack:
            for sub in apps.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    async def landing(_request: Request):
        items = "\n".join(f'<li><a href="/{n}/docs">{n}</a> — <a href="/{n}/readyz">readiness</a></li>' for n in apps)
        return HTMLResponse(LANDING % items)

    async def healthz(_request: Request):
        return JSONResponse({"status": "ok", "services": list(apps)})

    async def readyz(_request: Request):
        checks = {name: await sub.state.runtime.check_ready() for name, sub in apps.items()}
        ready = all(v == "ok" for c in checks.values() for v in c.values())
        return JSONResponse({"status": "ready" if ready else "not-ready", "checks": checks}, status_code=200 if ready else 503)

    async def asyncapi(_request: Request):
        from .asyncapi import platform_asyncapi

        return JSONResponse(platform_asyncapi())

    routes = [Route("/", landing), Route("/healthz", healthz), Route("/readyz", readyz), Route("/asyncapi.json", asyncapi)]
    routes += [Mount(f"/{name}", app=sub) for name, sub in apps.items()]
    gateway = Starlette(routes=routes, lifespan=lifespan)
    gateway.state.services = apps
    return gateway
