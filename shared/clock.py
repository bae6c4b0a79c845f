"""The platform's clock: times are aware and in UTC everywhere (shown in a case's time zone only
when rendered)."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
