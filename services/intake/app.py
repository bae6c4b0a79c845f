"""The intake service's app factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from fastapi import FastAPI

from shared.app import create_service_app
from shared.config import Settings
from shared.service import ServiceRuntime, ServiceSpec
from shared.tasks import cancel_and_wait

from . import deadlines as service  # the loop below runs its sweeps: service.expire_invitations, .expire_terms
from . import eligibility, events
from .api import router
from .models import Base, inbox, outbox

log = logging.getLogger("odr.intake")
SWEEP_SECONDS = 60.0


@contextlib.asynccontextmanager
async def deadlines(runtime: ServiceRuntime):
    """Legal deadlines do not wait for a request: once a minute, close cases whose invitation
    window passed in silence (declined) or whose term of mediation ended (term expired)."""

    async def loop() -> None:
        while True:
            try:
                async with runtime.uow() as uow:
                    await service.expire_invitations(uow)
                async with runtime.uow() as uow:
                    await service.expire_terms(uow)
            except Exception as exc:  # keep sweeping; the next round retries
                log.error("deadline sweep failed", extra={"exc_type": type(exc).__name__})
            await asyncio.sleep(SWEEP_SECONDS)

    eligibility.load_rule_sets()  # a broken rule set file stops the service here, not mid-request
    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        await cancel_and_wait(task)


SPEC = ServiceSpec(
    name="intake",
    title="ODR intake",
    description="Case filing and court referral, invitations and consent, eligibility and safety screening, "
                "mediator register and assignment, agreement to mediate.",
    router=router,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=events.SUBSCRIPTIONS,
    background=[deadlines],
)


def create_app(settings: Settings | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, **kwargs)
