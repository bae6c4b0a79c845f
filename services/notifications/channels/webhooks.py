"""Standard Webhooks v1 on the wire: ``whsec_`` secrets, the three ``webhook-*`` headers and the
``v1,<base64 HMAC-SHA256 of id.timestamp.body>`` signature (one per live secret, space separated,
so a receiver can rotate), plus the checks on an endpoint URL.

Signatures come from the reference ``standardwebhooks`` library, the one receivers verify with.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from .outbound import is_public, literal_address

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(*, secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<signature>`` per secret, space separated, over ``id.timestamp.body``."""
    at = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return " ".join(Webhook(s).sign(msg_id, at, body.decode()) for s in secrets_)


def headers(*, secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secrets_=secrets_, msg_id=msg_id, timestamp=timestamp, body=body),
            "content-type": "application/json", "user-agent": "odr-notifications/1"}


class BadUrl(ValueError):
    pass


def check_url(url: str, *, allow_insecure: bool) -> str:
    """An endpoint must be an absolute https URL to a public host (http and loopback/private
    addresses only when insecure URLs are allowed, in development). A literal address is checked
    here in every spelling (``2130706433``, ``127.1``, ``0x7f.0.0.1``, ``[::ffff:127.0.0.1]``...);
    names are resolved and checked again at every request (``outbound``), which is the check that
    holds: this one tells the court at once."""
    if len(url) > 2000 or any(c.isspace() for c in url):
        raise BadUrl("the URL is too long or contains whitespace")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadUrl("the URL cannot be parsed") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BadUrl("the URL must be absolute, with an https scheme and a host")
    if parts.username or parts.password:
        raise BadUrl("the URL must not carry credentials")
    if port == 0:
        raise BadUrl("the URL has an invalid port")
    if allow_insecure:
        return url
    if parts.scheme != "https":
        raise BadUrl("the URL must use https")
    host = parts.hostname.rstrip(".")
    address = literal_address(host)
    if address is None and (host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
                            or "." not in host):  # a single label is a local name
        raise BadUrl("the URL must point to a public host")
    if address is not None and not is_public(address):
        raise BadUrl("the URL must point to a public address")
    return url
