"""Sessions' tables (its own database).

``room_sessions.version`` is the room's sequencer: every batch of frames for a session starts with
``UPDATE room_sessions SET version = version + 1 ... RETURNING state``, which takes the row's write
lock on PostgreSQL and SQLite alike, so replicas of the service assign channel sequence numbers
one after another and never twice. Message bodies are stored sealed with the session's data key;
``wrapped_key`` is that key wrapped by the KEK and is set to NULL when the session ends without
every party's consent to keep the transcript (crypto-shredding).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.crypto import SealedColumns
from shared.db import UTCDateTime
from shared.revocation import revocations_table
from shared.service import platform_tables


class Base(DeclarativeBase):
    pass


outbox, inbox = platform_tables(Base.metadata)
revocations = revocations_table(Base.metadata)


class Room(Base):
    __tablename__ = "rooms"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mediator_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    participants: Mapped[list | None] = mapped_column(JSON, nullable=True)
    safeguards: Mapped[list | None] = mapped_column(JSON, nullable=True)
    term_ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    current_session_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class RoomSession(Base):
    __tablename__ = "room_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20))  # scheduled | live | ended
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    state: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    kek_id: Mapped[str] = mapped_column(String(100))
    kek_version: Mapped[int] = mapped_column(Integer)
    transcript_kept: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionMessage(Base):
    """A sequenced item of a channel. ``audience``: who was in the channel when it was said."""

    __tablename__ = "session_messages"
    __table_args__ = (
        UniqueConstraint("session_id", "sender_id", "client_id", name="uq_session_messages_client_id"),
    )

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    sender_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audience: Mapped[str] = mapped_column(Text)  # JSON list of participant ids
    body: Mapped[bytes] = mapped_column(LargeBinary)  # nonce + AES-GCM(frame JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Proposal(SealedColumns, Base):
    """A structured proposal, sealed by envelope encryption of its own (it outlives the session
    transcript when accepted, to seed the agreement draft)."""

    sealed_kek_id_length = 100

    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    session_id: Mapped[str] = mapped_column(String(36))
    author_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # open | accepted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BlindOfferProcess(SealedColumns, Base):
    """A blind-offer process for a money term (``offers.py``). The columns hold only what the
    people in the room may know about it; every offer and the figure are in the sealed value
    (envelope encryption under the sessions KEK, bound to case and process), kept as the record of
    the rounds after the session's transcript key is gone."""

    sealed_kek_id_length = 100

    __tablename__ = "blind_offer_processes"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_blind_offer_processes_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the case: the latest is the current one
    session_id: Mapped[str] = mapped_column(String(36))  # where it was proposed
    status: Mapped[str] = mapped_column(String(20))  # proposed | open | crossed | settled | exhausted | cancelled
    currency: Mapped[str] = mapped_column(String(3))
    rule: Mapped[str] = mapped_column(String(20))
    band_percent: Mapped[int] = mapped_column(Integer)
    max_rounds: Mapped[int] = mapped_column(Integer)
    proposed_by: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(Integer, default=0)
    agreed: Mapped[list] = mapped_column(JSON)
    confirmed: Mapped[list] = mapped_column(JSON)
    offered: Mapped[list] = mapped_column(JSON)  # sides that offered in the current round
    proposal_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Document(Base):
    """A document shared in a room. Its bytes are in the blob store (``storage``), sealed as a
    stream under the document's own data key; ``meta`` (name, sniffed type, size, SHA-256) is
    sealed under the same key. That key is kept only wrapped: by the data key of the session it
    was shared in (``wrapped_key``), so destroying the transcript's key destroys the document with
    it, and, once the mediator attaches it to the agreement as an annex, by the sessions KEK too
    (``annex_wrapped_key``), so an annex outlives the transcript like an accepted proposal.
    Who may read it is not stored here: it is the audience of the room's ``document`` items that
    announced it (``session_messages``; see ``documents``)."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    session_id: Mapped[str] = mapped_column(String(36))
    uploader_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(40))
    meta: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    annex_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    annex_kek_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    annexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

