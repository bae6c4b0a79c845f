"""What notifications consumes (every event that reaches a person) and publishes (nothing yet)."""

from __future__ import annotations

from shared.contracts.intake import CaseFiled
from shared.service import Subscription

from . import service


async def on_case_filed(session, event: CaseFiled, envelope) -> None:
    await service.notify_case_filed(session, event=event, envelope=envelope)


PUBLISHES: list = []
SUBSCRIPTIONS = [Subscription(name="case-events", handlers={CaseFiled.type: on_case_filed})]
