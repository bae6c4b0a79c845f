"""What intake publishes (``shared.contracts.intake``) and consumes: a started session moves the
case into session, a signed settlement settles it."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.agreements import AgreementSigned
from shared.contracts.intake import (CaseClosed, CaseFiled, CaseScreened, ConsentRecorded, MediationAgreed,
                                     MediationTermExtended, MediatorAssigned, MediatorProposed, MediatorRecused,
                                     RespondentInvited, ScreeningRequested)
from shared.contracts.sessions import SessionStarted
from shared.events import CloudEvent, Event, envelope
from shared.observability import current_correlation_id
from shared.service import Subscription
from shared.uow import type_topic

from . import service
from .models import outbox

PUBLISHES = [CaseFiled, RespondentInvited, ConsentRecorded, ScreeningRequested, CaseScreened, MediatorProposed,
             MediatorAssigned, MediatorRecused, MediationAgreed, MediationTermExtended, CaseClosed]
SOURCE = "/odr/intake"


class HandlerSink:
    """A handler has only the consumer's session; events it causes (e.g. ``CaseClosed`` after a
    settlement) go to the outbox through that same session, so they commit with the inbox record."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.pending: list[CloudEvent] = []

    def publish(self, evt: Event) -> CloudEvent:
        ce = envelope(evt, source=SOURCE, correlation_id=current_correlation_id())
        self.pending.append(ce)
        return ce

    async def flush(self) -> None:
        if self.pending:
            now = datetime.now(timezone.utc)
            await self.session.execute(outbox.insert(), [
                {"event_id": ce.id, "topic": type_topic(ce.type), "key": ce.subject, "type": ce.type,
                 "payload": ce.to_bytes(), "created_at": now} for ce in self.pending])
            self.pending.clear()


async def _session_started(session: AsyncSession, event: SessionStarted, envelope_: CloudEvent) -> None:
    sink = HandlerSink(session)
    await service.on_session_started(sink, event.case_id)
    await sink.flush()


async def _agreement_signed(session: AsyncSession, event: AgreementSigned, envelope_: CloudEvent) -> None:
    sink = HandlerSink(session)
    await service.on_agreement_signed(sink, event.case_id)
    await sink.flush()


SUBSCRIPTIONS = [
    Subscription(name="case-progress", handlers={SessionStarted.type: _session_started,
                                                 AgreementSigned.type: _agreement_signed}),
]
