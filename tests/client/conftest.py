"""Browser tests: a real `odr dev` process (the README's first command, on a free port) and
Debian's chromium driven by Playwright. Screenshots of every step go to test-artifacts/browser/."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright

from tests.e2e.support import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("ODR_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
async def odr(tmp_path, request):
    """The embedded run on a free port; its URL. ``@pytest.mark.odr_env({...})`` adds settings."""
    port = free_port()
    log = open(tmp_path / "odr-dev.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODR_") or k.startswith("ODR_TEST_")}
    marker = request.node.get_closest_marker("odr_env")
    env.update(marker.args[0] if marker else {})
    proc = subprocess.Popen([sys.executable, "-m", "odr.cli", "dev", "--port", str(port),
                             "--data-dir", str(tmp_path / "var")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(300):
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
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
