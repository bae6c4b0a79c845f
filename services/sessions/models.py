"""Sessions' tables (its own database)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime
from shared.service import platform_tables


class Base(DeclarativeBase):
    pass


outbox, inbox = platform_tables(Base.metadata)


class Room(Base):
    __tablename__ = "rooms"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
