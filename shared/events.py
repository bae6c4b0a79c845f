"""Domain events: pydantic models in one registry, carried in CloudEvents 1.0 envelopes.

Events carry identifiers and status only, never confidential content (caucus text, screening
answers, agreement terms, names). Each event class names its CloudEvents ``type`` and the topic it
travels on; the topic is per publishing service, and the key is the case id, so every consumer sees
one case's events in the order they were committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .clock import utcnow

SPECVERSION = "1.0"


class Event(BaseModel):
    """Base of every event payload. ``case_id`` becomes the CloudEvents ``subject`` and the bus key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ClassVar[str]
    topic: ClassVar[str]
    summary: ClassVar[str] = ""

    case_id: str


class CloudEvent(BaseModel):
    """Structured-mode CloudEvents 1.0 envelope (JSON), with a correlation id extension."""

    model_config = ConfigDict(extra="allow")

    specversion: str = SPECVERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = "application/json"
    correlationid: str | None = None
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "CloudEvent":
        return cls.model_validate_json(raw)


E = TypeVar("E", bound=type[Event])


class EventRegistry:
    """Every event type the platform knows, by CloudEvents type. The AsyncAPI document is built
    from here, so the published contract cannot drift from the code."""

    def __init__(self) -> None:
        self._by_type: dict[str, type[Event]] = {}

    def register(self, cls: E) -> E:
        existing = self._by_type.get(cls.type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.type} registered twice")
        self._by_type[cls.type] = cls
        return cls

    def get(self, event_type: str) -> type[Event] | None:
        return self._by_type.get(event_type)

    def all(self) -> list[type[Event]]:
        return sorted(self._by_type.values(), key=lambda c: c.type)

    def topics(self) -> list[str]:
        return sorted({c.topic for c in self._by_type.values()})


registry = EventRegistry()


def event(cls: E) -> E:
    """Class decorator: add an event model to the platform registry."""
    return registry.register(cls)


def envelope(evt: Event, *, source: str, correlation_id: str | None = None) -> CloudEvent:
    return CloudEvent(
        source=source,
        type=evt.type,
        subject=evt.case_id,
        correlationid=correlation_id,
        data=evt.model_dump(mode="json"),
    )


def decode(cloud_event: CloudEvent) -> Event | None:
    """The typed payload of an envelope, or None for a type this process does not know."""
    cls = registry.get(cloud_event.type)
    if cls is None:
        return None
    return cls.model_validate(cloud_event.data)
