"""Events published by the intake service (topic ``odr.intake``, key = case id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from ..events import Event, event

TOPIC = "odr.intake"


@event
class CaseFiled(Event):
    """A case was filed by a party or referred by a court. Ids and classification only."""

    type: ClassVar[str] = "odr.case.filed.v1"
    topic: ClassVar[str] = TOPIC
    summary: ClassVar[str] = "A case was filed or referred by a court."

    jurisdiction: str
    category: str
    court_id: str | None = None
    filed_at: datetime
