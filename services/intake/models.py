"""Intake's tables (its own database).

Names, national ids, contact details, descriptions and screening answers live only here, all
sealed at rest (``shared.crypto.SealedColumns``, opened by ``personal`` and ``screening``); an
IIN/BIN or email is findable only through its keyed hash (``personal.lookup``).
Consents, eligibility decisions and state transitions are append-only records: the code never
updates or deletes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.crypto import SealedColumns
from shared.db import UTCDateTime
from shared.revocation import revocations_table
from shared.ratelimit import rate_limit_table
from shared.service import platform_tables

if TYPE_CHECKING:
    from .personal import PersonalDetails


class Base(DeclarativeBase):
    pass


outbox, inbox = platform_tables(Base.metadata)
revocations = revocations_table(Base.metadata)
rate_limits = rate_limit_table(Base.metadata)  # sign-in, code and link attempts (``shared.ratelimit``)


class IntakeSealed(SealedColumns):
    """The sealed columns of intake's tables (``shared.crypto.SealedColumns``)."""

    sealed_kek_id_length = 60


class PersonalSealed(IntakeSealed):
    """Personal data: crypto-shredded with its case when the retention period ends (the wrapped key
    is erased, ``personal.shred``), so ``wrapped_key`` may be NULL."""

    sealed_shreddable = True


class Case(PersonalSealed, Base):
    """A case; its description is the sealed value (``personal.open_description``)."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("filed_by", "idempotency_key", name="uq_cases_idempotency"),
                      UniqueConstraint("reference", name="uq_cases_reference"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # what people call the case (KZ-2026-000123, ``references``); the id stays internal
    reference: Mapped[str | None] = mapped_column(String(30), nullable=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40))
    court_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    docket_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # a referral: the kind of body (court, prosecutor, investigator) and, in a criminal case, its number
    referred_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    criminal_case_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    filed_by: Mapped[str] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # what the eligibility rules see (no names, no description) and what they decided
    language: Mapped[str] = mapped_column(String(2), default="ru")
    facts: Mapped[dict] = mapped_column(JSON, default=dict)
    rule_set: Mapped[str | None] = mapped_column(String(40), nullable=True)
    eligibility: Mapped[str | None] = mapped_column(String(20), nullable=True)
    rules_fired: Mapped[list] = mapped_column(JSON, default=list)
    # what a reconciliation enables in law ({code, article: {kk, ru, en}}), from the deciding rule
    legal_effect: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    amount: Mapped[str | None] = mapped_column(String(40), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    safety: Mapped[str | None] = mapped_column(String(30), nullable=True)
    safeguards: Mapped[list] = mapped_column(JSON, default=list)
    mediator_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    term_starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    term_ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # when the retention period ended and the personal data was crypto-shredded
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CaseReferenceCounter(Base):
    """The last reference number handed out per jurisdiction and filing year; incrementing it takes
    the row's lock, so concurrent filings get consecutive numbers, none twice (``references``)."""

    __tablename__ = "case_reference_counters"

    jurisdiction: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Participant(PersonalSealed, Base):
    """A party (natural person, legal entity, group or state body) or someone acting with a party:
    representative, interpreter, support person.

    Who they are (name, IIN/BIN, organisation, contact, group members, accessibility) is one sealed
    value bound to the case and participant; ``personal.open_people`` puts it on the row as ``details``
    (read through ``name``, ``id_number``...) for the code that shows or compares it. The keyed
    hashes of the IIN/BIN and email let a lookup find the row without either in the clear."""

    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    side: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    # criminal cases: victim, suspect or accused (parties); legal_representative (a representative by law)
    procedural_role: Mapped[str | None] = mapped_column(String(30), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    represents_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    legal_capacity: Mapped[str] = mapped_column(String(20), default="full")
    language: Mapped[str] = mapped_column(String(2), default="ru")
    position: Mapped[int] = mapped_column(Integer, default=0)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)

    @property
    def details(self) -> "PersonalDetails":
        details = self.__dict__.get("_details")
        if details is None:
            raise RuntimeError("this participant's personal data was not opened (services.intake.personal.open_people)")
        return details

    @details.setter
    def details(self, value: "PersonalDetails") -> None:
        self.__dict__["_details"] = value

    name = property(lambda self: self.details.name)
    id_number = property(lambda self: self.details.id_number)
    organisation = property(lambda self: self.details.organisation)
    contact = property(lambda self: self.details.contact)
    members = property(lambda self: self.details.members)
    accessibility = property(lambda self: self.details.accessibility)


