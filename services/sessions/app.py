"""The sessions service's app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.app import create_service_app
from shared.config import Settings
from shared.service import ServiceSpec

from . import events
from .api import router
from .models import Base, inbox, outbox

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
)


def create_app(settings: Settings | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, **kwargs)
