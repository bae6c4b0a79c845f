"""SMS behind a provider interface: SMSC.kz's HTTP API (``smsc``) for deployments, ``logging`` for
the dev run.

Parties in Kazakhstan are reached by phone more than by email, and an SMS is paid per segment, so:

- **Length.** A text the GSM 03.38 alphabet holds goes as GSM-7 (160 septets, 153 per segment of
  a long message; ``€[]{}`` and a few others take two); anything else, Cyrillic and Kazakh letters
  (ә ғ қ ң ө ұ ү һ і) included, goes as UCS-2 (70 characters, 67 per segment). :func:`compose`
  keeps the link whole and shortens the words before it until the message fits
  ``ODR_NOTIFICATIONS_SMS_MAX_SEGMENTS``; the provider is also told ``maxsms``, so it never bills
  more than that.
- **Idempotent resend.** Each send carries the provider's ``id``, derived from our delivery id.
  Before a *retry* (a second attempt: the first timed out, got a 5xx, or its worker died), the
  provider is asked whether it already has that id for that number (``status.php``); if it does,
  the earlier attempt got through and nothing is sent again. The window left is the one email
  has: a request the provider is still processing when the retry asks (retries wait 30 s and more).
- **Errors.** Network trouble, timeouts, HTTP 5xx/429 and the provider's temporary errors (4: IP
  blocked for a while, 9: too many requests) are retried with the worker's backoff; its other
  errors (invalid number, message refused, no money, bad credentials) fail the delivery for good.
  What we store and log is our own words with the provider's code, never its text, the number or
  the message (the message holds a link's secret); requests are POSTs, so the credentials and
  the text never appear in a URL that an exception or an HTTP log line could print.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import httpx

from shared.config import ConfigurationError

from ..settings import NotificationsSettings
from .failures import PermanentFailure, TransientFailure

log = logging.getLogger("odr.notifications.sms")

# (single message, per segment of a concatenated one)
_LIMITS = {"gsm": (160, 153), "ucs2": (70, 67)}


class SmsProvider(Protocol):
    async def send(self, *, delivery_id: str, recipient: str, phone: str, text: str, attempt: int = 1) -> None:
        """Send ``text`` to ``phone``. Raise ``TransientFailure`` to have the delivery retried,
        ``PermanentFailure`` to fail it. ``attempt`` > 1: an earlier attempt may have got through."""


# -- length ----------------------------------------------------------------------------------------


def encoding(text: str) -> str:
    """``gsm`` when the GSM 03.38 alphabet (with its extension table) holds every character, else ``ucs2``."""
    try:
        text.encode("gsm03.38")
    except UnicodeEncodeError:
        return "ucs2"
    return "gsm"


def segments(text: str) -> int:
    """How many SMS the text is billed as."""
    kind = encoding(text)
    units = len(text.encode("gsm03.38")) if kind == "gsm" else len(text.encode("utf-16-le")) // 2
    single, per_segment = _LIMITS[kind]
    return 1 if units <= single else -(-units // per_segment)


def compose(*, words: str, link: str, max_segments: int) -> str:
    """``words: link`` in at most ``max_segments`` SMS: the link is kept whole (it is what the
    message is for); the words are shortened, with an ellipsis, as much as needed."""
    text = f"{words}: {link}" if link else words
    if segments(text) <= max_segments:
        return text
    if link and segments(link) > max_segments:
        return link
    ellipsis = "…" if encoding(words) == "ucs2" else "..."
    for keep in range(len(words) - 1, 0, -1):
        head = words[:keep].rstrip() + ellipsis
        text = f"{head}: {link}" if link else head
        if segments(text) <= max_segments:
            return text
    return link or words[:1]


# -- providers -------------------------------------------------------------------------------------


class LoggingSmsProvider:
    """The dev run's provider: logs the delivery id and the recipient's participant id, never the
    number, never the text. Outside dev mode it sends nothing and says so: each SMS fails with
    "no SMS provider" rather than being recorded as sent."""

    name = "logging"

    def __init__(self, *, dev_mode: bool = True) -> None:
        self.dev_mode = dev_mode
        self.sent: list[str] = []  # delivery ids, for tests and the dev run

    async def send(self, *, delivery_id: str, recipient: str, phone: str, text: str, attempt: int = 1) -> None:
        if not self.dev_mode:
            raise PermanentFailure("no SMS provider is configured (ODR_NOTIFICATIONS_SMS_PROVIDER)")
        self.sent.append(delivery_id)
        log.info("sms handed to the logging provider", extra={"delivery_id": delivery_id, "recipient": recipient})


# The provider's error codes (send.php and status.php answers, ``error_code``): what we call them,
# and whether a later attempt can succeed.
SMSC_ERRORS: dict[int, tuple[str, bool]] = {
    1: ("parameters refused", False),
    2: ("bad credentials or address not allowed", False),
    3: ("no money on the account", False),
    4: ("address temporarily blocked", True),
    5: ("bad date format", False),
    6: ("message refused (text or sender id)", False),
    7: ("invalid phone number", False),
    8: ("cannot be delivered to this number", False),
    9: ("too many requests", True),
}
# status.php: "no message with this id for this number"
SMSC_NOT_FOUND = -3


def smsc_message_id(delivery_id: str) -> int:
    """The provider's ``id`` for a delivery: the same on every attempt. The provider takes a
    number from 1 to 2**31 - 1; ours is derived from the delivery id (an (id, number) pair is what
    it looks messages up by, so a clash would need the same number too)."""
    return int.from_bytes(hashlib.sha256(delivery_id.encode()).digest()[:8], "big") % (2**31 - 1) + 1


class SmscProvider:
    """SMSC.kz's HTTP API: ``POST {base}/sys/send.php`` with ``fmt=3`` (JSON answers) and
    ``charset=utf-8``; ``status.php`` before a retry. Credentials: an API key, or login and password."""

    name = "smsc"

    def __init__(self, settings: NotificationsSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = settings.smsc_base_url.rstrip("/")
        if settings.smsc_api_key is not None:
            self._auth = {"apikey": settings.smsc_api_key.get_secret_value()}
        else:
            self._auth = {"login": settings.smsc_login or "",
                          "psw": settings.smsc_password.get_secret_value() if settings.smsc_password else ""}
        self.sender = settings.sms_sender
        self.max_segments = settings.sms_max_segments
        self.timeout = settings.sms_timeout_seconds
        self._transport = transport

    def _client(self) -> httpx.AsyncClient:
        # A client per send: SMS are few, and nothing has to be closed when the service stops.
        return httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, transport=self._transport)

    async def send(self, *, delivery_id: str, recipient: str, phone: str, text: str, attempt: int = 1) -> None:
        message_id = smsc_message_id(delivery_id)
        async with self._client() as client:
            if attempt > 1 and await self._already_sent(client, message_id=message_id, phone=phone):
                log.info("sms already with the provider: not sent again",
                         extra={"delivery_id": delivery_id, "recipient": recipient, "attempt": attempt})
                return
            fields = {"phones": phone, "mes": text, "id": str(message_id), "maxsms": str(self.max_segments)}
            if self.sender:
                fields["sender"] = self.sender
            answer = await self._call(client, "send.php", fields)
        self._raise_for_error(answer)
        log.info("sms accepted by the provider", extra={"delivery_id": delivery_id, "recipient": recipient,
                                                        "segments": answer.get("cnt")})

    async def _already_sent(self, client: httpx.AsyncClient, *, message_id: int, phone: str) -> bool:
        answer = await self._call(client, "status.php", {"phone": phone, "id": str(message_id)})
        self._raise_for_error(answer)
        try:
            return int(answer["status"]) != SMSC_NOT_FOUND
        except (KeyError, TypeError, ValueError):
            raise TransientFailure("smsc status answer not understood") from None

    async def _call(self, client: httpx.AsyncClient, script: str, fields: dict[str, str]) -> dict:
        data = {**self._auth, **fields, "fmt": "3", "charset": "utf-8"}
        try:
            response = await client.post(f"{self.base_url}/sys/{script}", data=data)
        except httpx.TimeoutException:
            raise TransientFailure("smsc timeout") from None
        except httpx.HTTPError as exc:  # its text can carry the URL: the type only
            raise TransientFailure(f"smsc {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientFailure(f"smsc http {response.status_code}")
        if response.status_code != 200:
            raise PermanentFailure(f"smsc http {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise TransientFailure("smsc answer not JSON") from None
        if not isinstance(answer, dict):
            raise TransientFailure("smsc answer not understood")
        return answer

    @staticmethod
    def _raise_for_error(answer: dict) -> None:
        if "error_code" not in answer and "error" not in answer:
            return
        try:
            code = int(answer.get("error_code"))
        except (TypeError, ValueError):
            raise TransientFailure("smsc error without a code") from None
        words, temporary = SMSC_ERRORS.get(code, ("unknown error", True))
        message = f"smsc error {code} ({words})"
        if temporary:
            raise TransientFailure(message)
        if code in (2, 3):  # the account needs a person: every SMS fails until then
            log.error("the SMS account needs attention", extra={"error": message})
        raise PermanentFailure(message)


# -- choosing one ----------------------------------------------------------------------------------


def check(settings: NotificationsSettings, *, dev_mode: bool) -> None:
    """Refuse to start (``ConfigurationError``) with an SMS provider that cannot work: ``smsc``
    without credentials, or outside dev mode over plain http (the credentials would travel in clear)."""
    if settings.sms_provider != "smsc":
        return
    if settings.smsc_api_key is None and not (settings.smsc_login and settings.smsc_password):
        raise ConfigurationError(
            "ODR_NOTIFICATIONS_SMS_PROVIDER=smsc needs credentials: set ODR_NOTIFICATIONS_SMSC_API_KEY, or "
            "ODR_NOTIFICATIONS_SMSC_LOGIN and ODR_NOTIFICATIONS_SMSC_PASSWORD")
    if not dev_mode and not settings.smsc_base_url.startswith("https://"):
        raise ConfigurationError(
            "ODR_NOTIFICATIONS_SMSC_BASE_URL must be https:// outside dev mode: the SMS credentials and "
            "messages (with their sign-in links) would travel in clear")


def provider(settings: NotificationsSettings, *, dev_mode: bool) -> SmsProvider:
    """The configured provider, after :func:`check`; says at start which one is active."""
    check(settings, dev_mode=dev_mode)
    if settings.sms_provider == "smsc":
        log.info("SMS provider: smsc", extra={"base_url": settings.smsc_base_url, "sender": settings.sms_sender,
                                              "max_segments": settings.sms_max_segments})
        return SmscProvider(settings)
    if dev_mode:
        log.info("SMS provider: logging (dev mode: SMS are written to the log, not sent)")
    else:
        log.warning("SMS provider: none. ODR_NOTIFICATIONS_SMS_PROVIDER is `logging`: outside dev mode no SMS "
                    "is sent and each one is recorded as failed; set it to `smsc` to reach people by phone")
    return LoggingSmsProvider(dev_mode=dev_mode)
