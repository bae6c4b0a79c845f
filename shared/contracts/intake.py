"""Events published by the intake service (topic ``odr.intake``, key = case id).

Ids, codes, statuses and times only: no names, descriptions, contact details or screening
answers. A consumer that needs more asks intake's API with its own rights.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..events import Event, event

TOPIC = "odr.intake"

Language = Literal["kk", "ky", "ru", "en"]
Side = Literal["claimant", "respondent"]
Safeguard = Literal["shuttle_only", "support_person", "staggered_join", "no_joint_session"]


class Participant(BaseModel):
    """A person in a case, by id: their side (none for the mediator), role and language, and for
    someone acting with a party (a representative, interpreter, support person), which party."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    participant_id: str
    role: Literal["party", "representative", "interpreter", "support_person", "mediator"]
    side: Side | None = None
    language: Language = "ru"
    acts_for: str | None = Field(None, description="the participant id of the party they are with")


ReferringBody = Literal["court", "prosecutor", "investigator"]


class LegalEffect(BaseModel):
    """What a reconciliation in this case enables in law, e.g. release from criminal liability under
    Criminal Code Art. 68(1) (Kazakhstan): a code and the article in each language. Public law, not
    case content; it comes from the eligibility rule that admitted the case (rule-set data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=60)
    article: dict[str, str] = Field(description="the article that the outcome enables, by language (kk, ru, en)")


class _IntakeEvent(Event):
    topic: ClassVar[str] = TOPIC


@event
class CaseFiled(_IntakeEvent):
    """A case was filed by a party or referred by a court. Ids and classification only."""

    type: ClassVar[str] = "odr.case.filed.v1"
    summary: ClassVar[str] = "A case was filed, or referred by a court, a prosecutor or an investigator."

    # What people call the case (KZ-2026-000123): every service shows it instead of the id.
    # Absent from events published before it was added.
    reference: str | None = None
    jurisdiction: str
    category: str
    court_id: str | None = None
    filed_at: datetime
    # The claimant party's participant id (what the filer's token names): the person to tell.
    # Absent from events published before it was added.
    claimant_participant_id: str | None = None
    # The claimant's language, so the filer's first notices (case filed, invitation sent) are in
    # it rather than the platform's default. Absent from events published before it was added.
    claimant_language: Language | None = None
    # Who referred it (`court_id` names that body): a court, a prosecutor or an investigator
    # (criminal cases); absent for a party's filing and in events published before it was added.
    referred_by: ReferringBody | None = None
    # Criminal cases: what a reconciliation enables (the article of the Criminal Code).
    legal_effect: LegalEffect | None = None
    # The case's time zone (its rule set's: Asia/Bishkek for a Kyrgyz case), so the first notices
    # (the invitation's answer-by time) show times where the people are, not only from the
    # agreement to mediate on. Absent from events published before it was added.
    time_zone: str | None = None


@event
class RespondentInvited(_IntakeEvent):
    type: ClassVar[str] = "odr.case.invited.v1"
    summary: ClassVar[str] = "The other party was invited; the answer window closes at `answer_by`."

    invitation_id: str
    respondent_participant_id: str
    language: Language = "ru"
    answer_by: datetime


@event
class ConsentRecorded(_IntakeEvent):
    type: ClassVar[str] = "odr.case.consent.v1"
    summary: ClassVar[str] = "A party consented to mediation or declined it."

    participant_id: str
    decision: Literal["consented", "declined"]
    text_version: str


@event
class ScreeningRequested(_IntakeEvent):
    type: ClassVar[str] = "odr.screening.requested.v1"
    summary: ClassVar[str] = "A party is asked to answer the private safety screening."

    participant_id: str
    language: Language = "ru"


@event
class CaseScreened(_IntakeEvent):
    """Eligibility and safety screening outcome. Never the answers, only outcome and safeguards."""

    type: ClassVar[str] = "odr.case.screened.v1"
    summary: ClassVar[str] = "Eligibility and safety screening finished: outcome and safeguards."

    eligibility: Literal["eligible", "ineligible", "needs_review"]
    safety: Literal["proceed", "proceed_with_safeguards", "refer_out"]
    safeguards: list[Safeguard] = []
    rule_set: str
    rules_fired: list[str] = []


@event
class MediatorProposed(_IntakeEvent):
    type: ClassVar[str] = "odr.mediator.proposed.v1"
    summary: ClassVar[str] = "A mediator was proposed to the parties, who must both accept."

    mediator_id: str


@event
class MediatorAssigned(_IntakeEvent):
    type: ClassVar[str] = "odr.mediator.assigned.v1"
    summary: ClassVar[str] = "Both parties accepted the mediator and the mediator declared impartiality."

    mediator_id: str


@event
class MediationAgreed(_IntakeEvent):
    """The agreement to mediate is signed by both parties and the mediator; the term starts."""

    type: ClassVar[str] = "odr.mediation.agreed.v1"
    summary: ClassVar[str] = "The agreement to mediate was signed; the term of mediation starts."

    mediator_id: str
    participants: list[Participant]
    safeguards: list[Safeguard] = []
    term_ends_on: date
    time_zone: str = "Asia/Almaty"


@event
class CaseClosed(_IntakeEvent):
    type: ClassVar[str] = "odr.case.closed.v1"
    summary: ClassVar[str] = "The case ended: settled, declined, ineligible, referred out or terminated."

    outcome: Literal["settled", "declined", "ineligible", "referred_out", "withdrawn", "futile", "term_expired",
                     "no_agreement"]


@event
class MediatorRecused(_IntakeEvent):
    """The assigned mediator stepped down (recusal) or a party asked for a replacement; the case
    goes back to choosing a mediator and a new agreement to mediate is needed."""

    type: ClassVar[str] = "odr.mediator.recused.v1"
    summary: ClassVar[str] = "The assigned mediator recused or was replaced; a new mediator must be agreed."

    mediator_id: str
    by: Literal["mediator", "party"]


@event
class MediationTermExtended(_IntakeEvent):
    type: ClassVar[str] = "odr.mediation.term_extended.v1"
    summary: ClassVar[str] = "The term of mediation was extended with the parties' agreement."

    term_ends_on: date
    time_zone: str = "Asia/Almaty"


EVERY_CASE = "*"


@event
class AccessRevoked(_IntakeEvent):
    """Tokens stop being accepted before they expire, on every service and websocket: one token
    (``token_id``: a sign-out), or every token of ``subject`` issued before ``issued_before`` (sign
    out everywhere, a disabled account, a changed password or court client secret), for every case
    (``case_id`` is ``*``) or for one case only (a recusal: the mediator's other cases stay open).
    Each service keeps what it consumed until ``expires_at``, when every token it covers has expired."""

    type: ClassVar[str] = "odr.access.revoked.v1"
    summary: ClassVar[str] = "Tokens were revoked: sign-out, recusal, a disabled account, a changed password or secret."

    case_id: str = Field(description="the case a recusal is limited to, or `*` for every case")
    subject: str
    token_id: str | None = None
    issued_before: datetime | None = None
    expires_at: datetime
    reason: Literal["signed_out", "signed_out_everywhere", "recused", "account_disabled", "password_changed",
                    "client_secret_rotated"]


# -- the calendar: sittings ----------------------------------------------------------------------
# Times only (UTC instants, shown in ``time_zone``): a sitting's purpose, the parties' availability
# and unavailable dates stay in intake.


@event
class SittingProposed(_IntakeEvent):
    """The mediator proposed times for a sitting; the parties answer their availability in the client."""

    type: ClassVar[str] = "odr.sitting.proposed.v1"
    summary: ClassVar[str] = "The mediator proposed one or several times for a sitting."

    sitting_id: str
    slots: list[datetime]
    time_zone: str = "Asia/Almaty"


class _FixedSitting(_IntakeEvent):
    """A fixed sitting's times and how many times it changed: what a calendar invitation (its
    ``SEQUENCE``) and the reminders need, whether the sitting is fixed, moved or cancelled."""

    sitting_id: str
    starts_at: datetime
    ends_at: datetime
    sequence: int = Field(ge=0)
    time_zone: str = "Asia/Almaty"


@event
class SittingFixed(_FixedSitting):
    """A sitting was fixed (``sequence`` 0) or moved (each move one more): the calendar invitation
    goes out, or is updated, and the reminders follow ``starts_at``."""

    type: ClassVar[str] = "odr.sitting.fixed.v1"
    summary: ClassVar[str] = "A sitting was fixed, or moved to another time (`sequence` counts the changes)."


@event
class SittingCancelled(_FixedSitting):
    """A fixed sitting was cancelled: its invitation is withdrawn and its reminders removed."""

    type: ClassVar[str] = "odr.sitting.cancelled.v1"
    summary: ClassVar[str] = "A fixed sitting was cancelled."


@event
class AccessLinkSent(_IntakeEvent):
    """A one-time link is to reach a person: an invitation (``purpose`` ``invitation``) or a
    sign-in link, for one side of one case (``sign_in``) or for every case an email address
    belongs to (``sign_in_address``, ``case_id`` ``*``). The link and the address travel sealed
    for the notifications service (``shared.courier``: HPKE to notifications' public key, the info
    binding each to ``link_id``), so the event, the bus and every log carry neither in the clear.
    Without ``sealed_address`` notifications sends to the contact it holds for ``participant_id``."""

    type: ClassVar[str] = "odr.access.link_sent.v1"
    summary: ClassVar[str] = "A one-time invitation or sign-in link is to be delivered (link and address sealed for notifications)."

    case_id: str = Field(description="the case of the link, or `*` for an address's sign-in link")
    link_id: str
    purpose: Literal["invitation", "sign_in", "sign_in_address"]
    participant_id: str | None = Field(None, description="the person of a case's link; none for an address's link")
    language: Language = "ru"
    expires_at: datetime
    sealed_link: str = Field(description="the link's token, sealed for notifications (base64 HPKE)")
    sealed_address: str | None = Field(
        None, description='{"email": ..., "phone": ...} sealed for notifications; absent: the contact notifications holds')
