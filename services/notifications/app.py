"""The notifications service's app factory.

Its background work (email/SMS delivery, court webhooks, the reminder scheduler) is declared as
``ServiceSpec.background``, so it starts after the consumers and stops before them, with the
service, in ``odr serve`` and in the embedded gateway alike.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI

from shared.app import create_service_app
from shared.config import Settings
from shared.service import ServiceRuntime, ServiceSpec

from . import events
from .api import router
from .context import Notifier
from .delivery import DeliveryWorker
from .models import Base, inbox, outbox
from .scheduler import Scheduler
from .settings import NotificationsSettings
from .webhooks import WebhookWorker


def workers(notifier: Notifier):
    @contextlib.asynccontextmanager
    async def _background(runtime: ServiceRuntime):
        notifier.runtime = runtime
        async with contextlib.AsyncExitStack() as stack:  # stopped in reverse order
            started = [await stack.enter_async_context(worker)
                       for worker in (DeliveryWorker(notifier), WebhookWorker(notifier), Scheduler(notifier))]
            notifier.workers = {type(w).__name__: w for w in started}
            yield

    return _background


def build_spec(notifier: Notifier) -> ServiceSpec:
    return ServiceSpec(
        name="notifications",
        title="ODR notifications",
        description="Email, in-app and signed court webhooks in kk, ru and en.",
        router=router,
        metadata=Base.metadata,
        outbox=outbox,
        inbox=inbox,
        migrations=Path(__file__).parent / "migrations",
        subscriptions=events.subscriptions(notifier),
        background=[workers(notifier)],
    )


# The module-level spec (migrations, the CLI) with settings from the environment.
SPEC = replace(build_spec(Notifier(Settings())), background=[])


def create_app(settings: Settings | None = None, *, notifications: NotificationsSettings | None = None,
               notifier: Notifier | None = None, **kwargs) -> FastAPI:
    settings = settings or Settings()
    notifier = notifier or Notifier(settings, notifications)
    app = create_service_app(build_spec(notifier), settings, **kwargs)
    app.state.notifier = notifier
    notifier.runtime = app.state.runtime
    return app
