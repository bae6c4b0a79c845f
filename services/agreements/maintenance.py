"""The service's periodic work, started and stopped with it (``ServiceSpec.background``): mark
overdue obligations (``odr.obligation.overdue.v1``) and crypto-shred agreements whose retention
ended. Each round is its own transactions; a failed round is logged and retried next time.
Several replicas may run it: both steps only change rows still in their old state."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from shared.workers import Worker

from . import fulfilment, retention
from .context import Context
from .schemas import MaintenanceReport

log = logging.getLogger("odr.agreements.maintenance")


async def run_once(runtime, *, now: datetime | None = None) -> MaintenanceReport:
    ctx: Context = runtime.context
    async with runtime.uow() as uow:
        overdue = await fulfilment.mark_overdue(uow, ctx, now=now)
    async with runtime.uow() as uow:
        shredded = await retention.shred_expired(uow, ctx, now=now)
    return MaintenanceReport(overdue=overdue, shredded=shredded)


@contextlib.asynccontextmanager
async def background(runtime):
    ctx: Context = runtime.context
    interval = ctx.config.maintenance_seconds

    async def round_() -> float:
        await run_once(runtime)
        return interval

    async with Worker("agreements-maintenance", round_, backoff=interval, logger=log):
        yield
