"""The request and response bodies that more than one part of intake uses: the words every body
shares and the case as it is shown. Each domain module keeps its own bodies beside its use cases
(``filing.CaseFiling``, ``consent.InvitationView``, ``register.MediatorProfile``...). Every free
text has a length limit and every list a size limit, so no request can make the service store or
process something unbounded."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["civil", "family", "labour", "commercial", "administrative", "administrative_offence", "criminal"]
Language = Literal["kk", "ky", "ru", "en"]
Side = Literal["claimant", "respondent"]
Name = Field(min_length=1, max_length=300)


class Input(BaseModel):
    """A request body: a field it does not know is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


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
    procedural_role: str | None = Field(None, description="criminal cases: victim, suspect, accused; "
                                        "legal_representative for a representative by law")
    kind: str | None
    name: str | None
    language: str
    accessibility_needs: list[str] = []
    represents_id: str | None = Field(None, description="for a representative, interpreter or support person: "
                                                         "the party they act with")
    id_number: str | None = Field(None, description="IIN/BIN; only for the (proposed) mediator and admins, "
                                                     "who check conflicts and draft the agreement with it")
    organisation: str | None = Field(None, description="a representative's firm; as id_number")


class LegalEffectView(BaseModel):
    code: str
    article: str = Field(description="in the reader's language")


class CaseProgress(BaseModel):
    """What each side has done so far, for the case page's task list (what is done, what is whose
    to do now, and by when). Facts only, no content: which sides answered, not what."""

    time_zone: str = Field(description="the case's legal time zone (deadlines are counted in it)")
    consented_sides: list[str] = Field([], description="the sides every party of which has agreed to mediate")
    consented_parties: list[str] = Field([], description="the parties (participant ids) who have agreed to mediate")
    screened_sides: list[str] = Field([], description="the sides every party of which has answered the screening")
    screened_parties: list[str] = Field([], description="the parties (participant ids) who have answered the "
                                        "screening (that they did, never what)")
    answer_by: datetime | None = Field(None, description="when the open invitation's answer window closes")
    co_parties_answer_by: dict[str, datetime] = Field({}, description="per side whose first party has agreed: when "
                                                      "the window for its other parties' own answers closes (while "
                                                      "one of them has not answered)")
    agreement_to_mediate_signed_by: list[str] = Field([], description="the sides every party of which signed, and "
                                                      "mediator")
    agreement_to_mediate_signed_parties: list[str] = Field([], description="the parties (participant ids) whose "
                                                           "signature (or their representative's) is on it")


class CaseView(BaseModel):
    id: str
    reference: str | None = Field(None, description="what people call the case, e.g. KZ-2026-000123 (the id stays "
                                  "internal); set at filing, absent only for a case not yet given one")
    jurisdiction: str
    category: str
    status: str
    court_id: str | None
    docket_number: str | None
    referred_by: str | None = Field(None, description="court, prosecutor or investigator")
    criminal_case_number: str | None = None
    legal_effect: LegalEffectView | None = Field(None, description="criminal cases: what a reconciliation enables")
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
    description: str | None = Field(None, description="what the dispute is about, as filed; only for the assigned "
                                                      "or proposed mediator and admins (read before accepting)")
    progress: CaseProgress | None = Field(None, description="on a single case's view (`GET /cases/{id}`)")


class TransitionView(BaseModel):
    from_status: str | None
    to_status: str
    operation: str
    reason: str | None
    actor: str
    at: datetime


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
