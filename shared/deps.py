"""Request-scoped dependencies shared by every service's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request

from .service import ServiceRuntime
from .uow import UnitOfWork


def runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request; routes hand it to use cases, which commit it."""
    async with request.app.state.runtime.uow() as uow:
        yield uow
