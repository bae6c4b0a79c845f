"""A service behind the gateway as `odr serve` runs it: uvicorn with ``ODR_ROOT_PATH``, the
gateway having stripped the prefix (deploy/nginx.conf, the Ingress). Routes that share the
prefix's name still match, the probes answer, and the OpenAPI document names the prefix."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import uvicorn

from services.agreements.app import create_app
from shared.config import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("root_path", ["", "/agreements"])
async def test_a_service_behind_a_prefix_stripping_gateway(tmp_path, root_path):
    settings = Settings(data_dir=tmp_path, dev_mode=True, root_path=root_path)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, configure_logs=False), host="127.0.0.1", port=port,
                                           log_level="warning", root_path=settings.root_path, lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            # The gateway turned /agreements/agreements into /agreements: found, and asks for a token.
            r = await client.post("/agreements", json={})
            assert r.status_code == 401, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert (await client.get("/readyz")).status_code == 200
            document = (await client.get("/openapi.json")).json()
            assert document.get("servers", []) == ([{"url": root_path}] if root_path else [])
            docs = (await client.get("/docs")).text
            assert f'data-openapi-url="{root_path}/openapi.json"' in docs  # Swagger UI loads it through the gateway
            assert f'src="{root_path}/docs/assets/swagger-ui-bundle.js"' in docs  # and itself too
            assert (await client.get("/docs/assets/swagger-ui-bundle.js")).status_code == 200
    finally:
        server.should_exit = True
        await task
