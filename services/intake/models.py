"""Intake's tables (its own database)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime
from shared.service import platform_tables


class Base(DeclarativeBase):
    pass


outbox, inbox = platform_tables(Base.metadata)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("filed_by", "idempotency_key", name="uq_cases_idempotency"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    court_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    docket_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    filed_by: Mapped[str] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CourtClient(Base):
    """A court's machine client. The secret is stored as an argon2 hash only."""

    __tablename__ = "court_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    court_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
