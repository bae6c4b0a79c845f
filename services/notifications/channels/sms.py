"""SMS behind a provider interface. The default provider only logs the delivery id and the
recipient's participant id: never the number, never the text."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("odr.notifications.sms")


class SmsProvider(Protocol):
    async def send(self, *, delivery_id: str, recipient: str, phone: str, text: str) -> None:
        """Send ``text`` to ``phone``; raise to have the delivery retried."""


class LoggingSmsProvider:
    def __init__(self) -> None:
        self.sent: list[str] = []  # delivery ids, for tests and the dev run

    async def send(self, *, delivery_id: str, recipient: str, phone: str, text: str) -> None:
        self.sent.append(delivery_id)
        log.info("sms handed to the logging provider", extra={"delivery_id": delivery_id, "recipient": recipient})
