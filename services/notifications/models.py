"""Notifications' tables (its own database)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime
from shared.service import platform_tables


class Base(DeclarativeBase):
    pass


outbox, inbox = platform_tables(Base.metadata)


class Notification(Base):
    """One notice for one recipient. Links and status only, never confidential content."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("source_event_id", "recipient", name="uq_notification_per_event_recipient"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(100), index=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(20))
    source_event_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
