"""Fixtures for the notifications service: the app running on its own database and bus, with
compressed timings, and helpers to publish domain events into it as other services would."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pytest

from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from shared.bus import Message
from shared.config import Settings
from shared.events import Event, envelope
from tests.support.apps import running

FAST = dict(delivery_poll_seconds=0.05, webhook_poll_seconds=0.05, scheduler_poll_seconds=0.05, feed_poll_seconds=0.05,
            webhook_retry_schedule=[0.0, 0.05, 0.1], webhook_jitter=0.1, webhook_timeout_seconds=2.0,
            webhook_allow_insecure_urls=True, delivery_retry_base_seconds=0.05, delivery_lease_seconds=1.0)
PUBLIC_URL = "https://odr.example"


@dataclass
class Service:
    client: object
    app: object
    sent: list = field(default_factory=list)

    @property
    def runtime(self):
        return self.app.state.runtime

    @property
    def notifier(self):
        return self.runtime.context

    def worker(self, name: str):
        return self.notifier.workers[name]

    async def publish(self, *events: Event, source: str = "/odr/test"):
        """Put events on the bus the way another service's relay would; returns their envelopes."""
        envs = [envelope(e, source=source) for e in events]
        await self.runtime.bus.publish([Message(topic=type(e).topic, key=e.case_id, value=ce.to_bytes())
                                        for e, ce in zip(events, envs)])
        return envs

    async def republish(self, *envs):
        """Redeliver exactly the same envelopes (same ids), as the bus may."""
        from shared.events import registry

        await self.runtime.bus.publish([Message(topic=registry.get(ce.type).topic, key=ce.subject, value=ce.to_bytes())
                                        for ce in envs])

    def token(self, subject: str, role: str = "party", cases=(), court: str | None = None, side: str | None = None) -> dict:
        t = self.runtime.tokens.issue(subject=subject, role=role, cases=list(cases), court=court, party_side=side)
        return {"Authorization": f"Bearer {t}"}


@contextlib.asynccontextmanager
async def service(tmp_path, *, settings: Settings | None = None, **overrides):
    settings = settings or Settings(data_dir=tmp_path, dev_mode=True, log_format="json", public_url=PUBLIC_URL)
    app = create_app(settings, notifications=NotificationsSettings(**{**FAST, **overrides}), configure_logs=False)
    async with running(app) as client:
        yield Service(client=client, app=app)


@pytest.fixture
async def svc(tmp_path):
    async with service(tmp_path) as s:
        yield s
