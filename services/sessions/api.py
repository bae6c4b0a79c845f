"""Sessions routes."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shared.auth import Principal, current_principal
from shared.deps import unit_of_work
from shared.uow import UnitOfWork

from . import service
from .schemas import RoomView

router = APIRouter()


@router.get("/rooms/{case_id}", response_model=RoomView, tags=["rooms"])
async def get_room(case_id: str, principal: Principal = Depends(current_principal),
                   uow: UnitOfWork = Depends(unit_of_work)) -> RoomView:
    return await service.get_room(uow, case_id=case_id, principal=principal)
