"""Agreements' tables (its own database)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime
from shared.service import platform_tables


class Base(DeclarativeBase):
    pass


outbox, inbox = platform_tables(Base.metadata)


class CaseRef(Base):
    """The cases agreements knows of and the court that referred each (court API scope)."""

    __tablename__ = "case_refs"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    court_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
