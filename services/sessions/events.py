"""What sessions consumes (intake's case events) and publishes (nothing yet)."""

from __future__ import annotations

from shared.contracts.intake import CaseFiled
from shared.service import Subscription

from . import service


async def on_case_filed(session, event: CaseFiled, _envelope) -> None:
    await service.prepare_room(session, event=event)


PUBLISHES: list = []
SUBSCRIPTIONS = [Subscription(name="case-events", handlers={CaseFiled.type: on_case_filed})]
