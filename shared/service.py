"""What a service is made of, and the runtime that starts and stops its parts.

A service declares a ``ServiceSpec`` (its routes, tables, migrations and event handlers); the
runtime gives it a database, a bus, the outbox relay, idempotent consumers and token
verification, the same way in every service and in every deployment.

What a service needs beyond that (its own settings, vaults, keys, hubs) is its context: a typed
object the spec's ``context`` function builds from the runtime once, when the service starts.
It is ``runtime.context``; routes read it with ``shared.deps.service_context``, background work
and event handlers from the runtime or by being built with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from sqlalchemy import MetaData, Table, text

from .auth import KeyRing, TokenService
from .bus import Consumer, EventBus, create_bus
from .config import ConfigurationError, Settings
from .crypto import MissingKey
from .db import create_engine, create_session_factory
from .inbox import EventHandler, IdempotentConsumer, inbox_table
from .migrations import upgrade
from .observability import Metrics
from .outbox import OutboxRelay, outbox_table
from .revocation import RevocationStore
from .uow import UnitOfWork

log = logging.getLogger("odr.runtime")


def platform_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The outbox and inbox tables every service keeps in its own database."""
    return outbox_table(metadata), inbox_table(metadata)


@dataclass
class Subscription:
    """A consumer of a service: its name (also its consumer group and inbox key), the topics it
    reads and a handler per CloudEvents type."""

    name: str
    handlers: dict[str, EventHandler]

    @property
    def topics(self) -> list[str]:
        from .events import registry

        return sorted({registry.get(t).topic for t in self.handlers})


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    router: APIRouter
    metadata: MetaData
    outbox: Table
    inbox: Table
    migrations: Path
    # The consumers: a list, or, where the handlers need the service's context, a function of the
    # context that returns the list.
    subscriptions: list[Subscription] | Callable[[Any], list[Subscription]] = field(default_factory=list)
    # The service's own dependencies: called with the runtime when the service starts, before
    # the consumers, and returns the service's context (a dataclass of its settings, vaults,
    # hubs...), which is then ``runtime.context``. ``None``: the service needs nothing of its own.
    context: Callable[["ServiceRuntime"], Any] | None = None
    # Background work that lives as long as the service (schedulers, delivery workers): each is
    # called with the runtime and returns an async context manager, entered after the consumers
    # start and exited before they stop.
    background: list[Callable[["ServiceRuntime"], AbstractAsyncContextManager]] = field(default_factory=list)
    # Every key the service needs besides the token keyring: called as ``keys(settings, create=...)``
    # first thing when the runtime is built (before any database or log file is touched) and by
    # each readiness probe; it opens each key and raises ``shared.crypto.MissingKey`` naming the
    # first that is missing. ``create`` (dev mode, ``odr keys init``) makes the missing ones.
    keys: Callable[..., None] | None = None
    # The service's own part of the AsyncAPI document beyond its events (e.g. a websocket
    # protocol): channels, operations and components merged into the platform document.
    asyncapi: Callable[[], dict] | None = None
    # The service's ``revocations`` table (``shared.revocation.revocations_table``): with it, the
    # runtime consumes ``odr.access.revoked.v1`` and its token verification refuses what was revoked.
    revocations: Table | None = None
    version: str = "0.1.0"


_NOT_STARTED = object()


class ServiceRuntime:
    def __init__(self, spec: ServiceSpec, settings: Settings, *, bus: EventBus | None = None) -> None:
        self.spec = spec
        self.settings = settings
        # Keys first: outside dev mode a missing key stops the service here, with nothing created.
        keyring = KeyRing.load(settings.resolved_keyring, create=settings.dev_mode)
        if spec.keys is not None:
            spec.keys(settings, create=settings.dev_mode)
        self.database_url = settings.database_url_for(spec.name)
        self.engine = create_engine(self.database_url)
        self.session_factory = create_session_factory(self.engine)
        self.bus = bus or create_bus(settings)
        self.metrics = Metrics(spec.name)
        self.relay = OutboxRelay(table=spec.outbox, session_factory=self.session_factory, bus=self.bus,
                                 batch_size=settings.relay_batch_size, poll_seconds=settings.relay_poll_seconds,
                                 linger_seconds=settings.relay_linger_seconds)
        self.revocations = (RevocationStore(table=spec.revocations, session_factory=self.session_factory,
                                            poll_seconds=settings.revocation_poll_seconds)
                            if spec.revocations is not None else None)
        self.tokens = TokenService(keyring,
                                   issuer=settings.jwt_issuer, ttl_seconds=settings.access_token_ttl_seconds,
                                   revocations=self.revocations.memory if self.revocations is not None else None)
        self.consumers: list[Consumer] = []
        self._background = AsyncExitStack()
        self._context: Any = _NOT_STARTED

    @property
    def context(self) -> Any:
        """The service's context (``ServiceSpec.context``), built once when the service started."""
        if self._context is _NOT_STARTED:
            raise RuntimeError(f"the {self.spec.name} service's context is built when the service starts")
        return self._context

    def uow(self) -> UnitOfWork:
        return UnitOfWork(session_factory=self.session_factory, outbox=self.spec.outbox,
                          source=f"/odr/{self.spec.name}", on_commit=self.relay.notify)

    async def start(self) -> None:
        if self.settings.migrate_on_start:
            await upgrade(self.engine, self.spec.migrations)
        await self.bus.start()
        await self.relay.start()
        if self.revocations is not None:
            await self.revocations.start()  # before the consumers and routes: nothing revoked slips through
        self._context = self.spec.context(self) if self.spec.context is not None else None
        subscriptions = self.spec.subscriptions
        subscriptions = list(subscriptions(self._context) if callable(subscriptions) else subscriptions)
        if self.revocations is not None:
            subscriptions.append(Subscription(name="revocations", handlers=self.revocations.handlers))
        for sub in subscriptions:
            handler = IdempotentConsumer(name=f"{self.spec.name}.{sub.name}", table=self.spec.inbox,
                                         uow_factory=self.uow, handlers=sub.handlers)
            counted = self._counting(handler, sub.name)
            consumer = self.bus.consumer(group=f"{self.spec.name}.{sub.name}", topics=sub.topics, handler=counted)
            await consumer.start()
            self.consumers.append(consumer)
        for make in self.spec.background:
            await self._background.enter_async_context(make(self))
        log.info("service started", extra={"service": self.spec.name, "bus": self.bus.name})

    def _counting(self, handler, name):
        counter = self.metrics.events_handled.labels(self.spec.name, name)

        async def _handle(records):
            await handler(records)
            counter.inc(len(records))

        return _handle

    async def stop(self) -> None:
        await self._background.aclose()
        for consumer in self.consumers:
            await consumer.stop()
        self.consumers.clear()
        if self.revocations is not None:
            await self.revocations.stop()
        await self.relay.stop()
        await self.bus.stop()
        await self.engine.dispose()

    async def check_ready(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        # A key lost while running (a volume or secret gone) makes the service not ready: it would
        # take requests it can no longer seal or open. Never created here, not even in dev mode.
        try:
            if not self.settings.resolved_keyring.exists():
                raise MissingKey("the token keyring is gone")
            if self.spec.keys is not None:
                self.spec.keys(self.settings, create=False)
            checks["keys"] = "ok"
        except ConfigurationError:
            checks["keys"] = "error: missing"
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            await self.bus.check()
            checks["bus"] = "ok"
        except Exception as exc:
            checks["bus"] = f"error: {type(exc).__name__}"
        return checks
