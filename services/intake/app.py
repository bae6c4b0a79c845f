"""The intake service's app factory."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from fastapi import FastAPI

from shared.app import create_service_app
from shared.config import Settings
from shared.service import ServiceRuntime, ServiceSpec
from shared.workers import Worker

from . import context, deadlines, eligibility, events
from .api import router
from .models import Base, inbox, outbox, revocations

log = logging.getLogger("odr.intake")
SWEEP_SECONDS = 60.0


@contextlib.asynccontextmanager
async def deadline_sweeps(runtime: ServiceRuntime):
    """Legal deadlines do not wait for a request: once a minute, close cases whose invitation
    window passed in silence (declined) or whose term of mediation ended (term expired). A failed
    sweep is logged and the next one retries."""

    async def sweep() -> float:
        async with runtime.uow() as uow:
            await deadlines.expire_invitations(uow)
        async with runtime.uow() as uow:
            await deadlines.expire_terms(uow)
        await runtime.context.limits.purge()  # counters of ended rate-limit windows
        return SWEEP_SECONDS

    eligibility.load_rule_sets()  # a broken rule set file stops the service here, not mid-request
    async with Worker("intake-deadlines", sweep, backoff=SWEEP_SECONDS, logger=log):
        yield


SPEC = ServiceSpec(
    name="intake",
    title="ODR intake",
    description="Case filing and court referral, invitations and consent, eligibility and safety screening, "
                "mediator register and assignment, agreement to mediate.",
    router=router,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    revocations=revocations,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=events.SUBSCRIPTIONS,
    context=context.build,
    background=[deadline_sweeps],
)


def create_app(settings: Settings | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, **kwargs)
