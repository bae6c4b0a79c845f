"""Intake routes: thin, they parse, authorise and hand over to ``service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, Request, Response

from shared.auth import Principal, current_principal, require_roles
from shared.deps import runtime, unit_of_work
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork

from . import service
from .schemas import (CaseFiling, CaseView, CourtClientCreate, CourtClientCreated, CourtReferral, DevTokenRequest,
                      FiledCase, TokenResponse)

router = APIRouter()
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)]


@router.post("/cases", status_code=201, response_model=FiledCase, tags=["cases"])
async def file_case(filing: CaseFiling, response: Response, idempotency_key: IdempotencyKey = None,
                    uow: UnitOfWork = Depends(unit_of_work), rt: ServiceRuntime = Depends(runtime)) -> FiledCase:
    """File a case as a party. Returns a short-lived token scoped to the new case."""
    filer = f"party:{idempotency_key}" if idempotency_key else "party:anonymous"
    case, created = await service.file_case(uow, filing=filing, filed_by=filer, idempotency_key=idempotency_key)
    if not created:
        response.status_code = 200
    token = rt.tokens.issue(subject=f"claimant:{case.id}", role="party", cases=[case.id], party_side="claimant")
    return FiledCase(case=case, access_token=token)


@router.post("/court/v1/referrals", status_code=201, response_model=CaseView, tags=["court"])
async def refer_case(referral: CourtReferral, response: Response, idempotency_key: IdempotencyKey = None,
                     principal: Principal = Depends(require_roles("court")),
                     uow: UnitOfWork = Depends(unit_of_work)) -> CaseView:
    """A court refers a case to mediation with its docket number."""
    case, created = await service.file_case(uow, filing=referral, filed_by=principal.subject,
                                            idempotency_key=idempotency_key, court_id=principal.court)
    if not created:
        response.status_code = 200
    return case


@router.get("/cases/{case_id}", response_model=CaseView, tags=["cases"])
async def get_case(case_id: str, principal: Principal = Depends(current_principal),
                   uow: UnitOfWork = Depends(unit_of_work)) -> CaseView:
    return await service.get_case(uow, case_id=case_id, principal=principal)


@router.post("/admin/court-clients", status_code=201, response_model=CourtClientCreated, tags=["admin"])
async def create_court_client(body: CourtClientCreate, _: Principal = Depends(require_roles("admin")),
                              uow: UnitOfWork = Depends(unit_of_work)) -> CourtClientCreated:
    return await service.create_court_client(uow, request=body)


@router.post("/admin/court-clients/{client_id}/rotate", response_model=CourtClientCreated, tags=["admin"])
async def rotate_court_client(client_id: str, _: Principal = Depends(require_roles("admin")),
                              uow: UnitOfWork = Depends(unit_of_work)) -> CourtClientCreated:
    return await service.rotate_court_client_secret(uow, client_id=client_id)


@router.post("/auth/token", response_model=TokenResponse, tags=["auth"])
async def token(grant_type: Annotated[str, Form(pattern="^client_credentials$")],
                client_id: Annotated[str, Form(max_length=64)], client_secret: Annotated[str, Form(max_length=200)],
                uow: UnitOfWork = Depends(unit_of_work), rt: ServiceRuntime = Depends(runtime)) -> TokenResponse:
    """OAuth 2.0 client credentials grant for court clients."""
    access = await service.court_token(uow, tokens=rt.tokens, client_id=client_id, client_secret=client_secret)
    return TokenResponse(access_token=access, expires_in=rt.tokens.ttl_seconds)


@router.post("/dev/token", response_model=TokenResponse, tags=["dev"], include_in_schema=False)
async def dev_token(body: DevTokenRequest, request: Request, rt: ServiceRuntime = Depends(runtime)) -> TokenResponse:
    """Any token, for trying the system out. Exists only in explicit dev mode (`odr dev`)."""
    service.ensure_dev_mode(rt.settings.dev_mode)
    access = rt.tokens.issue(subject=body.subject, role=body.role, cases=body.cases, court=body.court)
    return TokenResponse(access_token=access, expires_in=rt.tokens.ttl_seconds)
