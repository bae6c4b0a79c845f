"""Structured logs, correlation ids and Prometheus metrics.

Log records carry request and event correlation ids from context variables, and only the fields a
caller passed explicitly in ``extra``: never request bodies, so confidential content (caucus text,
screening answers, agreement terms, names) cannot leak into logs by accident.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_event_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)
_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


def current_correlation_id() -> str | None:
    return _correlation_id.get() or _request_id.get()


@contextlib.contextmanager
def correlation_context(*, event_id: str | None = None, correlation_id: str | None = None):
    t1 = _event_id.set(event_id)
    t2 = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _event_id.reset(t1)
        _correlation_id.reset(t2)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (("request_id", _request_id), ("event_id", _event_id), ("correlation_id", _correlation_id)):
            value = var.get()
            if value:
                out[key] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aiokafka", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel("WARNING")


class Metrics:
    """One registry per service app, so several services can run in one process (``odr dev``)."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("odr_http_requests_total", "HTTP requests", ["service", "method", "route", "status"], registry=self.registry)
        self.latency = Histogram("odr_http_request_seconds", "HTTP request latency", ["service", "method", "route"], registry=self.registry)
        self.events_handled = Counter("odr_events_handled_total", "Bus records handed to consumers", ["service", "consumer"], registry=self.registry)
        self.service = service


class RequestContextMiddleware:
    """Pure ASGI middleware: request id (``X-Request-ID`` in and out), access log, metrics."""

    def __init__(self, app, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logging.getLogger(f"odr.{metrics.service}.http")

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = _request_id.set(request_id)
        status = {"code": 500}
        started = time.perf_counter()

        async def send_wrapper(message):
            kind = message["type"]
            if kind == "websocket.accept":
                status["code"] = 101  # switched protocols: a websocket is not an error
            elif kind == "websocket.close" and status["code"] == 500:
                status["code"] = 403  # closed before accepting: what the server answers the handshake
            elif kind == "websocket.http.response.start":
                status["code"] = message["status"]
            if kind == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "WS")
            self.metrics.requests.labels(self.metrics.service, method, route_path, str(status["code"])).inc()
            self.metrics.latency.labels(self.metrics.service, method, route_path).observe(elapsed)
            if scope["type"] == "http" and route_path not in ("/healthz", "/metrics"):
                self.log.info("request", extra={"method": method, "route": route_path, "status": status["code"],
                                                "duration_ms": round(elapsed * 1000, 2)})
            _request_id.reset(token)
