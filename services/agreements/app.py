"""The agreements service's app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.app import create_service_app
from shared.config import Settings
from shared.service import ServiceSpec

from . import context, events, maintenance
from .api import router
from .models import Base, inbox, outbox, revocations

SPEC = ServiceSpec(
    name="agreements",
    title="ODR agreements",
    description="Drafting, signing, encrypted storage, audit chain and the court API (`/court/v1`). "
    "Agreement content is stored envelope-encrypted and never leaves in events.",
    router=router,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    revocations=revocations,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=events.SUBSCRIPTIONS,
    context=context.for_service,
    background=[maintenance.background],
)


def create_app(settings: Settings | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, **kwargs)
