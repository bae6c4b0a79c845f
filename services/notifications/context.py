"""The notifications service's context (``ServiceSpec.context``), next to
``shared.service.ServiceRuntime``: its settings, templates, sealing keys, channels, its workers
(started by the service's background work) and the signals that wake them and live feeds right
after a commit instead of at the next poll. Built once when the service starts; routes take
``n: Notifier = Depends(service_context)``, event handlers and workers are built with it."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi import Request
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from shared import courier
from shared.config import Settings
from shared.crypto import Envelope, create_keyring
from shared.service import ServiceRuntime
from shared.workers import Signal, Worker

from .channels.email import EmailTransport, MailboxTransport, SmtpTransport
from .channels import sms as sms_channel
from .channels.sms import SmsProvider
from .delivery import DeliveryWorker
from .rendering import Renderer
from .scheduler import Scheduler
from .settings import NotificationsSettings
from .storage import Sealer
from .webhooks import WebhookWorker

KEK_ID = "notifications"


def kek_path(settings: Settings) -> Path:
    """A file of our own beside the configured one, where existing deployments keep this
    service's KEK (from before the keyring locked its file against concurrent writers)."""
    configured = settings.resolved_kek_keyring
    return configured.with_name(f"notifications-{configured.name}")


def keys(settings: Settings, *, create: bool) -> None:
    """The service's keys (``ServiceSpec.keys``): its KEK, in its own file, and the courier key
    pair one-time links arrive sealed with (``shared.courier``; intake reads the public half)."""
    create_keyring(kek_path(settings), KEK_ID, create=create)
    courier.private_key(settings.resolved_kek_keyring, create=create)


class Notifier:
    def __init__(self, runtime: ServiceRuntime, nsettings: NotificationsSettings | None = None, *,
                 sms: SmsProvider | None = None, email: EmailTransport | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.nsettings = nsettings or NotificationsSettings()
        if self.nsettings.webhook_allow_insecure_urls and not self.settings.dev_mode:
            # Webhooks to loopback or private addresses reach the platform's own network.
            raise RuntimeError("ODR_NOTIFICATIONS_WEBHOOK_ALLOW_INSECURE_URLS is for development only: "
                               "it needs ODR_DEV_MODE=true and is refused in production")
        # Refuses to start outside dev mode without ODR_PUBLIC_URL: emails would carry dead links.
        self.renderer = Renderer(base_url=self.settings.link_base())
        # Refuses `smsc` without credentials; says which provider is active.
        self.sms = sms or sms_channel.provider(self.nsettings, dev_mode=self.settings.dev_mode)
        self._email = email
        self._sealer: Sealer | None = None
        # Waiters still look every poll interval, so a wake they cannot get (another replica
        # committed) costs at most one interval.
        self.signals = {"deliveries": Signal(), "webhooks": Signal(), "scheduler": Signal(), "feed": Signal()}
        # By class name, in the order they start (they stop in reverse).
        self.workers: dict[str, Worker] = {type(w).__name__: w
                                           for w in (DeliveryWorker(self), WebhookWorker(self), Scheduler(self))}

    def link_base(self, request: Request | None = None) -> str:
        """The start of links: ``ODR_PUBLIC_URL``; in dev mode without it, the address this request
        reached the platform at (the port the dev run listens on, whatever it is)."""
        request_base = f"{request.url.scheme}://{request.url.netloc}" if request is not None else None
        return self.settings.link_base(request_base=request_base)

    @property
    def allow_private_webhooks(self) -> bool:
        """http and loopback/private webhook endpoints: development and tests only (dev mode)."""
        return self.nsettings.webhook_allow_insecure_urls and self.settings.dev_mode

    @property
    def kek_path(self) -> Path:
        return kek_path(self.settings)

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            self._sealer = Sealer(Envelope(create_keyring(self.kek_path, KEK_ID, create=self.settings.dev_mode), KEK_ID))
        return self._sealer

    @cached_property
    def courier_key(self) -> X25519PrivateKey:
        """Opens the links intake sends sealed (``links``). A missing key already stopped the start
        (``keys``, the service's ``ServiceSpec.keys``)."""
        return courier.private_key(self.settings.resolved_kek_keyring, create=self.settings.dev_mode)

    def email_transport(self) -> EmailTransport:
        if self._email is None:
            if self.nsettings.email_transport == "smtp":
                self._email = SmtpTransport(self.nsettings)
            else:
                self._email = MailboxTransport(self.runtime.session_factory)
        return self._email

    @property
    def mailbox_enabled(self) -> bool:
        return self.nsettings.email_transport == "mailbox" and self.settings.dev_mode

    def after_commit(self, session: AsyncSession, *names: str) -> None:
        """Fire the named signals once this session's transaction commits (never before: a worker
        woken early would not see the rows yet)."""
        pending: set = session.info.setdefault("odr_signals", set())
        if not pending:
            def _fire(_sync_session) -> None:
                for name in session.info.pop("odr_signals", ()):
                    self.signals[name].fire()

            sa_event.listen(session.sync_session, "after_commit", _fire, once=True)
        pending.update(names)


def build(runtime: ServiceRuntime, nsettings: NotificationsSettings | None = None) -> Notifier:
    return Notifier(runtime, nsettings)
