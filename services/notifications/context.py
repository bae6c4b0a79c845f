"""The notifications service's own runtime pieces, next to ``shared.service.ServiceRuntime``:
its settings, templates, sealing keys, channels, and the signals that wake its workers and
live feeds right after a commit instead of at the next poll."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from shared.config import Settings
from shared.crypto import Envelope, LocalKeyring
from shared.workers import Signal

from .channels.email import EmailTransport, MailboxTransport, SmtpTransport
from .channels.sms import LoggingSmsProvider, SmsProvider
from .rendering import Renderer
from .settings import NotificationsSettings
from .storage import Sealer

KEK_ID = "notifications"


class Notifier:
    def __init__(self, settings: Settings, nsettings: NotificationsSettings | None = None, *,
                 sms: SmsProvider | None = None, email: EmailTransport | None = None) -> None:
        self.settings = settings
        self.nsettings = nsettings or NotificationsSettings()
        self.renderer = Renderer(base_url=self.nsettings.public_base_url)
        self.sms = sms or LoggingSmsProvider()
        self._email = email
        self._sealer: Sealer | None = None
        # Waiters still look every poll interval, so a wake they cannot get (another replica
        # committed) costs at most one interval.
        self.signals = {"deliveries": Signal(), "webhooks": Signal(), "scheduler": Signal(), "feed": Signal()}
        self.runtime = None  # set when the service starts
        self.workers: dict = {}

    @property
    def kek_path(self) -> Path:
        # A file of our own beside the configured one: LocalKeyring instances of several services in
        # one process would otherwise overwrite each other's newly created keys.
        configured = self.settings.resolved_kek_keyring
        return configured.with_name(f"notifications-{configured.name}")

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            self._sealer = Sealer(Envelope(LocalKeyring(self.kek_path), KEK_ID))
        return self._sealer

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
