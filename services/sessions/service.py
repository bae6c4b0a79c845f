"""Sessions use cases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.contracts.intake import CaseFiled
from shared.problems import NotFound
from shared.uow import UnitOfWork

from .models import Room
from .schemas import RoomView

AWAITING = "awaiting_agreement_to_mediate"


async def prepare_room(session: AsyncSession, *, event: CaseFiled) -> None:
    """A filed case gets a room record; it opens only after the agreement to mediate is signed."""
    if await session.get(Room, event.case_id) is None:
        session.add(Room(case_id=event.case_id, status=AWAITING, created_at=event.filed_at))


async def get_room(uow: UnitOfWork, *, case_id: str, principal: Principal) -> RoomView:
    room = await uow.session.get(Room, case_id)
    if room is None or principal.role == "court" or not principal.can_access_case(case_id):
        raise NotFound("the room")
    return RoomView(case_id=room.case_id, status=room.status, created_at=room.created_at)
