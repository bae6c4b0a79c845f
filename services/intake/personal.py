"""Personal data sealed at rest: who the participants are (names, IIN/BIN, organisation, contact
details, group members, accessibility) and what a case is about (its description).

Each participant's details and each case's description is one value sealed with the platform's
envelope encryption (``shared.crypto.Vault``, KEK ``intake-personal``), bound by associated data
to its case and row, so a database dump, a backup or a copied SQLite file shows no name, number,
address or story. Where a value must be found (an IIN/BIN, an email) the row keeps a keyed hash
(HMAC-SHA256 under ``intake-lookup`` from the same key provider): equal inputs give equal hashes,
but without the key nobody can test a guess against the column, as they could with a bare hash
of the few million possible IINs.

When a closed case's retention period ends (the rule set's ``retention_days``), its personal data
and screening answers are crypto-shredded: the wrapped data keys and the lookup hashes are
erased, so what remains can never be opened or found again, while ids, statuses and the audit
trail stay. Events and API responses keep their shapes: readers entitled to a case get the values
opened; after a shred they read as absent.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import or_, select, update

from shared import crypto
from shared.crypto import Envelope, KeyProvider, aad
from shared.problems import Problem
from shared.uow import UnitOfWork

from . import eligibility, states
from .models import Case, Participant, Screening
from .schemas import Input

KEK_ID = "intake-personal"
LOOKUP_KEY_ID = "intake-lookup"
KEYS = (KEK_ID, LOOKUP_KEY_ID)


@dataclass(frozen=True)
class PersonalDetails:
    """What is sealed of one participant."""

    name: str | None = None
    id_number: str | None = None
    organisation: str | None = None
    contact: dict = field(default_factory=dict)
    members: list = field(default_factory=list)
    accessibility: dict = field(default_factory=dict)


SHREDDED = PersonalDetails()


class Vault(crypto.Vault):
    """The personal-data KEK's vault (``shared.crypto.Vault``), and the keyed hashes for lookups."""

    def __init__(self, provider: KeyProvider) -> None:
        super().__init__(Envelope(provider, KEK_ID))

    def lookup_hash(self, kind: str, value: str | None) -> str | None:
        """The keyed hash a lookup column holds: of the normalised value (case, spaces and Unicode
        form do not matter), separated by ``kind`` so an IIN never matches an email."""
        if value is None or not value.strip():
            return None
        normalised = unicodedata.normalize("NFKC", value).strip().casefold()
        return self.provider.hmac(LOOKUP_KEY_ID, aad(kind, normalised)).hex()


def participant_aad(case_id: str, participant_id: str) -> bytes:
    return aad("participant", case_id, participant_id)


def description_aad(case_id: str) -> bytes:
    return aad("case", case_id, "description")


# -- writing -------------------------------------------------------------------------------------


def seal(vault: Vault, participant: Participant, details: PersonalDetails) -> None:
    """Seal ``details`` onto the row (and keep them opened on it for the rest of the request)."""
    participant.sealed = vault.seal(json.dumps(asdict(details)).encode(),
                                    aad=participant_aad(participant.case_id, participant.id))
    participant.id_number_hash = vault.lookup_hash("id_number", details.id_number)
    participant.email_hash = vault.lookup_hash("email", (details.contact or {}).get("email"))
    participant.details = details


def seal_description(vault: Vault, case: Case, description: str) -> None:
    case.sealed = vault.seal(description.encode(), aad=description_aad(case.id))


# -- reading -------------------------------------------------------------------------------------


def open_people(vault: Vault, people: list[Participant]) -> list[Participant]:
    """Open each participant's details onto the row (``row.name``...); a shredded row reads as
    absent (no name, no number, no contact)."""
    for p in people:
        if "_details" not in p.__dict__:
            p.details = (SHREDDED if p.wrapped_key is None else
                         PersonalDetails(**json.loads(vault.open(p, aad=participant_aad(p.case_id, p.id)))))
    return people


def open_description(vault: Vault, case: Case) -> str | None:
    if case.wrapped_key is None:
        return None
    return vault.open(case, aad=description_aad(case.id)).decode()


class Lookup(Input):
    """Who to look for: an IIN/BIN (or another identifier) and/or an email address."""

    id_number: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    email: str | None = Field(None, max_length=254)


class ParticipantMatch(BaseModel):
    case_id: str
    participant_id: str
    side: str
    role: str


async def lookup(uow: UnitOfWork, *, query: Lookup, personal_vault: Vault) -> list[ParticipantMatch]:
    """The cases a person takes part in, found by IIN/BIN or email (conflict-of-interest and
    duplicate-filing checks): ids only, no personal data in the answer."""
    if not (query.id_number or query.email):
        raise Problem(422, "lookup-empty", "give an id_number or an email")
    found = await find(uow, personal_vault, id_number=query.id_number, email=query.email)
    return [ParticipantMatch(case_id=p.case_id, participant_id=p.id, side=p.side, role=p.role) for p in found]


async def find(uow: UnitOfWork, vault: Vault, *, id_number: str | None = None,
               email: str | None = None) -> list[Participant]:
    """Participants with this IIN/BIN or email, found by their keyed hashes (never by a scan that
    opens every row); shredded cases are no longer found."""
    conditions = []
    if (h := vault.lookup_hash("id_number", id_number)) is not None:
        conditions.append(Participant.id_number_hash == h)
    if (h := vault.lookup_hash("email", email)) is not None:
        conditions.append(Participant.email_hash == h)
    if not conditions:
        return []
    rows = (await uow.session.execute(select(Participant).where(or_(*conditions))
                                      .order_by(Participant.case_id, Participant.position))).scalars().all()
    return list(rows)


# -- retention -----------------------------------------------------------------------------------


async def shred(uow: UnitOfWork, case: Case, *, now: datetime) -> None:
    """Crypto-shred a case's personal data and screening answers: erase the wrapped data keys and
    the lookup hashes. Backups taken before still hold the wrapped keys; they become unreadable
    once the KEK versions that wrapped them are destroyed after a rotation and rewrap."""
    session = uow.session
    await session.execute(update(Participant).where(Participant.case_id == case.id)
                          .values(wrapped_key=None, id_number_hash=None, email_hash=None)
                          .execution_options(synchronize_session=False))
    await session.execute(update(Screening).where(Screening.case_id == case.id).values(wrapped_key=None)
                          .execution_options(synchronize_session=False))
    case.wrapped_key, case.shredded_at = None, now
    for p in session.identity_map.values():  # rows already loaded in this session read as shredded too
        if isinstance(p, Participant) and p.case_id == case.id:
            p.__dict__.pop("_details", None)


async def shred_expired(uow: UnitOfWork, *, now: datetime, batch: int = 200) -> int:
    """Shred the closed cases whose rule set's retention period has ended since they closed (a
    closed case changes no more, so its ``updated_at`` is when it closed)."""
    waiting = (Case.status.in_(sorted(states.TERMINAL)), Case.shredded_at.is_(None), Case.updated_at.is_not(None))
    refs = (await uow.session.execute(select(Case.rule_set).where(*waiting).distinct())).scalars().all()
    shredded = 0
    for ref in (r for r in refs if r):
        cutoff = now - timedelta(days=eligibility.by_ref(ref).retention_days)
        rows = (await uow.session.execute(select(Case).where(*waiting, Case.rule_set == ref, Case.updated_at <= cutoff)
                                          .limit(batch))).scalars().all()
        for case in rows:
            await shred(uow, case, now=now)
        shredded += len(rows)
    await uow.commit()
    return shredded
