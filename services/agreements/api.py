"""Agreements routes: thin, they parse, authorise and hand over to the use cases. The court API is
versioned under ``/court/v1``; ``/verify`` and ``/seal/keys`` are public."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from shared.auth import Principal, require_roles
from shared.config import ConfigurationError
from shared.deps import runtime, unit_of_work
from shared.params import PositiveInt
from shared.problems import Problem
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork

from . import court, fulfilment, maintenance, service, verification
from .context import Ctx
from .documents import available_templates, jurisdiction, template
from .signing import NcaNotConfigured, ncalayer_url
from .schemas import (AcceptedProposalList, Acknowledgement, AgreementList, AgreementView, AuditView, CommentCreate,
                      CommentList, CommentView, CourtCaseList, CourtDecisionIn, CourtDecisionView, DiffView,
                      DraftCreate, DraftEdit, Feed, MaintenanceReport, ObligationList, ObligationStatus, SealedDocument,
                      SealKeys, SealLookup, SignatureRequest, SignIn, Validation, VerificationResult, VersionList,
                      VersionView)

router = APIRouter()
Member = Annotated[Principal, Depends(require_roles("party", "mediator", "admin"))]
Court = Annotated[Principal, Depends(require_roles("court"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
UoW = Annotated[UnitOfWork, Depends(unit_of_work)]
PDF = {"content": {"application/pdf": {}}, "description": "the executed agreement as PDF"}
MAX_UPLOAD = 10 * 1024 * 1024


def _pdf(data: bytes, agreement_id: str) -> Response:
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="agreement-{agreement_id}.pdf"'})


# -- templates ------------------------------------------------------------------------------------


@router.get("/templates", tags=["drafting"])
async def list_templates() -> dict:
    """Jurisdictions, dispute categories and languages with a template."""
    return {"items": available_templates()}


@router.get("/templates/{code}/{category}", tags=["drafting"])
async def get_template(code: str, category: str, language: Annotated[str, Query(pattern="^(kk|ky|ru|en|kk-ru)$")] = "ru") -> dict:
    """A template's default texts and the jurisdiction's required content, with citations."""
    rules = jurisdiction(code)
    return {"jurisdiction": code, "category": category, "language": language,
            "template": template(code, category, language), "source": rules.source,
            "required": [{"code": r.code, "citation": r.citation,
                          "message": " / ".join(r.message[p] for p in language.split("-"))} for r in rules.required]}


# -- drafting -------------------------------------------------------------------------------------


@router.post("/agreements", status_code=201, response_model=AgreementView, tags=["drafting"])
async def create_draft(body: DraftCreate, principal: Member, uow: UoW, ctx: Ctx) -> AgreementView:
    """The mediator starts a draft from the jurisdiction's template for the case's category,
    optionally seeded from proposals accepted in a session."""
    return await service.create_draft(uow, ctx, principal=principal, body=body)


@router.get("/agreements", response_model=AgreementList, tags=["drafting"])
async def list_agreements(case_id: Annotated[str, Query(max_length=36)], principal: Member, uow: UoW) -> AgreementList:
    return await service.list_agreements(uow, principal=principal, case_id=case_id)


@router.get("/cases/{case_id}/accepted-proposals", response_model=AcceptedProposalList, tags=["drafting"])
async def accepted_proposals(case_id: str, principal: Member, uow: UoW) -> AcceptedProposalList:
    """Proposals accepted in this case's sessions, which a draft can be seeded from (ids only)."""
    return await service.accepted_proposals(uow, principal=principal, case_id=case_id)


@router.get("/agreements/{agreement_id}", response_model=AgreementView, tags=["drafting"])
async def get_agreement(agreement_id: str, principal: Member, uow: UoW, ctx: Ctx) -> AgreementView:
    return await service.get_agreement(uow, ctx, principal=principal, agreement_id=agreement_id)


@router.put("/agreements/{agreement_id}/content", response_model=AgreementView, tags=["drafting"])
async def edit_draft(agreement_id: str, body: DraftEdit, principal: Member, uow: UoW, ctx: Ctx) -> AgreementView:
    """A new version (give the version you edited as `base_version`). Voids every signature."""
    return await service.edit_draft(uow, ctx, principal=principal, agreement_id=agreement_id, body=body)


@router.get("/agreements/{agreement_id}/versions", response_model=VersionList, tags=["drafting"])
async def list_versions(agreement_id: str, principal: Member, uow: UoW) -> VersionList:
    return await service.list_versions(uow, principal=principal, agreement_id=agreement_id)


@router.get("/agreements/{agreement_id}/versions/{version}", response_model=VersionView, tags=["drafting"])
async def get_version(agreement_id: str, version: PositiveInt, principal: Member, uow: UoW, ctx: Ctx) -> VersionView:
    return await service.get_version(uow, ctx, principal=principal, agreement_id=agreement_id, version=version)


