"""Audio and video: what a room member's browser needs to reach the others (ICE servers, with
TURN credentials of their own). Who may connect with whom is decided in ``rooms`` (signalling
only within a channel, ``media.drop`` on every move); this module only hands out relays.

TURN credentials follow the TURN REST API scheme (draft-uberti-behave-turn-rest, what coturn's
``use-auth-secret`` implements): the username is ``<expiry unix time>:<participant id>`` and the
password is base64(HMAC-SHA1(shared secret, username)). The TURN server checks them without
asking us, and they stop working at the expiry, so a participant removed from the room keeps a
relay for at most ``turn_ttl_seconds``; only current members of an open room get them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from shared.auth import Principal
from shared.problems import NotFound
from shared.uow import UnitOfWork

from .models import Room
from .schemas import IceServer, IceServers
from .service import OPEN, Refused, member_for
from .settings import SessionsSettings


def turn_credential(*, secret: str, participant_id: str, expires_at: int) -> tuple[str, str]:
    """The (username, password) pair coturn accepts until ``expires_at``."""
    username = f"{expires_at}:{participant_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


async def ice_servers(uow: UnitOfWork, *, settings: SessionsSettings, case_id: str, principal: Principal,
                      now: float | None = None) -> IceServers:
    """ICE servers for a member of the case's open room; anyone else gets 404."""
    room = await uow.session.get(Room, case_id)
    if room is None or room.status != OPEN or room.participants is None:
        raise NotFound("the room")
    try:
        member = member_for(room, principal)
    except Refused:
        raise NotFound("the room") from None
    expires_at = int(now if now is not None else time.time()) + settings.turn_ttl_seconds
    servers = [IceServer(urls=settings.stun_urls)] if settings.stun_urls else []
    if settings.turn_urls and settings.turn_secret is not None:
        username, credential = turn_credential(secret=settings.turn_secret.get_secret_value(),
                                               participant_id=member.id, expires_at=expires_at)
        servers.append(IceServer(urls=settings.turn_urls, username=username, credential=credential))
    return IceServers(ice_servers=servers, ice_transport_policy=settings.ice_transport_policy,
                      expires_in=settings.turn_ttl_seconds)
