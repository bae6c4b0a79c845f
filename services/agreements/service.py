"""Agreements use cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.contracts.intake import CaseFiled
from shared.uow import UnitOfWork

from .models import CaseRef
from .schemas import CourtCase, CourtCaseList


async def record_case(session: AsyncSession, *, event: CaseFiled) -> None:
    if await session.get(CaseRef, event.case_id) is None:
        session.add(CaseRef(case_id=event.case_id, court_id=event.court_id, jurisdiction=event.jurisdiction,
                            filed_at=event.filed_at))


async def court_cases(uow: UnitOfWork, *, principal: Principal) -> CourtCaseList:
    """Only the cases this court referred."""
    rows = (await uow.session.execute(
        select(CaseRef).where(CaseRef.court_id == principal.court).order_by(CaseRef.filed_at)
    )).scalars()
    return CourtCaseList(items=[CourtCase(case_id=r.case_id, jurisdiction=r.jurisdiction, filed_at=r.filed_at) for r in rows])