@router.get("/agreements/{agreement_id}/diff", response_model=DiffView, tags=["drafting"])
async def diff(agreement_id: str, principal: Member, uow: UoW, ctx: Ctx,
               from_version: Annotated[PositiveInt, Query(alias="from")],
               to_version: Annotated[PositiveInt, Query(alias="to")]) -> DiffView:
    """A readable unified diff between two versions, in the agreement's language."""
    return await service.diff(uow, ctx, principal=principal, agreement_id=agreement_id, from_version=from_version,
                              to_version=to_version)


@router.get("/agreements/{agreement_id}/validation", response_model=Validation, tags=["drafting"])
async def validation(agreement_id: str, principal: Member, uow: UoW, ctx: Ctx) -> Validation:
    """What the jurisdiction requires that the current version still lacks."""
    return await service.validation(uow, ctx, principal=principal, agreement_id=agreement_id)


@router.post("/agreements/{agreement_id}/comments", status_code=201, response_model=CommentView, tags=["drafting"])
async def add_comment(agreement_id: str, body: CommentCreate, principal: Member, uow: UoW, ctx: Ctx) -> CommentView:
    return await service.add_comment(uow, ctx, principal=principal, agreement_id=agreement_id, body=body)


@router.get("/agreements/{agreement_id}/comments", response_model=CommentList, tags=["drafting"])
async def list_comments(agreement_id: str, principal: Member, uow: UoW, ctx: Ctx) -> CommentList:
    return await service.list_comments(uow, ctx, principal=principal, agreement_id=agreement_id)


# -- signing --------------------------------------------------------------------------------------


@router.post("/agreements/{agreement_id}/signature-request", response_model=AgreementView, tags=["signing"])
async def request_signatures(agreement_id: str, body: SignatureRequest, principal: Member, uow: UoW,
                             ctx: Ctx) -> AgreementView:
    """Send one version for signature. Refused with `incomplete-agreement` and the list of what is
    missing when the jurisdiction's required content is not all there."""
    return await service.request_signatures(uow, ctx, principal=principal, agreement_id=agreement_id, body=body)


@router.post("/agreements/{agreement_id}/signatures", response_model=AgreementView, tags=["signing"])
async def sign(agreement_id: str, body: SignIn, request: Request, principal: Member, uow: UoW,
               ctx: Ctx) -> AgreementView:
    """Sign the version open for signature, naming its hash. The last signature executes and
    seals the agreement."""
    return await service.sign(uow, ctx, principal=principal, agreement_id=agreement_id, body=body,
                              base_url=public_base(request, ctx))


def public_base(request: Request, ctx) -> str:
    """The platform's address as people reach it, for the verification link on the PDF:
    ``ODR_PUBLIC_URL``, else (dev mode, or a deployment that has not set it: signing must not fail
    for it) the scheme and Host this request came to."""
    here = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    try:
        return ctx.settings.link_base(request_base=here)
    except ConfigurationError:
        return here


@router.post("/agreements/{agreement_id}/signatures/withdraw", response_model=AgreementView, tags=["signing"])
async def withdraw(agreement_id: str, principal: Member, uow: UoW, ctx: Ctx) -> AgreementView:
    """Take your signature back; possible until everyone has signed."""
    return await service.withdraw_signature(uow, ctx, principal=principal, agreement_id=agreement_id)


@router.get("/agreements/{agreement_id}/document", response_model=SealedDocument, tags=["signing"])
async def sealed_document(agreement_id: str, principal: Member, uow: UoW, ctx: Ctx) -> SealedDocument:
    """The executed agreement: document, signature block and platform seal."""
    return await service.get_sealed(uow, ctx, principal=principal, agreement_id=agreement_id)


@router.get("/agreements/{agreement_id}/pdf", response_class=Response, responses={200: PDF}, tags=["signing"])
async def pdf(agreement_id: str, principal: Member, uow: UoW, ctx: Ctx) -> Response:
    return _pdf(await service.get_pdf(uow, ctx, principal=principal, agreement_id=agreement_id), agreement_id)


@router.get("/agreements/{agreement_id}/audit", response_model=AuditView, tags=["audit"])
async def audit_chain(agreement_id: str, principal: Member, uow: UoW, ctx: Ctx) -> AuditView:
    """The agreement's hash chain with its verification (links, entries, sealed checkpoints)."""
    return await service.audit_view(uow, ctx, principal=principal, agreement_id=agreement_id)


@router.get("/qualified-signatures", tags=["signing"])
async def qualified_signatures(ctx: Ctx) -> dict:
    """Public: which qualified-signature providers this platform verifies, and where the browser
    reaches NCALayer (always its own address, except in dev mode where tests use a stand-in)."""
    return {"providers": [p for p, v in ctx.qualified.items() if not isinstance(v, NcaNotConfigured)],
            "ncalayer_url": ncalayer_url(ctx.settings, ctx.config), "signed_content": "document_hash (ASCII hex)"}