class AccessLink(Base):
    """A one-time, expiring link (invitation or sign-in). Only the SHA-256 of its token is kept."""

    __tablename__ = "access_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    side: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # An address's sign-in link (purpose ``sign_in_address``, no case or side of its own): the keyed
    # hash of the email (``personal.Vault.lookup_hash``) whose cases it opens when it is used.
    email_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # An invitation's token sealed for notifications (``shared.courier``), kept so that "send it
    # for me" can have it delivered later; intake itself cannot open it.
    sealed_link: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A link of one's own (``reach.welcome``): the participant it signs in (a co-party, a
    # representative, an interpreter); none for a link that signs in the side's first party.
    participant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Consent(Base):
    """Who consented (or declined), when, to which text version. Written once, never changed. One
    per party (``participant_id``: the party, also when its representative answered for it); a
    side has agreed to mediate when every party on it has."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("case_id", "participant_id", name="uq_consents_case_participant"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    side: Mapped[str] = mapped_column(String(20))
    participant_id: Mapped[str] = mapped_column(String(36))
    decision: Mapped[str] = mapped_column(String(20))
    text_version: Mapped[str] = mapped_column(String(60))
    via: Mapped[str] = mapped_column(String(30))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EligibilityDecision(Base):
    __tablename__ = "eligibility_decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    rule_set: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))
    rules_fired: Mapped[list] = mapped_column(JSON)
    decided_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Screening(PersonalSealed, Base):
    """One party's safety screening: outcome in the clear, answers sealed (AES-256-GCM envelope).
    One per party (each co-party answers for itself)."""

    __tablename__ = "screenings"
    __table_args__ = (UniqueConstraint("case_id", "participant_id", name="uq_screenings_case_participant"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    side: Mapped[str] = mapped_column(String(20))
    participant_id: Mapped[str] = mapped_column(String(36))
    # who answered for the party: "party" itself, or its "representative" (not a natural person's)
    answered_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    safety: Mapped[str] = mapped_column(String(30))
    safeguards: Mapped[list] = mapped_column(JSON)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Account(Base):
    """A mediator's or administrator's login; the password is kept as an argon2 hash only."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # tokens issued before this are not refreshed (``accounts.refresh``) and were revoked
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TotpFactor(IntakeSealed, Base):
    """A staff account's second factor (RFC 6238). The shared secret is sealed like screening
    answers; ``last_step`` refuses a code that was already used (replay)."""

    __tablename__ = "totp_factors"

    account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)


class RecoveryCode(Base):
    """A single-use code that stands in for the authenticator app when it is lost. Shown once;
    only its SHA-256 is kept (a code carries 80 random bits, so a fast hash suffices)."""

    __tablename__ = "recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Mediator(Base):
    """A register entry. ``id`` is also the mediator's account id and token subject."""

    __tablename__ = "mediators"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    register_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    registry_name: Mapped[str | None] = mapped_column("registry", String(200), nullable=True)
    training: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    languages: Mapped[list] = mapped_column(JSON)
    specialisations: Mapped[list] = mapped_column(JSON)
    jurisdictions: Mapped[list] = mapped_column(JSON)
    capacity: Mapped[int] = mapped_column(Integer)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    relations: Mapped[list] = mapped_column(JSON, default=list)
    organisations: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MediatorProposal(Base):
    """A mediator proposed for a case: both sides must accept, then the mediator accepts with an
    impartiality declaration (or declines)."""

    __tablename__ = "mediator_proposals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    mediator_id: Mapped[str] = mapped_column(String(40), index=True)
    proposed_by: Mapped[str] = mapped_column(String(100))
    claimant_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    respondent_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # open, accepted, rejected, declined, recused
    impartiality_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    declaration_text: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgreementSignature(Base):
    """A signature of the agreement to mediate, for one mediator assignment."""

    __tablename__ = "agreement_signatures"
    __table_args__ = (UniqueConstraint("case_id", "mediator_id", "signer", name="uq_signature_once"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    mediator_id: Mapped[str] = mapped_column(String(40))
    # the slot signed: "<side>:<party's participant id>" (a representative signs its party's) or "mediator"
    signer: Mapped[str] = mapped_column(String(60))
    signer_id: Mapped[str] = mapped_column(String(100))
    text_version: Mapped[str] = mapped_column(String(60))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TermExtension(Base):
    __tablename__ = "term_extensions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(2000))
    term_ends_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseTransition(Base):
    """The audit trail: every status change, why and by whom."""

    __tablename__ = "case_transitions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    from_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_status: Mapped[str] = mapped_column(String(40))
    operation: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CourtClient(Base):
    """A referring body's machine client: a court's or, for criminal cases, a prosecutor's office's
    or an investigator's (``kind``); ``court_id`` names the body. The secret is stored as an argon2
    hash only."""

    __tablename__ = "court_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    court_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="court", server_default="court")
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # tokens issued before this are not refreshed (``accounts.refresh``) and were revoked
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Sitting(Base):
    """A sitting of the mediation: proposed by the mediator as one or several slots, then fixed at
    one of them (``starts_at``), perhaps moved, perhaps cancelled. ``sequence`` counts the changes
    after it was fixed: the calendar invitation's SEQUENCE (RFC 5545), so a calendar replaces the
    old time instead of adding a second event."""

    __tablename__ = "sittings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20))  # proposed, fixed, cancelled
    duration_minutes: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    proposed_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SittingSlot(Base):
    """One time the mediator proposed for a sitting."""

    __tablename__ = "sitting_slots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sitting_id: Mapped[str] = mapped_column(String(36), index=True)
    position: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SittingAnswer(Base):
    """A side's availability for one slot (the latest answer counts)."""

    __tablename__ = "sitting_answers"
    __table_args__ = (UniqueConstraint("slot_id", "side", name="uq_sitting_answer_slot_side"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sitting_id: Mapped[str] = mapped_column(String(36), index=True)
    slot_id: Mapped[str] = mapped_column(String(36))
    side: Mapped[str] = mapped_column(String(20))
    availability: Mapped[str] = mapped_column(String(20))  # available, unavailable
    answered_by: Mapped[str] = mapped_column(String(100))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnavailableDate(Base):
    """A date (in the case's time zone) a side said it cannot attend (HMCTS's "unavailable dates")."""

    __tablename__ = "unavailable_dates"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    side: Mapped[str] = mapped_column(String(20), primary_key=True)
    on: Mapped[date] = mapped_column(Date, primary_key=True)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
