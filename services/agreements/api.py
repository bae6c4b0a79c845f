"""Agreements routes, including the versioned court API."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shared.auth import Principal, require_roles
from shared.deps import unit_of_work
from shared.uow import UnitOfWork

from . import service
from .schemas import CourtCaseList

router = APIRouter()


@router.get("/court/v1/cases", response_model=CourtCaseList, tags=["court"])
async def court_cases(principal: Principal = Depends(require_roles("court")),
                      uow: UnitOfWork = Depends(unit_of_work)) -> CourtCaseList:
    """The cases the calling court referred (never another court's)."""
    return await service.court_cases(uow, principal=principal)