@router.post("/verify", response_model=VerificationResult, tags=["verification"], openapi_extra={
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/SealedDocument"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
async def verify(request: Request, uow: UoW, ctx: Ctx) -> VerificationResult:
    """Public: is this executed agreement (its sealed JSON, or the PDF) genuine and unaltered?"""
    data = bytearray()
    async for chunk in request.stream():  # read no more than the limit, however much is sent
        data += chunk
        if len(data) > MAX_UPLOAD:
            raise Problem(413, "too-large", "the upload is larger than 10 MB")
    data = bytes(data)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/pdf" or data.startswith(b"%PDF-"):
        return await verification.verify_pdf(uow.session, ctx.signer, data, qualified=ctx.qualified)
    if kind not in ("application/json", ""):
        raise Problem(415, "unsupported-media-type", "send application/json (the sealed document) or application/pdf")
    try:
        sealed = json.loads(data)
    except ValueError:
        raise Problem(422, "invalid-json", "the body is not JSON") from None
    return await verification.verify_sealed(uow.session, ctx.signer, sealed, qualified=ctx.qualified)


@router.get("/verify/{document_hash}", response_model=SealLookup, tags=["verification"])
async def verification_link(document_hash: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], uow: UoW) -> SealLookup:
    """Public: what the link printed on a signed PDF asks (the client's ``/verify/{hash}`` page):
    whether this platform sealed a document with this hash, when, and who signed (by role)."""
    return await verification.lookup(uow.session, document_hash)


@router.get("/seal/keys", response_model=SealKeys, tags=["verification"])
async def seal_keys(ctx: Ctx) -> SealKeys:
    """Public keys of the platform seal (JWK-like, Ed25519), for verifying seals offline."""
    return SealKeys(keys=ctx.signer.public_keys())


# -- fulfilment -----------------------------------------------------------------------------------


@router.get("/agreements/{agreement_id}/obligations", response_model=ObligationList, tags=["fulfilment"])
async def obligations(agreement_id: str, principal: Member, uow: UoW) -> ObligationList:
    return await fulfilment.list_obligations(uow, principal=principal, agreement_id=agreement_id)


@router.post("/agreements/{agreement_id}/obligations/{obligation_id}/performance", response_model=ObligationStatus,
             tags=["fulfilment"])
async def report_performance(agreement_id: str, obligation_id: str, principal: Member, uow: UoW,
                             ctx: Ctx) -> ObligationStatus:
    """A party or the mediator reports that an obligation was performed."""
    return await fulfilment.report_performance(uow, ctx, principal=principal, agreement_id=agreement_id,
                                               obligation_id=obligation_id)


@router.post("/admin/maintenance", response_model=MaintenanceReport, tags=["admin"])
async def run_maintenance(_: Admin, rt: ServiceRuntime = Depends(runtime)) -> MaintenanceReport:
    """Run the periodic work now: overdue obligations, retention shredding."""
    return await maintenance.run_once(rt)


# -- court API ------------------------------------------------------------------------------------


@router.get("/court/v1/cases", response_model=CourtCaseList, tags=["court"])
async def court_cases(principal: Court, uow: UoW) -> CourtCaseList:
    """The cases the calling court referred (never another court's)."""
    return await service.court_cases(uow, principal=principal)


@router.get("/court/v1/feed", response_model=Feed, tags=["court"])
async def court_feed(principal: Court, uow: UoW, after: Annotated[str | None, Query(max_length=20)] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Feed:
    """Agreement events of this court's cases, oldest first. Keep `next_cursor` and pass it as
    `after`: no gaps and no duplicates across pages, also while new events are being written."""
    return await court.read_feed(uow, principal=principal, after=after, limit=limit)


@router.get("/court/v1/agreements/{agreement_id}", response_model=SealedDocument, tags=["court"])
async def court_agreement(agreement_id: str, principal: Court, uow: UoW, ctx: Ctx) -> SealedDocument:
    return await court.get_agreement(uow, ctx, principal=principal, agreement_id=agreement_id)


@router.get("/court/v1/agreements/{agreement_id}/pdf", response_class=Response, responses={200: PDF}, tags=["court"])
async def court_pdf(agreement_id: str, principal: Court, uow: UoW, ctx: Ctx) -> Response:
    return _pdf(await court.get_pdf(uow, ctx, principal=principal, agreement_id=agreement_id), agreement_id)


@router.post("/court/v1/agreements/{agreement_id}/acknowledgement", response_model=Acknowledgement, tags=["court"])
async def court_acknowledge(agreement_id: str, principal: Court, uow: UoW, ctx: Ctx) -> Acknowledgement:
    return await court.acknowledge(uow, ctx, principal=principal, agreement_id=agreement_id)


@router.post("/court/v1/agreements/{agreement_id}/decision", response_model=CourtDecisionView, tags=["court"])
async def court_decision(agreement_id: str, body: CourtDecisionIn, principal: Court, uow: UoW,
                         ctx: Ctx) -> CourtDecisionView:
    """Record the court's approval or rejection (once)."""
    return await court.decide(uow, ctx, principal=principal, agreement_id=agreement_id, body=body)
