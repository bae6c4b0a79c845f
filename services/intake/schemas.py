"""Intake's request and response bodies. Every free text has a length limit and every list a
size limit, so no request can make the service store or process something unbounded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .screening import ScreeningAnswers  # noqa: F401  (re-exported for the routes)

Category = Literal["civil", "family", "labour", "commercial", "administrative", "administrative_offence", "criminal"]
Language = Literal["kk", "ru", "en"]
Side = Literal["claimant", "respondent"]
PartyKind = Literal["natural_person", "legal_entity", "group", "state_body"]
Gravity = Literal["misdemeanour", "minor", "medium", "grave", "especially_grave"]
Accessibility = Literal["sign_language", "screen_reader", "large_text", "captions", "plain_language", "easy_read",
                        "step_free", "extra_time", "other"]
Name = Field(min_length=1, max_length=300)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contact(_Body):
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=32, pattern=r"^\+?[0-9 ()-]{5,31}$")


class Person(_Body):
    """A representative, interpreter or support person acting with a party."""

    name: str = Name
    id_number: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    organisation: str | None = Field(None, max_length=300)
    language: Language | None = None
    contact: Contact | None = None


class PartyIn(_Body):
    side: Side
    kind: PartyKind = "natural_person"
    name: str = Name
    id_number: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]+$",
                                  description="IIN/BIN or another identifier; used for conflict-of-interest checks")
    members: list[str] = Field(default_factory=list, max_length=200, description="members of a group")
    legal_capacity: Literal["full", "limited", "incapable"] = "full"
    language: Language = "ru"
    accessibility_needs: list[Accessibility] = Field(default_factory=list, max_length=10)
    accessibility_note: str | None = Field(None, max_length=1000)
    contact: Contact | None = None
    representatives: list[Person] = Field(default_factory=list, max_length=10)
    interpreters: list[Person] = Field(default_factory=list, max_length=5)
    support_persons: list[Person] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _members_only_for_groups(self) -> "PartyIn":
        if self.members and self.kind != "group":
            raise ValueError("only a group has members")
        if any(not m.strip() or len(m) > 300 for m in self.members):
            raise ValueError("member names must be 1 to 300 characters")
        return self


class Offence(_Body):
    gravity: Gravity
    corruption: bool = False
    against_public_service: bool = Field(False, description="a crime against public service and public administration")


class Amount(_Body):
    value: Decimal = Field(ge=0, max_digits=18, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class CaseFacts(_Body):
    """What the eligibility rules look at (shared by filing and the dry run)."""

    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code (or EU), e.g. KZ")
    category: Category
    offence: Offence | None = Field(None, description="required for criminal cases")
    amount: Amount | None = None
    affects_third_parties: bool = Field(False, description="the dispute affects people who are not in the mediation")
    cross_border: bool | None = None
    parties: list[PartyIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> "CaseFacts":
        if self.category == "criminal" and self.offence is None:
            raise ValueError("a criminal case needs `offence` with its gravity")
        if self.category != "criminal" and self.offence is not None:
            raise ValueError("`offence` applies only to criminal cases")
        if self.parties:
            sides = {p.side for p in self.parties}
            if sides != {"claimant", "respondent"}:
                raise ValueError("parties must include at least one claimant and one respondent")
        return self

    def rule_facts(self) -> dict[str, Any]:
        """No names, no descriptions: only what the rules need."""
        return {
            "category": self.category,
            "offence": self.offence.model_dump() if self.offence else None,
            "amount": float(self.amount.value) if self.amount else None,
            "affects_third_parties": self.affects_third_parties,
            "cross_border": self.cross_border,
            "parties": [{"side": p.side, "kind": p.kind, "legal_capacity": p.legal_capacity} for p in self.parties],
        }


class CaseFiling(CaseFacts):
    description: str = Field(min_length=1, max_length=20000)
    language: Language | None = Field(None, description="the filer's language; default: the first claimant's, else ru")
    consent_text_version: str | None = Field(
        None, max_length=60, description="the consent text the filer agreed to; default: the rule set's current one")


class CourtReferral(CaseFiling):
    docket_number: str = Field(min_length=1, max_length=100)


class RuleExplanation(BaseModel):
    rule: str
    outcome: str
    citation: str
    explanation: str


class EligibilityView(BaseModel):
    outcome: str
    rule_set: str
    rules_fired: list[str]
    explanation: list[RuleExplanation]


class ParticipantView(BaseModel):
    id: str
    side: str
    role: str
    kind: str | None
    name: str | None
    language: str
    accessibility_needs: list[str] = []


class CaseView(BaseModel):
    id: str
    jurisdiction: str
    category: str
    status: str
    court_id: str | None
    docket_number: str | None
    filed_at: datetime
    language: str = "ru"
    eligibility: EligibilityView | None = None
    participants: list[ParticipantView] = []
    mediator_id: str | None = None
    term_starts_on: date | None = None
    term_ends_on: date | None = None
    outcome: str | None = None
    allowed_operations: list[str] = []
    safety: str | None = Field(None, description="only for the assigned mediator and admins")
    safeguards: list[str] | None = Field(None, description="only for the assigned mediator and admins")


class FiledCase(BaseModel):
    case: CaseView
    access_token: str = Field(description="A short-lived token for the filing party, scoped to this case.")


class DryRun(BaseModel):
    outcome: str
    rule_set: str
    rules_fired: list[str]
    explanation: list[RuleExplanation]


# -- invitations, consent, sign-in -----------------------------------------------------------


class InvitationCreate(_Body):
    side: Side = "respondent"


class InvitationCreated(BaseModel):
    invitation_id: str
    side: str
    answer_by: datetime
    link_token: str = Field(description="Shown once: give it to the invited party (only its hash is kept).")
    link: str


class InvitationView(BaseModel):
    case_id: str
    jurisdiction: str
    category: str
    side: str
    answer_by: datetime
    consent_text_version: str
    consent_text: str
    answer_window_citation: str


class InvitationAnswer(_Body):
    decision: Literal["consent", "decline"]
    text_version: str = Field(min_length=1, max_length=60)
    language: Language | None = None


class InvitationAnswered(BaseModel):
    case: CaseView
    access_token: str | None = None


class SignInLinkRequest(_Body):
    side: Side


class SignInLinkCreated(BaseModel):
    delivery: Literal["returned_in_dev_mode", "recorded_for_notifications"]
    expires_at: datetime
    link_token: str | None = None


class LinkExchange(_Body):
    token: str = Field(min_length=10, max_length=200)


class ConsentView(BaseModel):
    side: str
    participant_id: str
    decision: str
    text_version: str
    via: str
    recorded_at: datetime


# -- screening -------------------------------------------------------------------------------


class ScreeningReceived(BaseModel):
    side: str
    received_at: datetime
    all_screened: bool


class ScreeningReport(BaseModel):
    """For the assigned mediator only."""

    side: str
    participant_id: str
    safety: str
    safeguards: list[str]
    answers: dict[str, Any]
    answered_at: datetime


class EligibilityReview(_Body):
    outcome: Literal["eligible", "ineligible"]
    reason: str = Field(min_length=1, max_length=2000)


# -- mediators -------------------------------------------------------------------------------


class Relation(_Body):
    name: str = Name
    id_number: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    relationship: str | None = Field(None, max_length=100)


class MediatorProfile(_Body):
    full_name: str = Name
    kind: Literal["professional", "public"]
    register_number: str | None = Field(None, max_length=100)
    registry: str | None = Field(None, max_length=200)
    training: str | None = Field(None, max_length=1000)
    birth_date: date | None = None
    languages: list[Language] = Field(min_length=1, max_length=3)
    specialisations: list[Category] = Field(default_factory=list, max_length=7)
    jurisdictions: list[str] = Field(min_length=1, max_length=10)
    capacity: int = Field(5, ge=1, le=200)
    available: bool = True
    relations: list[Relation] = Field(default_factory=list, max_length=200,
                                      description="people the mediator is related to or works with")
    organisations: list[str] = Field(default_factory=list, max_length=100)


class MediatorCreate(MediatorProfile):
    username: str = Field(pattern=r"^[a-z0-9._-]{3,100}$")
    password: str = Field(min_length=12, max_length=200)


class MediatorView(BaseModel):
    id: str
    full_name: str
    kind: str
    register_number: str | None
    registry: str | None
    languages: list[str]
    specialisations: list[str]
    jurisdictions: list[str]
    capacity: int
    available: bool
    active_cases: int = 0


class AccountCreate(_Body):
    username: str = Field(pattern=r"^[a-z0-9._-]{3,100}$")
    password: str = Field(min_length=12, max_length=200)
    role: Literal["admin"] = "admin"


class AccountCreated(BaseModel):
    id: str
    username: str
    role: str


class Login(_Body):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    totp_code: str | None = Field(None, pattern=r"^\s*[0-9]{6}\s*$",
                                  description="the authenticator app's code, for accounts with two-step sign-in")


class TotpSetup(BaseModel):
    secret: str = Field(description="base32 secret for the authenticator app (shown once)")
    otpauth_uri: str = Field(description="the same as an otpauth:// URI, for a QR code")


class TotpCode(_Body):
    code: str = Field(pattern=r"^\s*[0-9]{6}\s*$")


class Candidate(BaseModel):
    mediator_id: str
    full_name: str
    kind: str
    languages: list[str]
    specialisations: list[str]
    score: float
    reasons: list[str]


class ProposalCreate(_Body):
    mediator_id: str = Field(min_length=1, max_length=40)


class ProposalView(BaseModel):
    id: str
    case_id: str
    mediator_id: str
    status: str
    claimant_accepted: bool
    respondent_accepted: bool
    mediator_accepted: bool
    mediator_name: str | None = None


class MediatorDecision(_Body):
    decision: Literal["accept", "decline"]
    impartiality_declaration: bool = Field(
        False, description="I know of nothing that prevents my impartiality and will disclose anything that arises")
    reason: str | None = Field(None, max_length=2000)


class MediatorAccepted(BaseModel):
    proposal: ProposalView
    access_token: str | None = Field(None, description="a fresh mediator token that includes this case")


class Recusal(_Body):
    reason: str = Field(min_length=1, max_length=2000)


class AgreementToMediateView(BaseModel):
    case_id: str
    mediator_id: str | None
    text_version: str
    text: str
    term_days: int
    signed_by: list[str]
    term_starts_on: date | None
    term_ends_on: date | None


class Signature(_Body):
    text_version: str = Field(min_length=1, max_length=60)


class Extension(_Body):
    days: int = Field(ge=1, le=365)
    reason: str = Field(min_length=1, max_length=2000)
    parties_agreed: bool = Field(description="both parties agreed to the extension")


class Termination(_Body):
    reason: Literal["withdrawn", "futile", "no_agreement"]
    parties_written_consent: bool = Field(False, description="needed to end a futile mediation (2021 amendment)")
    note: str | None = Field(None, max_length=2000)


class TransitionView(BaseModel):
    from_status: str | None
    to_status: str
    operation: str
    reason: str | None
    actor: str
    at: datetime


# -- courts, tokens --------------------------------------------------------------------------


class CourtClientCreate(_Body):
    court_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    name: str = Field(min_length=1, max_length=200)


class CourtClientCreated(BaseModel):
    client_id: str
    court_id: str
    client_secret: str = Field(description="Shown once; only its argon2 hash is kept.")


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class DevTokenRequest(_Body):
    subject: str = Field(min_length=1, max_length=100)
    role: Literal["party", "mediator", "court", "admin"]
    cases: list[str] = Field(default_factory=list, max_length=100)
    court: str | None = None
