"""Notifications routes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from shared.auth import Principal, current_principal
from shared.deps import unit_of_work
from shared.uow import UnitOfWork

from . import service
from .schemas import Feed

router = APIRouter()


@router.get("/feed", response_model=Feed, tags=["in-app"])
async def feed(limit: int = Query(50, ge=1, le=200), principal: Principal = Depends(current_principal),
               uow: UnitOfWork = Depends(unit_of_work)) -> Feed:
    """The caller's in-app notifications, newest first."""
    return await service.feed(uow, principal=principal, limit=limit)
