"""Notifications' tables (its own database).

Nothing here holds confidential case content: notices are a kind, a status and ids for a link.
Contact details and webhook secrets are sealed with envelope encryption (``shared.crypto``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime
from shared.revocation import revocations_table
from shared.service import platform_tables


class Base(DeclarativeBase):
    pass


outbox, inbox = platform_tables(Base.metadata)
revocations = revocations_table(Base.metadata)


class Notification(Base):
    """One notice for one recipient: the in-app feed item and the parent of its email/SMS
    deliveries. Links and status only, never confidential content."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("source_event_id", "recipient", name="uq_notification_per_event_recipient"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(100), index=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(20))
    source_event_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    language: Mapped[str] = mapped_column(String(2), default="ru")
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    # Ids, statuses and times the template needs (never content); the link is built from them.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Delivery(Base):
    """An email or SMS to send: the outbox of the outside world. One row per (event, recipient,
    channel), so a notice is never queued twice; the worker marks an attempt *before* it talks to
    the provider and sends with a Message-ID derived from this id, so a crash mid-send is retried
    with the same Message-ID and never lost."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("source_event_id", "recipient", "channel", name="uq_delivery_per_event_recipient_channel"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    notification_id: Mapped[str] = mapped_column(String(36), index=True)
    source_event_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    # pending -> sending -> sent | failed | undeliverable
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CaseEntry(Base):
    """What notifications knows about a case: the referring court and the time zone of its deadlines."""

    __tablename__ = "case_directory"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # what people call the case (KZ-2026-000123), from ``CaseFiled``; None for cases filed before it
    reference: Mapped[str | None] = mapped_column(String(30), nullable=True)
    court_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(20), nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Recipient(Base):
    """The local recipient directory, built only from events: who is in a case, in which role,
    on which side and in which language. No names or addresses (contacts are separate)."""

    __tablename__ = "recipients"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(30))
    side: Mapped[str | None] = mapped_column(String(20), nullable=True)
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    # the party a representative, interpreter or support person is with (its participant id)
    acts_for: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Contact(Base):
    """A participant's email and phone, sealed at rest (AES-256-GCM data key wrapped by the KEK),
    with the participant id as associated data so a sealed value cannot be moved to someone else."""

    __tablename__ = "contacts"

    participant_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    email_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    phone_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Preference(Base):
    """A user's choices: channels, language, quiet hours (local times in the case's time zone)."""

    __tablename__ = "preferences"

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    channels: Mapped[list] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    quiet_start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    quiet_end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScheduledJob(Base):
    """A durable reminder: polled by the scheduler, claimed by a conditional update, so it fires
    once even across restarts and replicas. Rescheduling bumps ``generation`` so a moved session
    is reminded again."""

    __tablename__ = "scheduled_jobs"
    __table_args__ = (UniqueConstraint("kind", "case_id", "ref", name="uq_job_kind_case_ref"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    ref: Mapped[str] = mapped_column(String(150))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending | done | cancelled
    generation: Mapped[int] = mapped_column(Integer, default=1)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookEndpoint(Base):
    """A court's webhook endpoint (Standard Webhooks v1)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    court_id: Mapped[str] = mapped_column(String(100), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list] = mapped_column(JSON, default=list)  # empty: every court event
    status: Mapped[str] = mapped_column(String(20))  # active | disabled | deleted
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookSecret(Base):
    """Signing secrets of an endpoint, sealed. During a rotation the old one keeps signing until
    ``expires_at``, so a message carries several ``v1,`` signatures."""

    __tablename__ = "webhook_secrets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(String(40), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookMessage(Base):
    """One event for one endpoint. Its id is the ``webhook-id`` of every attempt, so the court
    can deduplicate retries and manual redeliveries."""

    __tablename__ = "webhook_messages"
    __table_args__ = (UniqueConstraint("source_event_id", "endpoint_id", name="uq_webhook_message_per_event_endpoint"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(String(40), index=True)
    court_id: Mapped[str] = mapped_column(String(100))
    source_event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    # pending -> sending -> delivered | failed (exhausted) | abandoned (endpoint disabled/deleted)
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookAttempt(Base):
    """The delivery log: every attempt, its outcome, status code and timing (no response bodies)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(40), index=True)
    endpoint_id: Mapped[str] = mapped_column(String(40), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(30))  # delivered | http_error | gone | network_error | bad_url | blocked_address
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    trigger: Mapped[str] = mapped_column(String(20), default="automatic")  # automatic | manual


class MailboxMessage(Base):
    """The embedded run's local mailbox (email transport ``mailbox``): what would have been sent."""

    __tablename__ = "mailbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(100), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
