"""Sessions' request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class SessionView(BaseModel):
    id: str
    status: str
    starts_at: datetime | None = None
    started_at: datetime | None = None


class RoomView(BaseModel):
    case_id: str
    status: str
    created_at: datetime
    mode: str | None = None
    session: SessionView | None = None
    websocket: str | None = None


class ScheduleSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime


class ProposalView(BaseModel):
    id: str
    case_id: str
    session_id: str
    status: str
    summary: str
    terms: list[str]
    accepted_at: datetime | None = None


class BalanceView(BaseModel):
    session_id: str
    by_side: dict[str, dict[str, Any]]
    shares: dict[str, dict[str, Any]]


class IceServer(BaseModel):
    """One entry of RTCConfiguration.iceServers."""
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServers(BaseModel):
    """What a room member's browser passes to RTCPeerConnection; ask again before ``expires_in``."""
    ice_servers: list[IceServer]
    ice_transport_policy: str
    expires_in: int


class DocumentView(BaseModel):
    """A document shared in the room, as one participant may see it. ``available`` is false when
    its content was destroyed with the session's transcript (name, type, size and hash too)."""

    id: str
    uploader_id: str
    channel: str
    shared_in: list[str]
    created_at: datetime
    annexed: bool
    available: bool
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None


class DocumentList(BaseModel):
    items: list[DocumentView]
