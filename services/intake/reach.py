"""Reach and return: the platform itself delivers the one-time links people come in by, since
parties rarely have accounts. An invitation reaches the invited party, a sign-in link reaches a
party of a case, and "email me a link" reaches whoever owns an address with one link to every case
that address belongs to, open or closed (closed ones read-only: nothing in them changes any more).

How a link travels: intake keeps only its hash, and hands the token to notifications in an
``AccessLinkSent`` event, sealed with notifications' public key (``shared.courier``: HPKE), as is
the address it goes to. So no event, outbox row, bus record or log line holds a link in the clear,
and the request that asked for it never gets it back (outside dev mode). The event goes through
the outbox in the same transaction as the link, so a link that exists is a link that is sent.

"Email me a link" never says whether an address is known: the same answer, of the same shape,
whatever was found; it is limited per address and per client (``ratelimits``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import courier
from shared.auth import TokenService
from shared.contracts.intake import EVERY_CASE, AccessLinkSent
from shared.crypto import aad
from shared.uow import UnitOfWork

from . import cases, personal
from .models import AccessLink, Case, Consent, Participant
from .schemas import Input, Language

ADDRESS_LINK_TTL = timedelta(minutes=30)
EMAIL_PATTERN = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
# Who comes back by their own link: everyone who acts on a side or helps it in the room (support
# persons come with a party and are not reached on their own). The order is the preference when
# one address belongs to several people of one case.
REACHABLE_ROLES = ("party", "representative", "interpreter")
# How long the link of one's own that a co-party, representative or interpreter gets when their
# side has agreed to mediate stays usable (afterwards "email me a link" brings a new one).
WELCOME_LINK_TTL = timedelta(days=7)


class EmailLinkRequest(Input):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    language: Language | None = Field(None, description="the language of the email; default: the person's own")


class EmailLinkAccepted(BaseModel):
    """The same whatever the address: known, unknown, or with closed cases only."""

    status: Literal["sent_if_known"] = "sent_if_known"
    expires_in_minutes: int = int(ADDRESS_LINK_TTL.total_seconds() // 60)


class CaseAccess(BaseModel):
    case_id: str
    reference: str | None = Field(None, description="the case's human reference (KZ-2026-000123)")
    side: str
    role: str
    status: str
    category: str
    jurisdiction: str
    filed_at: datetime
    outcome: str | None = None
    access_token: str


class LinkSignIn(BaseModel):
    """What a sign-in link yields: a token per case it opens (one for a case's link, every case of
    the address for an address's link). ``access_token`` is the first case's, for clients that
    handle one case."""

    access_token: str | None
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    cases: list[CaseAccess]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- sealing for notifications -------------------------------------------------------------------


def seal_link(key: X25519PublicKey, *, link_id: str, token: str) -> str:
    return courier.seal(key, token, info=aad("access-link", link_id, "link"))


def seal_address(key: X25519PublicKey, *, link_id: str, email: str | None = None,
                 phone: str | None = None) -> str | None:
    address = {k: v for k, v in (("email", email), ("phone", phone)) if v}
    if not address:
        return None
    return courier.seal(key, json.dumps(address), info=aad("access-link", link_id, "address"))


def send(uow: UnitOfWork, key: X25519PublicKey, *, link: AccessLink, sealed_link: str, language: str,
         participant: Participant | None = None, email: str | None = None, phone: str | None = None) -> None:
    """Have notifications deliver ``link`` (its token already sealed) to ``email``/``phone``, else to
    the participant's contact: intake's own (from the filing or the answer), else notifications'."""
    if participant is not None and not (email or phone):
        contact = participant.contact or {}
        email, phone = contact.get("email"), contact.get("phone")
    uow.publish(AccessLinkSent(
        case_id=link.case_id or EVERY_CASE, link_id=link.id, purpose=link.purpose,
        participant_id=participant.id if participant is not None else None, language=language,
        expires_at=link.expires_at, sealed_link=sealed_link,
        sealed_address=seal_address(key, link_id=link.id, email=email, phone=phone)))


def new_link(*, key: X25519PublicKey, case_id: str, side: str, purpose: str, created_by: str, now: datetime,
             expires_at: datetime, email_hash: str | None = None) -> tuple[AccessLink, str, str]:
    """A new link: (row, token, token sealed for notifications). Only the token's hash is stored."""
    token = secrets.token_urlsafe(32)
    link_id = str(uuid.uuid4())
    sealed = seal_link(key, link_id=link_id, token=token)
    link = AccessLink(id=link_id, token_hash=token_hash(token), case_id=case_id, side=side, purpose=purpose,
                      created_by=created_by, created_at=now, expires_at=expires_at, email_hash=email_hash)
    return link, token, sealed


def update_contact(vault: personal.Vault, participant: Participant, *, email: str) -> None:
    """Keep ``email`` as the participant's contact (sealed, with its keyed hash), so "email me a
    link" finds their case by it."""
    details = participant.details
    personal.seal(vault, participant, replace(details, contact={**(details.contact or {}), "email": email}))


# -- "email me a link" ---------------------------------------------------------------------------


async def _consented_sides(session: AsyncSession, case_ids: set[str]) -> set[tuple[str, str]]:
    if not case_ids:
        return set()
    rows = (await session.execute(select(Consent.case_id, Consent.side).where(
        Consent.case_id.in_(sorted(case_ids)), Consent.decision == "consented"))).all()
    return {(c, s) for c, s in rows}


async def reachable(session: AsyncSession, rows: list[Participant]) -> list[Participant]:
    """Of the participants found by an address, the one per case who may come back: a party,
    representative or interpreter of a side that consented (a party still to answer an invitation
    answers that), each as themselves (their own token, ``cases.participant_token``)."""
    consented = await _consented_sides(session, {p.case_id for p in rows})
    chosen: dict[str, Participant] = {}
    for p in rows:
        if p.role in REACHABLE_ROLES and (p.case_id, p.side) in consented:
            if p.case_id not in chosen or REACHABLE_ROLES.index(p.role) < REACHABLE_ROLES.index(chosen[p.case_id].role):
                chosen[p.case_id] = p
    return list(chosen.values())


def welcome(uow: UnitOfWork, key: X25519PublicKey, *, case: Case, people: list[Participant], side: str,
            now: datetime, created_by: str) -> None:
    """When a side has agreed to mediate, everyone else on it with an email address (co-parties,
    representatives, interpreters) gets a sign-in link of their own: it signs them in as
    themselves, scoped to the case and their side. The side's first party came in by filing or
    by the invitation and needs none."""
    first = cases.principal_party(people, side)
    for p in people:
        if p.side != side or p.id == first.id or p.role not in REACHABLE_ROLES or not (p.contact or {}).get("email"):
            continue
        link, _, sealed = new_link(key=key, case_id=case.id, side=side, purpose="sign_in", created_by=created_by,
                                   now=now, expires_at=now + WELCOME_LINK_TTL)
        link.participant_id = p.id
        uow.session.add(link)
        send(uow, key, link=link, sealed_link=sealed, language=p.language, participant=p)


async def email_me_a_link(uow: UnitOfWork, *, request: EmailLinkRequest, personal_vault: personal.Vault,
                          key: X25519PublicKey, now: datetime | None = None) -> EmailLinkAccepted:
    """One sign-in link to every case the address belongs to, sent to that address. Nothing in the
    answer depends on what was found; the newest link of an address is the only live one."""
    now = now or cases.utcnow()
    email_hash = personal_vault.lookup_hash("email", request.email)
    found = await reachable(uow.session, await personal.find(uow, personal_vault, email=request.email))
    if found:
        await uow.session.execute(update(AccessLink).where(
            AccessLink.purpose == "sign_in_address", AccessLink.email_hash == email_hash,
            AccessLink.used_at.is_(None), AccessLink.expires_at > now).values(expires_at=now))
        link, _, sealed = new_link(key=key, case_id="", side="", purpose="sign_in_address", created_by="self-service",
                                   now=now, expires_at=now + ADDRESS_LINK_TTL, email_hash=email_hash)
        uow.session.add(link)
        language = request.language or found[0].language
        send(uow, key, link=link, sealed_link=sealed, language=language, email=request.email.strip())
    await uow.commit()
    return EmailLinkAccepted()


async def address_cases(uow: UnitOfWork, link: AccessLink, tokens: TokenService) -> list[CaseAccess]:
    """The cases an address's link opens, as they are when it is used (a case found since is in)."""
    rows = list((await uow.session.execute(select(Participant).where(Participant.email_hash == link.email_hash)
                                           .order_by(Participant.case_id, Participant.position))).scalars())
    out = []
    for p in await reachable(uow.session, rows):
        out.append(case_access(await cases.load(uow.session, p.case_id), p, tokens))
    out.sort(key=lambda c: c.filed_at, reverse=True)
    return out


def case_access(case: Case, participant: Participant, tokens: TokenService) -> CaseAccess:
    return CaseAccess(case_id=case.id, reference=case.reference, side=participant.side, role=participant.role, status=case.status,
                      category=case.category, jurisdiction=case.jurisdiction, filed_at=case.filed_at,
                      outcome=case.outcome,
                      access_token=cases.participant_token(tokens, participant))
