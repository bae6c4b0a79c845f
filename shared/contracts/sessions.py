"""Events published by the sessions service (topic ``odr.sessions``, key = case id).

No message content ever: no chat, no proposal text, no caucus anything beyond that it opened."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from ..events import Event, event

TOPIC = "odr.sessions"


class _SessionsEvent(Event):
    topic: ClassVar[str] = TOPIC


@event
class SessionScheduled(_SessionsEvent):
    type: ClassVar[str] = "odr.session.scheduled.v1"
    summary: ClassVar[str] = "A session was scheduled."

    session_id: str
    starts_at: datetime


@event
class SessionStarted(_SessionsEvent):
    type: ClassVar[str] = "odr.session.started.v1"
    summary: ClassVar[str] = "A session started."

    session_id: str


@event
class SessionEnded(_SessionsEvent):
    type: ClassVar[str] = "odr.session.ended.v1"
    summary: ClassVar[str] = "A session ended; transcripts kept only if every party consented."

    session_id: str
    transcript_kept: bool = False


@event
class CaucusOpened(_SessionsEvent):
    type: ClassVar[str] = "odr.caucus.opened.v1"
    summary: ClassVar[str] = "The mediator opened a private caucus with one side."

    session_id: str
    side: Literal["claimant", "respondent"]


@event
class CaucusClosed(_SessionsEvent):
    type: ClassVar[str] = "odr.caucus.closed.v1"
    summary: ClassVar[str] = "A private caucus was closed."

    session_id: str
    side: Literal["claimant", "respondent"]


@event
class ProposalAccepted(_SessionsEvent):
    """A structured proposal was accepted in the joint channel; agreements fetches its content
    from the sessions API to seed a draft."""

    type: ClassVar[str] = "odr.proposal.accepted.v1"
    summary: ClassVar[str] = "A proposal was accepted by both sides (id only; content via the sessions API)."

    session_id: str
    proposal_id: str


@event
class DocumentAnnexed(_SessionsEvent):
    """The mediator attached a document shared in the joint channel to the agreement. Its id and
    the SHA-256 of its bytes (which the agreement will list) only, never its name or content: the
    agreements service accepts an annex in a draft only when it matches one of these."""

    type: ClassVar[str] = "odr.document.annexed.v1"
    summary: ClassVar[str] = "A document was attached to the agreement as an annex (id and SHA-256 only)."

    session_id: str
    document_id: str
    sha256: str
