"""Events published by the agreements service (topic ``odr.agreements``, key = case id).

Never terms, amounts or names: ids, versions, hashes and statuses."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ..events import Event, event
from .intake import LegalEffect

TOPIC = "odr.agreements"


class _AgreementsEvent(Event):
    topic: ClassVar[str] = TOPIC


@event
class DraftReady(_AgreementsEvent):
    type: ClassVar[str] = "odr.agreement.draft_ready.v1"
    summary: ClassVar[str] = "A draft version is ready for the parties to read and comment."

    agreement_id: str
    version: int


@event
class SignatureRequested(_AgreementsEvent):
    type: ClassVar[str] = "odr.agreement.signature_requested.v1"
    summary: ClassVar[str] = "A version was sent for signature."

    agreement_id: str
    version: int
    document_hash: str
    signer_ids: list[str]  # signer slots: "claimant", "respondent", "mediator"


@event
class SignatureAdded(_AgreementsEvent):
    type: ClassVar[str] = "odr.agreement.signature_added.v1"
    summary: ClassVar[str] = "A signer signed the version open for signature (which slot, nothing of the text)."

    agreement_id: str
    version: int
    slot: str  # "claimant", "respondent" or "mediator"


@event
class SignatureWithdrawn(_AgreementsEvent):
    type: ClassVar[str] = "odr.agreement.signature_withdrawn.v1"
    summary: ClassVar[str] = "A signer took their signature back before everyone had signed."

    agreement_id: str
    version: int
    slot: str


class ObligationDue(BaseModel):
    """When an obligation falls due and which side owes it: no amounts, no terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    obligation_id: str
    obligor_side: Literal["claimant", "respondent"]
    due_on: date


@event
class AgreementSigned(_AgreementsEvent):
    type: ClassVar[str] = "odr.agreement.signed.v1"
    summary: ClassVar[str] = "Every party and the mediator signed: the agreement is executed and sealed."

    agreement_id: str
    version: int
    document_hash: str
    court_id: str | None = None
    obligations: list[ObligationDue] = []
    # Criminal cases: the outcome's legal effect for the referring body (Criminal Code article).
    legal_effect: LegalEffect | None = None


@event
class AgreementApproved(_AgreementsEvent):
    type: ClassVar[str] = "odr.agreement.approved.v1"
    summary: ClassVar[str] = "The referring court approved the agreement."

    agreement_id: str
    court_id: str


@event
class AgreementRejected(_AgreementsEvent):
    type: ClassVar[str] = "odr.agreement.rejected.v1"
    summary: ClassVar[str] = "The referring court rejected the agreement."

    agreement_id: str
    court_id: str


@event
class ObligationOverdue(_AgreementsEvent):
    type: ClassVar[str] = "odr.obligation.overdue.v1"
    summary: ClassVar[str] = "An obligation of an executed agreement passed its deadline unperformed."

    agreement_id: str
    obligation_id: str
    due_on: date
