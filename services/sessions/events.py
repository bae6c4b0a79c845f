"""What sessions consumes (intake's case events) and publishes (session and caucus lifecycle,
accepted proposal ids, annexed document ids and hashes: never content or names).

Besides these CloudEvents, the service's replicas share room items over the internal
``odr.sessions.fanout`` topic (see ``hub.py``); those records are sealed and are not events.
"""

from __future__ import annotations

from shared.contracts.intake import CaseClosed, CaseFiled, CaseScreened, MediationAgreed, MediatorRecused
from shared.contracts.sessions import (CaucusClosed, CaucusOpened, DocumentAnnexed, ProposalAccepted, SessionEnded,
                                       SessionScheduled, SessionStarted)
from shared.service import Subscription

from . import service


async def on_case_filed(session, event: CaseFiled, _envelope) -> None:
    await service.prepare_room(session, event=event)


async def on_case_screened(session, event: CaseScreened, _envelope) -> None:
    await service.record_screening(session, event=event)


async def on_mediation_agreed(session, event: MediationAgreed, _envelope) -> None:
    await service.open_room(session, event=event)


async def on_case_closed(session, event: CaseClosed, _envelope) -> None:
    await service.close_room(session, event=event)


async def on_mediator_recused(session, event: MediatorRecused, _envelope) -> None:
    await service.remove_mediator(session, event=event)


PUBLISHES = [SessionScheduled, SessionStarted, SessionEnded, CaucusOpened, CaucusClosed, ProposalAccepted,
             DocumentAnnexed]
SUBSCRIPTIONS = [Subscription(name="case-events", handlers={
    CaseFiled.type: on_case_filed,
    CaseScreened.type: on_case_screened,
    MediationAgreed.type: on_mediation_agreed,
    CaseClosed.type: on_case_closed,
    MediatorRecused.type: on_mediator_recused,
})]
