"""The notifications service's app factory.

Its background work (email/SMS delivery, court webhooks, the reminder scheduler) is declared as
``ServiceSpec.background``, so it starts after the consumers and stops before them, with the
service, in ``odr serve`` and in the embedded gateway alike.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from shared.app import create_service_app
from shared.config import Settings
from shared.service import ServiceRuntime, ServiceSpec

from . import context, events
from .api import router
from .channels import sms
from .context import Notifier
from .models import Base, inbox, outbox, revocations
from .settings import NotificationsSettings


@contextlib.asynccontextmanager
async def workers(runtime: ServiceRuntime):
    """The context's workers (delivery, court webhooks, the scheduler), running while the service runs."""
    notifier: Notifier = runtime.context
    async with contextlib.AsyncExitStack() as stack:  # stopped in reverse order
        for worker in notifier.workers.values():
            await stack.enter_async_context(worker)
        yield


SPEC = ServiceSpec(
    name="notifications",
    title="ODR notifications",
    description="Email, in-app and signed court webhooks in kk, ru and en.",
    router=router,
    metadata=Base.metadata,
    outbox=outbox,
    inbox=inbox,
    revocations=revocations,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=events.subscriptions,
    context=context.build,
    keys=context.keys,
    background=[workers],
)


def create_app(settings: Settings | None = None, *, notifications: NotificationsSettings | None = None,
               **kwargs) -> FastAPI:
    """``notifications``: this service's own settings (default: from ``ODR_NOTIFICATIONS_`` variables).

    Refuses (``ConfigurationError``) outside dev mode without ``ODR_PUBLIC_URL``: this service puts
    links in every email and notice, and a guessed address would send people nowhere. Refuses an
    SMS provider that cannot work (``smsc`` without credentials; ``channels.sms.check``)."""
    settings = settings or Settings()
    settings.link_base()
    notifications = notifications or NotificationsSettings()
    sms.check(notifications, dev_mode=settings.dev_mode)
    spec = replace(SPEC, context=partial(context.build, nsettings=notifications))
    return create_service_app(spec, settings, **kwargs)
