"""The `odr` command: one service as its own process, migrations, AsyncAPI, keys and tokens."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.auth import KeyRing, TokenService
from odr.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_one_service_as_its_own_process(tmp_path, monkeypatch):
    port = _free_port()
    data = tmp_path / "data"
    monkeypatch.setenv("ODR_KEK_KEYRING", str(tmp_path / "secrets" / "kek.json"))  # apart from the data
    env = {**os.environ, "ODR_DATA_DIR": str(data), "ODR_LOG_FORMAT": "json"}
    main(["keys", "init", "notifications", "--data-dir", str(data)])  # production does not invent keys
    # without the address people reach the platform at, notifications will not start: one line says why
    refused = subprocess.run([sys.executable, "-m", "odr.cli", "serve", "notifications", "--port", str(port),
                              "--host", "127.0.0.1"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert refused.returncode != 0 and b"ODR_PUBLIC_URL is not set" in refused.stderr
    env["ODR_PUBLIC_URL"] = "https://odr.example.kz"
    proc = subprocess.Popen([sys.executable, "-m", "odr.cli", "serve", "notifications", "--port", str(port),
                             "--host", "127.0.0.1"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120  # a busy machine starts a process slowly
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "no answer")
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["checks"] == {"keys": "ok", "database": "ok", "bus": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"] == "ODR notifications"
        assert (data / "notifications.sqlite3").exists()
        # An idle keep-alive connection is left for the client to close (KEEP_ALIVE_SECONDS): one
        # quiet past uvicorn's default of 5 s still takes the next request.
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            for _ in range(2):
                conn.sendall(b"GET /readyz HTTP/1.1\r\nHost: odr.test\r\n\r\n")
                assert _http_response(conn).startswith(b"HTTP/1.1 200")
                time.sleep(6)
    finally:
        proc.terminate()
        proc.wait(10)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells the truth.
    assert proc.returncode in (0, -15)
    assert not _errors(proc.stderr.read().decode())


def _http_response(conn: socket.socket) -> bytes:
    """One whole response (headers and Content-Length body) from a raw connection; b'' if closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += conn.recv(65536)
    return data


def _errors(stderr: str) -> list[str]:
    """Error log lines, except a task cancelled mid-query by the shutdown itself (SQLAlchemy's
    pool reports those while it closes connections; nothing is lost, the work is redone)."""
    found = []
    for line in stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                found.append(line)
            continue
        if record.get("level") in ("error", "critical") and record.get("exc_type") != "CancelledError":
            found.append(line)
    return found


def test_migrate_all_on_postgresql(pg_database_template, monkeypatch, capsys):
    base, names = pg_database_template
    for svc, name in names.items():
        monkeypatch.setenv(f"ODR_{svc.upper()}_DATABASE_URL", f"{base}/{name}")
    main(["migrate", "all"])
    out = capsys.readouterr().out
    assert all(f"{svc}: migrated to head" in out for svc in names)


def test_asyncapi_keys_and_token_commands(tmp_path, capsys):
    main(["asyncapi", "-o", str(tmp_path / "asyncapi.json")])
    assert json.loads((tmp_path / "asyncapi.json").read_text())["asyncapi"] == "3.0.0"
    main(["keys", "rotate", "--data-dir", str(tmp_path), "--public-out", str(tmp_path / "public.json")])
    main(["keys", "rotate", "--data-dir", str(tmp_path)])
    ring = KeyRing.load(tmp_path / "keys" / "jwt.json")
    assert len(ring.keys) == 2
    capsys.readouterr()
    main(["token", "--role", "admin", "--subject", "ops", "--data-dir", str(tmp_path)])
    token = capsys.readouterr().out.strip()
    assert TokenService(ring).verify(token).role == "admin"
    assert "private" not in (tmp_path / "public.json").read_text()


def test_kek_commands_are_delegated_to_the_service(tmp_path, capsys, monkeypatch):
    data = str(tmp_path / "data")
    monkeypatch.setenv("ODR_KEK_KEYRING", str(tmp_path / "secrets" / "kek.json"))  # apart from the data
    main(["keys", "init", "agreements", "--data-dir", data])
    main(["migrate", "agreements", "--data-dir", data])
    main(["kek", "agreements", "rotate", "--data-dir", data])
    main(["kek", "agreements", "status", "--data-dir", data])
    out = capsys.readouterr().out
    assert "agreements" in out
    import pytest

    with pytest.raises(SystemExit):
        main(["kek", "intake", "status"])


def test_the_run_command_installs_every_service_it_starts():
    """`./scripts/run` starts all four services in one process, so it must install each service's
    dependency group (not only the defaults); a missing one fails on a fresh machine only."""
    from pathlib import Path

    from odr.services import SERVICES

    script = (Path(__file__).resolve().parents[2] / "scripts" / "run").read_text()
    for service in SERVICES:
        assert f"--group {service}" in script, service
    assert 'uv sync --frozen --inexact "${SERVICE_GROUPS[@]}"' in script
