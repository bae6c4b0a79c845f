"""Agreements' request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.params import PositiveInt

from .documents import AgreementContent, Language


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CourtCase(BaseModel):
    case_id: str
    case_reference: str | None = Field(None, description="what people call the case, e.g. KZ-2026-000123")
    jurisdiction: str
    filed_at: datetime


class CourtCaseList(BaseModel):
    items: list[CourtCase]


# -- drafting -------------------------------------------------------------------------------------


class DraftCreate(_Strict):
    case_id: str = Field(min_length=1, max_length=36)
    language: Language = "ru"
    category: str | None = Field(None, max_length=40, pattern=r"^[a-z_]+$",
                                 description="template category; default: the case's category")
    content: AgreementContent | None = None
    proposal_ids: list[str] = Field(default_factory=list, max_length=50,
                                    description="accepted session proposals this draft is seeded from")


class DraftEdit(_Strict):
    base_version: PositiveInt = Field(description="the version this edit starts from (optimistic concurrency)")
    content: AgreementContent


class SignatureView(BaseModel):
    id: str
    version: int
    document_hash: str
    slot: str
    signer: str
    method: str
    assurance: dict[str, Any]
    signed_at: datetime
    status: str
    ended_at: datetime | None = None


class AgreementView(BaseModel):
    id: str
    case_id: str
    jurisdiction: str
    category: str
    language: str
    status: str
    version: int
    document_hash: str
    requested_version: int | None
    signers: list[str]
    source_proposals: list[str]
    content: AgreementContent
    missing: list[dict]
    signatures: list[SignatureView]
    executed_at: datetime | None
    court_decision: str | None
    created_at: datetime
    updated_at: datetime


class AgreementSummary(BaseModel):
    id: str
    case_id: str
    status: str
    version: int
    executed_at: datetime | None
    court_decision: str | None


class AgreementList(BaseModel):
    items: list[AgreementSummary]


class VersionInfo(BaseModel):
    version: int
    document_hash: str
    created_by: str
    created_at: datetime


class VersionList(BaseModel):
    items: list[VersionInfo]


class VersionView(VersionInfo):
    document: dict


class DiffView(BaseModel):
    from_version: int
    to_version: int
    diff: str


class Validation(BaseModel):
    complete: bool
    missing: list[dict]


class CommentCreate(_Strict):
    text: str = Field(min_length=1, max_length=5000)


class CommentView(BaseModel):
    id: str
    version: int
    author: str
    author_role: str
    text: str
    created_at: datetime


class CommentList(BaseModel):
    items: list[CommentView]


class AcceptedProposalView(BaseModel):
    proposal_id: str
    session_id: str
    accepted_at: datetime
    agreement_id: str | None


class AcceptedProposalList(BaseModel):
    items: list[AcceptedProposalView]
    note: str = ("Proposal content stays with the sessions service; the mediator reads it there and "
                 "enters the terms in the draft, which records the proposal ids it was seeded from.")


# -- signing --------------------------------------------------------------------------------------


class SignatureRequest(_Strict):
    version: PositiveInt


class QualifiedSignatureIn(_Strict):
    provider: Literal["kz-nca"] = "kz-nca"
    cms: str = Field(min_length=1, max_length=200_000, description="base64 CMS (detached) over the document hash")


class SignIn(_Strict):
    version: PositiveInt
    document_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="the hash the signer saw and agrees to")
    method: Literal["platform", "qualified"] = "platform"
    qualified: QualifiedSignatureIn | None = None


class SealedDocument(BaseModel):
    document: dict
    signatures: list[dict]
    seal: dict


class VerificationResult(BaseModel):
    valid: bool
    checks: dict[str, bool]
    reasons: list[str]
    agreement_id: str | None = None
    version: int | None = None
    document_hash: str | None = None
    sealed_at: str | None = None
    signers: list[dict] = []
    signatures: list[dict] = Field(default_factory=list, description="each signature's own check: a qualified "
                                   "electronic signature's certificate (subject, IIN/BIN, serial, issuer) and checks")


class SealKeys(BaseModel):
    keys: list[dict]


class AuditEntryView(BaseModel):
    seq: int
    action: str
    actor: str
    actor_role: str
    at: datetime
    details: dict
    prev_hash: str
    hash: str


class AuditView(BaseModel):
    verification: dict
    entries: list[AuditEntryView]


# -- fulfilment -----------------------------------------------------------------------------------


class ObligationStatus(BaseModel):
    obligation_id: str
    obligor: str
    obligee: str
    due_on: date | None
    status: str
    performed_at: datetime | None
    reported_by: str | None


class ObligationList(BaseModel):
    items: list[ObligationStatus]


class MaintenanceReport(BaseModel):
    overdue: int
    shredded: int


# -- court API ------------------------------------------------------------------------------------


class FeedItem(BaseModel):
    cursor: str
    type: str
    case_id: str
    case_reference: str | None = Field(None, description="what people call the case, e.g. KZ-2026-000123")
    agreement_id: str
    version: int | None
    document_hash: str | None
    occurred_at: datetime
    signatures: list[dict] | None = Field(
        None, description="on an agreement-signed item: each signature (slot, method, time; for a qualified "
        "electronic signature the certificate's subject, IIN/BIN, serial, issuer and the base64 CMS)")
    legal_effect: dict | None = Field(
        None, description="on an agreement-signed item of a criminal case: what the reconciliation enables, "
        "`{code, article: {kk, ru, en}}` (Kazakhstan: release from criminal liability, Criminal Code Art. 68)")


class Feed(BaseModel):
    items: list[FeedItem]
    next_cursor: str = Field(description="pass as `after=` to get what follows; unchanged when there is nothing new")


class Acknowledgement(BaseModel):
    agreement_id: str
    version: int
    acknowledged_at: datetime


class CourtDecisionIn(_Strict):
    decision: Literal["approved", "rejected"]
    reference: str | None = Field(None, max_length=100, description="the court's ruling or docket reference")


class CourtDecisionView(BaseModel):
    agreement_id: str
    decision: str
    reference: str | None
    decided_at: datetime


class SealLookup(BaseModel):
    """The answer to a verification link: did this platform seal a document with this hash."""

    issued: bool
    document_hash: str
    version: int | None = None
    sealed_at: datetime | None = None
    jurisdiction: str | None = None
    signers: list[str] = Field(default_factory=list, description="signer slots: claimant, respondent, mediator")
    status: str | None = Field(None, description="executed, or shredded after the retention period")
