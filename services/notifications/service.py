"""Notifications use cases."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.contracts.intake import CaseFiled
from shared.events import CloudEvent
from shared.uow import UnitOfWork

from .models import Notification
from .schemas import Feed, NotificationView


async def notify_case_filed(session: AsyncSession, *, event: CaseFiled, envelope: CloudEvent) -> None:
    """The filing party learns the case was received."""
    session.add(Notification(id=str(uuid.uuid4()), recipient=f"claimant:{event.case_id}", case_id=event.case_id,
                             kind="case_filed", channel="in_app", source_event_id=envelope.id,
                             created_at=datetime.now(timezone.utc)))


async def feed(uow: UnitOfWork, *, principal: Principal, limit: int = 50) -> Feed:
    rows = (await uow.session.execute(
        select(Notification).where(Notification.recipient == principal.subject)
        .order_by(Notification.created_at.desc()).limit(limit)
    )).scalars()
    return Feed(items=[NotificationView(id=n.id, case_id=n.case_id, kind=n.kind, channel=n.channel,
                                        created_at=n.created_at) for n in rows])
