"""Real local servers the notifications tests talk to: an SMTP server (aiosmtpd), a court's
webhook receiver (a Starlette app under uvicorn) that verifies Standard Webhooks signatures with
the reference ``standardwebhooks`` library, and an SMS gateway speaking SMSC.kz's HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import email
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy

import uvicorn
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailServer:
    """Records every message it receives. ``hold`` makes the n-th DATA wait (the client sees no
    reply) until ``release`` is set: the window in which a sender can die mid-send. The held
    message is then refused (451: its sender is gone) or, with ``accept_held``, accepted late.
    ``opened_at`` holds, per received message, when its connection said EHLO (monotonic time)."""

    def __init__(self, hold: int | None = None, *, accept_held: bool = False) -> None:
        self.received: list[email.message.EmailMessage] = []   # every DATA the server got
        self.accepted: list[email.message.EmailMessage] = []   # those it answered 250 to
        self.opened_at: list[float] = []                       # per received message
        self.hold = hold
        self.accept_held = accept_held
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        session.odr_opened_at = time.monotonic()
        return responses

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(msg)
            self.opened_at.append(getattr(session, "odr_opened_at", time.monotonic()))
            n = len(self.received)
        if self.hold is not None and n == self.hold:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            if not self.accept_held:
                return "451 the sender went away before we could answer"
        with self._lock:
            self.accepted.append(msg)
        return "250 Message accepted for delivery"

    def message_ids(self, which: str = "accepted") -> list[str]:
        with self._lock:
            return [m["Message-ID"] for m in getattr(self, which)]

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.controller.stop()


@dataclass
class Delivery:
    headers: dict
    body: bytes
    at: float
    verified: bool
    error: str | None


@dataclass
class WebhookReceiver:
    """A court's endpoint. ``plan`` is the status codes of the next answers (then 204)."""

    secrets: list[str] = field(default_factory=list)
    plan: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    location: str | None = None  # where a 3xx answer points

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/odr"

    def verify(self, body: bytes, headers: dict) -> tuple[bool, str | None]:
        errors = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True, None
            except WebhookVerificationError as exc:
                errors.append(str(exc))
        return False, "; ".join(errors) or "no secret"

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        ok, error = self.verify(body, headers)
        self.deliveries.append(Delivery(headers=headers, body=body, at=time.monotonic(), verified=ok, error=error))
        status = self.plan.pop(0) if self.plan else 204
        redirect = {"location": self.location} if self.location and 300 <= status < 400 else None
        return Response(status_code=status, headers=redirect)

    @contextlib.asynccontextmanager
    async def running(self):
        app = Starlette(routes=[Route("/hooks/odr", self._handle, methods=["POST"])])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                               lifespan="off"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        try:
            yield self
        finally:
            server.should_exit = True
            await task


async def _serve(app, port: int):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task


@dataclass
class SmscGateway:
    """SMSC.kz's HTTP API as the platform uses it: ``POST /sys/send.php`` and ``/sys/status.php``
    with form fields, ``fmt=3`` JSON answers, errors as ``{"error": ..., "error_code": N}`` with
    HTTP 200, and messages looked up by (``id``, phone).

    ``plan`` is what the next send requests meet, then acceptance: an HTTP status >= 100 (answered
    without taking the message), an error code < 100 (the provider's JSON error; its text quotes
    the number and the message, as a careless provider might), or ``"slow"`` (the message is
    taken, the answer comes ``slow_seconds`` later: the sender times out)."""

    api_key: str | None = None
    login: str = "odr-kz"
    password: str = "psw-do-not-log-9f3a"
    plan: list = field(default_factory=list)
    slow_seconds: float = 5.0
    requests: list[tuple[str, dict]] = field(default_factory=list)  # (script, form fields)
    accepted: list[dict] = field(default_factory=list)               # every message taken, repeats included
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sends(self) -> list[dict]:
        return [f for script, f in self.requests if script == "send"]

    def _authorised(self, form: dict) -> bool:
        if self.api_key is not None:
            return form.get("apikey") == self.api_key
        return form.get("login") == self.login and form.get("psw") == self.password

    async def _send(self, request: Request) -> Response:
        form = dict(await request.form())
        self.requests.append(("send", form))
        if not self._authorised(form):
            return JSONResponse({"error": "authorise error", "error_code": 2})
        if form.get("fmt") != "3" or form.get("charset") != "utf-8" or not form.get("phones") or not form.get("mes"):
            return JSONResponse({"error": "parameters error", "error_code": 1})
        step = self.plan.pop(0) if self.plan else None
        if isinstance(step, int) and step >= 100:
            return Response("gateway trouble", status_code=step)
        if isinstance(step, int):
            return JSONResponse({"error": f"refused {form['phones']}: {form['mes']}", "error_code": step,
                                 "id": int(form.get("id") or 0)})
        self.accepted.append(form)
        if step == "slow":
            await asyncio.sleep(self.slow_seconds)
        return JSONResponse({"id": int(form.get("id") or 1), "cnt": 1})

    async def _status(self, request: Request) -> Response:
        form = dict(await request.form())
        self.requests.append(("status", form))
        if not self._authorised(form):
            return JSONResponse({"error": "authorise error", "error_code": 2})
        known = any(m.get("id") == form.get("id") and m["phones"] == form.get("phone") for m in self.accepted)
        return JSONResponse({"status": 1 if known else -3, "last_timestamp": 0})

    @contextlib.asynccontextmanager
    async def running(self):
        app = Starlette(routes=[Route("/sys/send.php", self._send, methods=["POST"]),
                                Route("/sys/status.php", self._status, methods=["POST"])])
        server, task = await _serve(app, self.port)
        try:
            yield self
        finally:
            server.should_exit = True
            await task
