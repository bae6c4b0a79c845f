"""One-time links intake asks us to deliver (``odr.access.link_sent.v1``): invitations and sign-in
links. The token and the address arrive sealed for this service (``shared.courier``, HPKE to our
private key) and stay sealed in the notice's params at rest; they are opened only by the delivery
worker, for the one message it is sending, and never logged. The notice goes to one person (a
case's participant, or for an address's link nobody in a case: the address itself) and never to
anyone's in-app feed (``catalog.PRIVATE_KINDS``).
"""

from __future__ import annotations

import json
import logging

from shared.contracts.intake import AccessLinkSent
from shared.courier import open_sealed
from shared.crypto import DecryptionError, aad

from . import service
from .catalog import EMAIL, SMS
from .models import Contact

log = logging.getLogger("odr.notifications.links")

KIND = {"invitation": "invitation_link", "sign_in": "sign_in_link", "sign_in_address": "sign_in_link"}


class Unopenable(Exception):
    """The sealed link or address does not open with our key: never guessed, never retried."""


def _open(notifier, sealed: str, *, link_id: str, part: str) -> str:
    try:
        return open_sealed(notifier.courier_key, sealed, info=aad("access-link", link_id, part))
    except DecryptionError:
        log.error("a sealed link does not open", extra={"link_id": link_id, "part": part})
        raise Unopenable(part) from None


def is_link(params: dict) -> bool:
    return "sealed_link" in params


def opened_params(notifier, params: dict) -> dict:
    """The params to render a link's message with: the token opened, the sealed values left out."""
    out = {k: v for k, v in params.items() if k not in ("sealed_link", "sealed_address")}
    out["token"] = _open(notifier, params["sealed_link"], link_id=params["link_id"], part="link")
    return out


def address(notifier, params: dict, channel: str) -> str | None:
    """The address the link was sent for, if intake gave one (else the recipient's own contact)."""
    if not params.get("sealed_address"):
        return None
    given = json.loads(_open(notifier, params["sealed_address"], link_id=params["link_id"], part="address"))
    return given.get("email") if channel == EMAIL else given.get("phone")


def _channels(notifier, event: AccessLinkSent) -> set[str] | None:
    """An address intake gave decides the channel (email first, else SMS); without one, the
    recipient's contact details (``_phone_only``) or preferences do."""
    if not event.sealed_address:
        return None
    given = json.loads(_open(notifier, event.sealed_address, link_id=event.link_id, part="address"))
    return {EMAIL} if given.get("email") else {SMS} if given.get("phone") else set()


async def _phone_only(session, participant_id: str | None) -> set[str] | None:
    """A participant who gave us only a phone number gets the link by SMS, whatever channels
    their preferences name (a link that waits for an email address nobody has never arrives)."""
    if participant_id is None:
        return None
    contact = await session.get(Contact, participant_id)
    if contact is not None and contact.phone_sealed and not contact.email_sealed:
        return {SMS}
    return None


async def on_link_sent(notifier, session, event: AccessLinkSent, envelope) -> None:
    if event.case_id != "*":
        await service.case_entry(session, event.case_id, default_time_zone=notifier.nsettings.default_time_zone)
    try:
        channels = _channels(notifier, event)
    except Unopenable:
        return  # sealed for another key: nothing we could send (logged, without the values)
    if channels is None:
        channels = await _phone_only(session, event.participant_id)
    recipient = event.participant_id or f"link:{event.link_id}"
    await service.notify(session, notifier, source_id=envelope.id, case_id=event.case_id, kind=KIND[event.purpose],
                         recipients=[(recipient, event.language)], channels=channels,
                         params={"link_id": event.link_id, "purpose": event.purpose,
                                 "expires_at": event.expires_at.isoformat(), "sealed_link": event.sealed_link,
                                 "sealed_address": event.sealed_address})
