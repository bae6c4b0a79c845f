"""What intake publishes (``shared.contracts.intake``) and consumes: a started session moves the
case into session, a signed settlement settles it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.agreements import AgreementSigned
from shared.contracts.intake import (CaseClosed, CaseFiled, CaseScreened, ConsentRecorded, MediationAgreed,
                                     MediationTermExtended, MediatorAssigned, MediatorProposed, MediatorRecused,
                                     RespondentInvited, ScreeningRequested)
from shared.contracts.sessions import SessionStarted
from shared.events import CloudEvent
from shared.service import Subscription
from shared.uow import unit_of_work_of

from . import service

PUBLISHES = [CaseFiled, RespondentInvited, ConsentRecorded, ScreeningRequested, CaseScreened, MediatorProposed,
             MediatorAssigned, MediatorRecused, MediationAgreed, MediationTermExtended, CaseClosed]


async def _session_started(session: AsyncSession, event: SessionStarted, envelope_: CloudEvent) -> None:
    await service.on_session_started(unit_of_work_of(session), event.case_id)


async def _agreement_signed(session: AsyncSession, event: AgreementSigned, envelope_: CloudEvent) -> None:
    await service.on_agreement_signed(unit_of_work_of(session), event.case_id)


SUBSCRIPTIONS = [
    Subscription(name="case-progress", handlers={SessionStarted.type: _session_started,
                                                 AgreementSigned.type: _agreement_signed}),
]
