"""The embedded run's gateway: the four services mounted under their prefixes on one port, and
the browser client at ``/``. In production an nginx/ingress does the routing instead; the
services themselves are the same apps either way."""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from shared.config import Settings
from shared.hardening import NCALAYER_ORIGIN, SecurityHeadersMiddleware
from shared.observability import configure_logging

from .asyncapi import platform_asyncapi
from .services import SERVICES, app_module

CLIENT_DIR = Path(__file__).resolve().parents[1] / "client"
# Paths the browser client owns: everything that is not under a service's prefix, an asset or an
# operations route answers with the client's page, so links in notices (/cases/<id>/...) open the
# right view and every page of the client survives a reload. A service owns what is *under* its
# prefix (/notifications/feed), as in nginx (`location /notifications/`) and the ingress; the bare
# name is the client's page (/notifications, the feed).
RESERVED = {*SERVICES, "assets", "healthz", "readyz", "asyncapi.json"}


def _dev_connect_src(settings: Settings) -> tuple[str, ...]:
    """Dev mode may point the agreement page at a stand-in for NCALayer (the browser tests do);
    the page must then be allowed to connect there. Production allows only NCALayer's own address."""
    if not settings.dev_mode:
        return ()
    from services.agreements.config import AgreementsSettings
    from services.agreements.signing import ncalayer_url

    url = urlsplit(ncalayer_url(settings, AgreementsSettings()))
    origin = f"{url.scheme}://{url.netloc}"
    return () if origin == NCALAYER_ORIGIN else (origin,)


def owned_by_the_client(path: str) -> bool:
    """Whether ``path`` (without its leading slash) is a page of the browser client."""
    first, under, _ = path.partition("/")
    return not (first in RESERVED and (under or first not in SERVICES))


def create_gateway(settings: Settings | None = None, services: tuple[str, ...] = SERVICES) -> Starlette:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    apps = {name: app_module(name).create_app(settings, configure_logs=False) for name in services}

    @asynccontextmanager
    async def lifespan(_app):
        # Mounted apps' lifespans are not run by Starlette; start each service's runtime here.
        async with AsyncExitStack() as stack:
            for sub in apps.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    async def client_page(request: Request):
        if not owned_by_the_client(request.path_params.get("path", "")):
            return PlainTextResponse("Not Found", status_code=404)
        page = CLIENT_DIR / "index.html"
        if not page.exists():  # a service image has no client; the APIs still work
            return PlainTextResponse("ODR is running; the browser client is not installed here.")
        # no-cache: a new release's page is picked up at once; assets are revalidated by ETag.
        return FileResponse(page, headers={"Cache-Control": "no-cache"})

    async def healthz(_request: Request):
        return JSONResponse({"status": "ok", "services": list(apps)})

    async def readyz(_request: Request):
        checks = {name: await sub.state.runtime.check_ready() for name, sub in apps.items()}
        ready = all(v == "ok" for c in checks.values() for v in c.values())
        return JSONResponse({"status": "ready" if ready else "not-ready", "checks": checks}, status_code=200 if ready else 503)

    async def asyncapi(_request: Request):
        return JSONResponse(platform_asyncapi())

    routes = [Route("/", client_page), Route("/healthz", healthz), Route("/readyz", readyz),
              Route("/asyncapi.json", asyncapi)]
    routes += [Mount(f"/{name}", app=sub) for name, sub in apps.items()]
    routes += [Mount("/assets", app=StaticFiles(directory=CLIENT_DIR / "assets", check_dir=False), name="assets"),
               Route("/{path:path}", client_page, methods=["GET", "HEAD"])]
    # The client's page and assets get the same security headers as the services (shared.hardening).
    gateway = Starlette(routes=routes, lifespan=lifespan,
                        middleware=[Middleware(SecurityHeadersMiddleware, connect_src=_dev_connect_src(settings))])
    gateway.state.services = apps
    return gateway
