"""The sessions service's app factory."""

from __future__ import annotations

import contextlib
import gc
import logging
from dataclasses import replace
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from shared.app import create_service_app
from shared.config import Settings
from shared.service import ServiceSpec
from shared.workers import Worker

from . import connection, context, documents, events
from .api import router
from .context import SessionsContext
from .models import Base, inbox, outbox, revocations
from .protocol import websocket_asyncapi
from .settings import SessionsSettings

log = logging.getLogger("odr.sessions")


@contextlib.asynccontextmanager
async def rooms_engine(runtime):
    """The room machinery of this process: the context's hub (connections and fan-out) and
    sequencer, running while the service runs."""
    ctx: SessionsContext = runtime.context
    hub, sequencer = ctx.hub, ctx.sequencer
    await hub.start()
    await sequencer.start()
    if runtime.revocations is not None:  # revoked tokens leave their rooms at once (4012)
        memory = runtime.revocations.memory
        memory.listen(partial(connection.close_revoked, hub, memory))
    gc_before = gc_for_many_connections()
    try:
        yield
    finally:
        await sequencer.stop()
        await hub.stop()
        gc.set_threshold(*gc_before)
        gc.unfreeze()


PURGE_SECONDS = 300.0


@contextlib.asynccontextmanager
async def document_store(runtime):
    """The documents' blob store: unreadable documents purged from it every few minutes
    (``documents.purge``), its connections closed when the service stops."""
    ctx: SessionsContext = runtime.context

    async def purge_round() -> float:
        await documents.purge(ctx)
        return PURGE_SECONDS

    try:
        async with Worker("sessions-documents-purge", purge_round, backoff=PURGE_SECONDS, logger=log):
            yield
    finally:
        await ctx.store.close()


GC_THRESHOLDS = (20_000, 10, 50)


def gc_for_many_connections() -> tuple[int, int, int]:
    """Fewer, cheaper garbage collections; returns the thresholds before.

    Thousands of open websockets keep a few hundred thousand long-lived objects (each
    connection's coroutines, queues and buffers). With the default thresholds (700, 10, 10)
    every frame's short-lived objects that happen to be alive at a young collection get
    promoted, full collections follow every few seconds and each walks the whole heap: measured
    at 2,000 connections, up to half a second per pause and a third of the event loop's time
    (bench/sessions.md). A larger young generation promotes far less; freezing what exists once
    the service is up (imports, models, the app) keeps it out of every later full collection.
    Everything created later is collected as before, only less often; what was frozen is freed
    by reference counting only (its cycles wait until the service stops and unfreezes). The
    setting is per process: services sharing this process get it too.
    """
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return before


SPEC = ServiceSpec(
    name="sessions",
    title="ODR sessions",
    description="Real-time mediation rooms: joint channel, caucuses, shuttle, presence, resume.",
    router=router,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    revocations=revocations,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=events.SUBSCRIPTIONS,
    asyncapi=websocket_asyncapi,
    context=context.build,
    keys=context.keys,
    background=[rooms_engine, document_store],
)


def create_app(settings: Settings | None = None, *, sessions: SessionsSettings | None = None, **kwargs) -> FastAPI:
    """``sessions``: this service's own settings (default: from ``ODR_SESSIONS_`` variables; a
    TURN server named without its secret stops the start here)."""
    spec = replace(SPEC, context=partial(context.build, settings=sessions or SessionsSettings()))
    return create_service_app(spec, settings, **kwargs)
