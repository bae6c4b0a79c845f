"""Browser tests: a real `odr dev` process (the README's first command, on a free port) and
Debian's chromium driven by Playwright. Screenshots of every step go to test-artifacts/browser/."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.support import free_port
from tests.support.processes import stop

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("ODR_TEST_CHROMIUM", "/usr/bin/chromium")

# How long an `expect` waits for the page to come right when a test names no timeout of its own.
# Playwright's 5 s is too short on a loaded 2-core machine: signing an agreement (a PDF rendered and
# sealed) took longer than that when CI shared the machine. A passing test waits no longer for it.
expect.set_options(timeout=20_000)


@pytest.fixture
async def odr(tmp_path, request, migrated_sqlite_templates):
    """The embedded run on a free port; its URL. ``@pytest.mark.odr_env({...})`` adds settings.
    Its databases start as copies of migrated ones (tests/support/migrated.py)."""
    port = free_port()
    await migrated_sqlite_templates.seed(tmp_path / "var")
    log = open(tmp_path / "odr-dev.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODR_") or k.startswith("ODR_TEST_")}
    marker = request.node.get_closest_marker("odr_env")
    env.update(marker.args[0] if marker else {})
    if "turn" in request.fixturenames:  # the sessions service hands out this TURN server
        env.update(request.getfixturevalue("turn").env)
    if "odr_extra_env" in request.fixturenames:  # settings a test's own fixture made (files, ports)
        env.update(request.getfixturevalue("odr_extra_env"))
    proc = subprocess.Popen([sys.executable, "-m", "odr.cli", "dev", "--port", str(port),
                             "--data-dir", str(tmp_path / "var")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        # Generous: `odr dev` on the PostgreSQL + Kafka platform, on a 2-core machine at load 40,
        # took over a minute to answer.
        deadline = time.monotonic() + 180
        async with httpx.AsyncClient(base_url=url) as client:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise AssertionError((tmp_path / "odr-dev.log").read_text()[-4000:])
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("odr dev did not become ready")
        yield url
    finally:
        stop(proc)
        log.close()


@dataclass
class Turn:
    url: str
    secret: str
    log: Path

    @property
    def env(self) -> dict[str, str]:
        """`odr dev` settings: browsers get this relay, and only this relay."""
        return {"ODR_SESSIONS_TURN_URLS": json.dumps([self.url]), "ODR_SESSIONS_TURN_SECRET": self.secret,
                "ODR_SESSIONS_ICE_TRANSPORT_POLICY": "relay"}


@pytest.fixture
def turn(tmp_path):
    """coturn (Debian's package) on loopback with the TURN REST API's shared secret, as compose
    and Kubernetes run it; loopback peers allowed because the browsers are on this machine."""
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.fail("turnserver is missing: install Debian's coturn (scripts/test does)")
    port, secret, log = free_port(), uuid.uuid4().hex, tmp_path / "turnserver.log"
    relay_low = 50000 + (port % 100) * 100  # a small relay range of its own
    out = open(log, "wb")
    proc = subprocess.Popen([binary, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                             f"--listening-port={port}", f"--min-port={relay_low}", f"--max-port={relay_low + 99}",
                             "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=odr.test",
                             "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
                             f"--pidfile={tmp_path / 'turnserver.pid'}", f"--userdb={tmp_path / 'turndb'}",
                             "--log-file=stdout", "--simple-log"], stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        yield Turn(url=f"turn:127.0.0.1:{port}?transport=udp", secret=secret, log=log)
    finally:
        stop(proc, 10)
        out.close()


@pytest.fixture
async def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does) or set ODR_TEST_CHROMIUM")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox",
                                           "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
        yield launched
        await launched.close()


@pytest.fixture
def artifacts(request):
    """A clean folder for this test's screenshots."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
