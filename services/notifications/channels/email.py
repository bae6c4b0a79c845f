"""Email: a MIME message (plain text + HTML alternative, and for a sitting its calendar
invitation as a ``text/calendar`` attachment) with a Message-ID derived from the delivery id, sent over SMTP (aiosmtplib) or kept in the local mailbox of the embedded run.

The Message-ID is the same on every attempt of a delivery, so if the service dies after the
server accepted a message but before it recorded that, the retry is recognisably the same email
(receiving systems and our mailbox deduplicate on it).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

import aiosmtplib
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.clock import utcnow

from ..calendar import Invitation
from ..models import MailboxMessage
from ..rendering import RenderedMessage
from ..settings import NotificationsSettings
from ..storage import insert_ignore
from .failures import PermanentFailure, TransientFailure

log = logging.getLogger("odr.notifications.email")


def message_id_for(delivery_id: str, domain: str) -> str:
    return f"<{delivery_id}@{domain}>"


def build_message(*, rendered: RenderedMessage, to: str, sender: str, message_id: str,
                  invitation: Invitation | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = rendered.subject
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(utcnow())
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    if invitation is not None:
        msg.add_attachment(invitation.data, maintype="text", subtype="calendar", filename=invitation.filename,
                           params={"method": invitation.method, "charset": "utf-8"})
    msg["Content-Language"] = rendered.language  # after the body: set_content resets Content-* headers
    return msg


class EmailTransport(Protocol):
    async def send(self, msg: EmailMessage, *, recipient: str, language: str) -> None: ...


class SmtpTransport:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    async def send(self, msg: EmailMessage, *, recipient: str, language: str) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                msg, hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                start_tls=s.smtp_starttls, use_tls=s.smtp_tls, timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentFailure(f"recipient refused ({codes[0]})") from None
            raise TransientFailure(f"recipient refused ({codes[0] if codes else '?'})") from None
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"smtp {exc.code}") from None
            raise TransientFailure(f"smtp {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientFailure(type(exc).__name__) from None


class MailboxTransport:
    """The embedded run's mail catcher: messages land in the ``mailbox`` table, keyed by
    Message-ID, so a retried send is stored once."""

    def __init__(self, session_factory: async_sessionmaker) -> None:
        self.session_factory = session_factory

    async def send(self, msg: EmailMessage, *, recipient: str, language: str) -> None:
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        async with self.session_factory() as session:
            await insert_ignore(session, MailboxMessage.__table__, [{
                "message_id": msg["Message-ID"], "recipient": recipient, "to_address": msg["To"],
                "subject": msg["Subject"], "text_body": text, "html_body": html, "language": language,
                "received_at": utcnow()}], conflict=["message_id"])
            await session.commit()
