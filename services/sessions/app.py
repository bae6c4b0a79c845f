"""The sessions service's app factory."""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import FastAPI

from shared.app import create_service_app
from shared.config import Settings
from shared.service import ServiceSpec

from . import events, transcripts
from .api import router
from .hub import Hub
from .models import Base, inbox, outbox
from .protocol import websocket_asyncapi
from .sequencer import Sequencer


@contextlib.asynccontextmanager
async def rooms_engine(runtime):
    """The room machinery of this process: the KEK provider, the hub (connections and fan-out)
    and the sequencer. They hang off the runtime so the websocket route finds them."""
    keys = transcripts.key_provider(runtime.settings.resolved_kek_keyring)
    hub = Hub(runtime, keys)
    sequencer = Sequencer(runtime, hub, keys)
    runtime.sessions_keys, runtime.sessions_hub, runtime.sessions_sequencer = keys, hub, sequencer
    await hub.start()
    await sequencer.start()
    try:
        yield
    finally:
        await sequencer.stop()
        await hub.stop()


SPEC = ServiceSpec(
    name="sessions",
    title="ODR sessions",
    description="Real-time mediation rooms: joint channel, caucuses, shuttle, presence, resume.",
    router=router,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=events.SUBSCRIPTIONS,
    asyncapi=websocket_asyncapi,
    background=[rooms_engine],
)


def create_app(settings: Settings | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, **kwargs)
