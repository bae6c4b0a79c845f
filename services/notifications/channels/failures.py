"""How a channel tells the delivery worker what went wrong: retry later, or give up now.

Both texts are stored as the delivery's ``last_error`` and logged, so a channel puts only its own
words and codes in them (``smtp 550``, ``smsc error 7``), never what the server said, an address,
a number or a message text (a link's secret is in the text)."""

from __future__ import annotations


class PermanentFailure(Exception):
    """Refused for good (SMTP 5xx, an invalid number, bad credentials, no money): retrying will not help."""


class TransientFailure(Exception):
    """Try again later (SMTP 4xx, the provider's temporary errors, connection trouble, timeout)."""
