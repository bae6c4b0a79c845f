"""What intake publishes (``shared.contracts.intake``) and how it reacts to what it consumes: a
started session moves the case into session, a signed settlement settles it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.agreements import AgreementSigned
from shared.contracts.intake import (AccessLinkSent, AccessRevoked, CaseClosed, CaseFiled, CaseScreened, ConsentRecorded, MediationAgreed,
                                     MediationTermExtended, MediatorAssigned, MediatorProposed, MediatorRecused,
                                     RespondentInvited, ScreeningRequested, SittingCancelled, SittingFixed,
                                     SittingProposed)
from shared.contracts.sessions import SessionStarted
from shared.events import CloudEvent
from shared.service import Subscription
from shared.uow import unit_of_work_of

from . import cases, states
from .models import Case

PUBLISHES = [CaseFiled, RespondentInvited, ConsentRecorded, ScreeningRequested, CaseScreened, MediatorProposed,
             MediatorAssigned, MediatorRecused, MediationAgreed, MediationTermExtended, CaseClosed, AccessRevoked,
             SittingProposed, SittingFixed, SittingCancelled, AccessLinkSent]


async def on_session_started(sink, case_id: str) -> None:
    case = await sink.session.get(Case, case_id)
    if case is not None and states.can(case.status, "session_started") and case.status != "in_session":
        cases.move(sink, case, "session_started", actor="sessions")


async def on_agreement_signed(sink, case_id: str) -> None:
    case = await sink.session.get(Case, case_id)
    if case is not None and states.can(case.status, "settled"):
        await cases.close(sink, case, "settled", "settled", actor="agreements")


async def _session_started(session: AsyncSession, event: SessionStarted, envelope_: CloudEvent) -> None:
    await on_session_started(unit_of_work_of(session), event.case_id)


async def _agreement_signed(session: AsyncSession, event: AgreementSigned, envelope_: CloudEvent) -> None:
    await on_agreement_signed(unit_of_work_of(session), event.case_id)


SUBSCRIPTIONS = [
    Subscription(name="case-progress", handlers={SessionStarted.type: _session_started,
                                                 AgreementSigned.type: _agreement_signed}),
]
