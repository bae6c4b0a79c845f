"""Agreements' tables (its own database).

Confidential content (document versions, comments, PDFs) lives only in
``ciphertext`` columns with the wrapped data key beside it; everything else is identifiers,
statuses, times and hashes, so a dump of this database holds no terms and no names.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.crypto import SealedColumns
from shared.db import UTCDateTime
from shared.revocation import revocations_table
from shared.service import platform_tables


class Base(DeclarativeBase):
    pass


outbox, inbox = platform_tables(Base.metadata)
revocations = revocations_table(Base.metadata)


class CaseRef(Base):
    """The cases agreements knows of and the court that referred each (court API scope)."""

    __tablename__ = "case_refs"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # what people call the case (KZ-2026-000123), from ``CaseFiled``; None for cases filed before it
    reference: Mapped[str | None] = mapped_column(String(30), nullable=True)
    court_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # who referred it (court, prosecutor, investigator) and, in a criminal case, what a
    # reconciliation enables in law ({code, article: {kk, ru, en}}): told to the referring body
    referred_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    legal_effect: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # the parties ([{participant_id, side}]) from ``MediationAgreed``: a signer slot each; None
    # until the agreement to mediate is signed (and for cases from before), one slot per side then
    parties: Mapped[list | None] = mapped_column(JSON, nullable=True)


class Encrypted(SealedColumns):
    """Columns of an envelope-encrypted item (``shared.crypto.SealedColumns``, opened by ``vault.Vault``)."""

    sealed_kek_id_length = 64
    sealed_shreddable = True  # wrapped_key NULL = crypto-shredded
    sealed_version_index = True  # the rewrap finds the rows under old KEK versions


class Agreement(Base):
    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("case_refs.case_id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5))  # kk, ru, en or the bilingual kk-ru
    # draft -> signing -> executed -> shredded (after retention); an edit during signing goes back to draft
    status: Mapped[str] = mapped_column(String(20), index=True)
    current_version: Mapped[int] = mapped_column(Integer)
    requested_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    signers: Mapped[list] = mapped_column(JSON, default=list)  # signer slots: claimant:<participant id>... (or claimant, respondent), mediator
    source_proposals: Mapped[list] = mapped_column(JSON, default=list)  # ids of accepted session proposals
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    court_decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    court_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    court_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default="")


class AgreementVersion(Encrypted, Base):
    """One immutable version of the document (the canonical JSON, encrypted) and its hash."""

    __tablename__ = "agreement_versions"

    agreement_id: Mapped[str] = mapped_column(String(36), ForeignKey("agreements.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Signature(Base):
    """A signature of one signer slot on one exact version (its hash). ``status`` becomes ``void``
    when the document changes and ``withdrawn`` when the signer takes it back."""

    __tablename__ = "signatures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(36), ForeignKey("agreements.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document_hash: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(60))  # claimant, respondent, mediator or claimant:<participant id>
    signer: Mapped[str] = mapped_column(String(200))  # token subject (an id, never a name)
    method: Mapped[str] = mapped_column(String(20))  # platform | qualified
    assurance: Mapped[dict] = mapped_column(JSON)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))  # valid | void | withdrawn
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Comment(Encrypted, Base):
    __tablename__ = "comments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(36), ForeignKey("agreements.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    author_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SealRecord(Base):
    """The platform seal of an executed agreement, and the hash of the PDF issued with it."""

    __tablename__ = "seals"

    agreement_id: Mapped[str] = mapped_column(String(36), ForeignKey("agreements.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    document_hash: Mapped[str] = mapped_column(String(64), index=True)
    seal: Mapped[dict] = mapped_column(JSON)
    pdf_sha256: Mapped[str] = mapped_column(String(64), index=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgreementPdf(Encrypted, Base):
    __tablename__ = "agreement_pdfs"

    agreement_id: Mapped[str] = mapped_column(String(36), ForeignKey("agreements.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class AuditEntry(Base):
    """One link of an agreement's hash chain: ``hash`` = SHA-256 of the canonical entry including
    ``prev_hash``. Ids and actions only, never content."""

    __tablename__ = "audit_entries"

    agreement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """The chain's head at ``seq``, sealed with the platform key: truncating or rewriting the
    chain up to a checkpoint is detectable even by someone who can write the database."""

    __tablename__ = "audit_checkpoints"

    agreement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    seal: Mapped[dict] = mapped_column(JSON)


class Obligation(Base):
    """An obligation of an executed agreement, for fulfilment tracking: its id, sides and due
    date (the terms themselves stay in the encrypted document)."""

    __tablename__ = "obligations"

    agreement_id: Mapped[str] = mapped_column(String(36), ForeignKey("agreements.id"), primary_key=True)
    obligation_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    obligor: Mapped[str] = mapped_column(String(20))
    obligee: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending | overdue | performed
    performed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reported_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AcceptedProposal(Base):
    """A proposal accepted in a session (``odr.proposal.accepted.v1``): the id the mediator can
    pull into a draft. Its content stays with sessions."""

    __tablename__ = "accepted_proposals"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    agreement_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class CourtFeedHead(Base):
    """Per-court counter; incrementing it takes a row lock, so feed positions are handed out in
    commit order and a reader never sees position n+1 before n."""

    __tablename__ = "court_feed_heads"

    court_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class CourtFeedItem(Base):
    __tablename__ = "court_feed"

    court_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[str] = mapped_column(String(36))
    agreement_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    document_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CourtAcknowledgement(Base):
    __tablename__ = "court_acknowledgements"

    agreement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    court_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    acknowledged_by: Mapped[str] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnnexedDocument(Base):
    """A document the mediator attached to the agreement in the room (``odr.document.annexed.v1``):
    its id and the SHA-256 of its bytes. A draft may list it as an annex only with that hash. Its
    name and content stay with sessions."""

    __tablename__ = "annexed_documents"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    annexed_at: Mapped[datetime] = mapped_column(UTCDateTime)
