"""Request-scoped dependencies shared by every service's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from starlette.requests import HTTPConnection

from .service import ServiceRuntime
from .uow import UnitOfWork


def runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


def service_context(connection: HTTPConnection) -> Any:
    """The service's own context (``ServiceSpec.context``), built once when it started. A service
    names its type once, ``Ctx = Annotated[SessionsContext, Depends(service_context)]``, and its
    routes (websockets too) take ``ctx: Ctx``."""
    return connection.app.state.runtime.context


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request; routes hand it to use cases, which commit it."""
    async with request.app.state.runtime.uow() as uow:
        yield uow
