"""Child processes the tests start (odr dev, odr serve, coturn)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx

from tests.e2e.support import free_port
from tests.support.waiting import eventually


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Ask the process to stop (SIGTERM: a graceful shutdown is part of what is tested), and kill
    it if it has not stopped within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.asynccontextmanager
async def odr_serve(service: str, *, env: dict[str, str]) -> AsyncIterator[tuple[int, httpx.AsyncClient]]:
    """``odr serve <service>`` on a free port with ``env``, once it is ready: (port, a client of it)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "odr.cli", "serve", service, "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            async def ready():
                if proc.poll() is not None:
                    raise AssertionError(proc.stderr.read().decode()[-3000:])
                with contextlib.suppress(httpx.HTTPError):
                    return (await http.get("/readyz")).status_code == 200
            await eventually(ready, timeout=60, interval=0.1, message=f"odr serve {service} ready")
            yield port, http
    finally:
        stop(proc, 10)
