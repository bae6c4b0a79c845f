"""Helpers for the multi-process end-to-end test: each service as its own process, started with
the command of its image (deploy/Dockerfile) and the environment docker-compose.yml gives it, with
only the addresses of the things compose would run (Kafka, PostgreSQL, the mail catcher, volumes
and secrets) pointed at their stand-ins on this machine. Logs are kept in files for the failure
report."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str, env: dict | None = None) -> str:
    """Run ``python -m odr.cli ...`` and return its stdout."""
    done = subprocess.run([sys.executable, "-m", "odr.cli", *args], cwd=ROOT, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(headers: dict[str, str]) -> dict:
    """The (unverified) claims of a bearer token: the test only needs its subject."""
    payload = headers["Authorization"].split()[1].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def image_command(service: str) -> list[str]:
    """The CMD of the service's target in deploy/Dockerfile, run from this checkout's virtualenv."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    target = re.search(rf"^FROM runtime AS {service}$(.*?)^CMD (\[[^\n]*\])$", dockerfile, re.M | re.S)
    assert target, f"no target {service} with a CMD in deploy/Dockerfile"
    command = json.loads(target.group(2))
    assert command[0] == "odr", command
    return [str(Path(sys.executable).parent / "odr"), *command[1:]]


def image_environment() -> dict[str, str]:
    """The ``ENV`` of the runtime image (ODR_ variables only)."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    return dict(re.findall(r"\b(ODR_[A-Z_]+)=(\S+)", dockerfile))


def compose_environment(service: str, stand_ins: dict[str, str]) -> dict[str, str]:
    """The ODR_ variables docker-compose.yml gives ``service`` (YAML anchors merged), over the
    image's. ``stand_ins`` replaces the values that name a container-only address; any other
    value naming one fails, so a new variable in compose cannot slip past this test."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = {**image_environment(), **{k: str(v) for k, v in compose["services"][service]["environment"].items()}}
    env = {k: stand_ins.get(k, v) for k, v in env.items()}
    for key, value in env.items():
        value = stand_ins.get(f"path:{value}", value)
        env[key] = value
        container_only = re.search(r"\b(kafka|postgres|mailpit|minio):\d+|^/run/secrets/|^/var/lib/odr", value) or (
            key.endswith("_HOST") and value in ("kafka", "postgres", "mailpit"))
        assert not container_only, f"{service}: {key}={value} needs a stand-in on this machine"
    return env


class ServiceProcess:
    """One service as ``python -m odr.cli serve <service>``; killable and restartable with the
    same command and environment."""

    def __init__(self, service: str, env: dict[str, str], log_dir: Path, *, name: str | None = None) -> None:
        self.service = service
        self.name = name or service  # e.g. sessions-2, one of several replicas
        self.port = free_port()
        self.env = {**env, "ODR_HOST": "127.0.0.1", "ODR_PORT": str(self.port)}
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return image_command(self.service)

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"{self.name}.{self.starts}.log", "wb")
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()

    async def ready(self, timeout: float = 90.0) -> None:
        """Until /readyz answers 200 (database migrated and reachable, bus reachable)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    r = await client.get("/readyz")
                    if r.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")
                await asyncio.sleep(0.2)

    def kill9(self) -> None:
        """SIGKILL: no shutdown hooks, no commits, no goodbye to the Kafka group."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self, chars: int = 4000) -> str:
        out = []
        for path in sorted(self.log_dir.glob(f"{self.name}.*.log")):
            out.append(f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(out)

    def errors(self, *, allow=lambda record: False) -> list[str]:
        """JSON log lines at error level or above, and tracebacks, over every run of the process;
        ``allow`` lets through records a test expects (a broker restart's connection errors)."""
        found = []
        for path in sorted(self.log_dir.glob(f"{self.name}.*.log")):
            for line in path.read_text(errors="replace").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    if "Traceback" in line:
                        found.append(f"{path.name}: {line}")
                    continue
                if isinstance(record, dict) and record.get("level") in ("error", "critical") \
                        and record.get("exc_type") != "CancelledError" and not allow(record):
                    found.append(f"{path.name}: {line[:500]}")
        return found
