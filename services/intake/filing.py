"""Filing: a party files a case, or a court refers one, and the eligibility rules run at once.
What a filing says (``CaseFacts``) is also what the public dry run evaluates, so a party can learn
whether a case is eligible before filing it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from shared.auth import TokenService
from shared.contracts.intake import CaseFiled, ConsentRecorded, LegalEffect, ReferringBody
from shared.problems import Problem
from shared.uow import UnitOfWork

from . import cases, eligibility, personal, reach, references
from .models import Case, CaseTransition, Consent, EligibilityDecision, Participant
from .schemas import Category, CaseView, Input, Language, Name, RuleExplanation, Side

PartyKind = Literal["natural_person", "legal_entity", "group", "state_body"]
Gravity = Literal["misdemeanour", "minor", "medium", "grave", "especially_grave"]
CriminalRole = Literal["victim", "suspect", "accused"]
CRIMINAL_SIDES: dict[str, str] = {"victim": "claimant", "suspect": "respondent", "accused": "respondent"}
# The persons Criminal Code Art. 68(2) (Kazakhstan) names; other jurisdictions' rules may use them too.
Circumstance = Literal["minor", "pregnant", "woman_with_young_child", "man_raising_young_child_alone",
                       "woman_aged_58_or_over", "man_aged_63_or_over"]
Accessibility = Literal["sign_language", "screen_reader", "large_text", "captions", "plain_language", "easy_read",
                        "step_free", "extra_time", "other"]


class Contact(Input):
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=32, pattern=r"^\+?[0-9 ()-]{5,31}$")


class Person(Input):
    """A representative, interpreter or support person acting with a party."""

    name: str = Name
    id_number: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    organisation: str | None = Field(None, max_length=300)
    language: Language | None = None
    contact: Contact | None = None


class PartyIn(Input):
    side: Side | CriminalRole = Field(description="claimant or respondent; in a criminal case the procedural role "
                                      "instead: victim, suspect or accused")
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
    legal_representatives: list[Person] = Field(
        default_factory=list, max_length=5,
        description="parents, guardians or others who act for a minor or another person by law")
    interpreters: list[Person] = Field(default_factory=list, max_length=5)
    support_persons: list[Person] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _members_only_for_groups(self) -> "PartyIn":
        if self.members and self.kind != "group":
            raise ValueError("only a group has members")
        if any(not m.strip() or len(m) > 300 for m in self.members):
            raise ValueError("member names must be 1 to 300 characters")
        if self.legal_representatives and self.kind != "natural_person":
            raise ValueError("only a natural person has legal representatives")
        return self

    @property
    def party_side(self) -> Side:
        """The side the platform runs the mediation with: the victim is on the claimant's side,
        the suspect or accused on the respondent's (tokens, rooms, signatures)."""
        return CRIMINAL_SIDES.get(self.side, self.side)  # type: ignore[return-value]

    @property
    def procedural_role(self) -> str | None:
        return self.side if self.side in CRIMINAL_SIDES else None


class Offence(Input):
    """The facts of a criminal case that the rules turn on (Kazakhstan: Criminal Code Art. 68 and
    Law No. 401-IV Art. 1). Unknown is not the same as no: a fact left out is null, and a rule
    that needs it to be true does not hold."""

    gravity: Gravity
    corruption: bool = False
    against_public_service: bool = Field(False, description="a crime against public service and public administration")
    caused_death: bool = Field(False, description="the offence is connected with causing a person's death")
    caused_grave_harm: bool = Field(False, description="the offence is connected with causing grave harm to health")
    first_offence: bool | None = Field(None, description="the suspect or accused commits a crime for the first time")
    harm_made_good: bool | None = Field(None, description="the harm caused has already been made good (compensated)")
    suspect_circumstances: list[Circumstance] = Field(
        default_factory=list, max_length=6,
        description="the suspect's or accused's circumstances that the law names (Kazakhstan: Criminal Code Art. 68(2))")


class Amount(Input):
    value: Decimal = Field(ge=0, max_digits=18, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class CaseFacts(Input):
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
            if self.category == "criminal":
                if not sides <= set(CRIMINAL_SIDES) or "victim" not in sides or not sides & {"suspect", "accused"}:
                    raise ValueError("the parties of a criminal case are at least one victim and one suspect or accused")
            elif sides != {"claimant", "respondent"}:
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
            "parties": [{"side": p.party_side, "role": p.procedural_role, "kind": p.kind,
                         "legal_capacity": p.legal_capacity} for p in self.parties],
        }


class CaseFiling(CaseFacts):
    description: str = Field(min_length=1, max_length=20000)
    language: Language | None = Field(None, description="the filer's language; default: the first claimant's, else ru")
    consent_text_version: str | None = Field(
        None, max_length=60, description="the consent text the filer agreed to; default: the rule set's current one")


class CourtReferral(CaseFiling):
    """A referral by a court, or in a criminal case also by a prosecutor or an investigator (the
    kind of body is its client's, ``accounts.CourtClient.kind``)."""

    docket_number: str | None = Field(None, min_length=1, max_length=100,
                                      description="the referring court's case number (non-criminal cases)")
    criminal_case_number: str | None = Field(
        None, min_length=1, max_length=40, pattern=r"^[0-9A-Za-z/-]+$",
        description="criminal cases: the number of the criminal case (Kazakhstan: its number in the Unified Register "
                    "of Pre-trial Investigations)")

    @model_validator(mode="after")
    def _numbered(self) -> "CourtReferral":
        if self.category == "criminal" and self.criminal_case_number is None:
            raise ValueError("a criminal referral needs `criminal_case_number`")
        if self.category != "criminal":
            if self.criminal_case_number is not None:
                raise ValueError("`criminal_case_number` applies only to criminal cases")
            if self.docket_number is None:
                raise ValueError("a referral needs the court's `docket_number`")
        return self


class FiledCase(BaseModel):
    case: CaseView
    access_token: str = Field(description="A short-lived token for the filing party, scoped to this case.")


class DryRun(BaseModel):
    outcome: str
    rule_set: str
    rules_fired: list[str]
    explanation: list[RuleExplanation]


def dry_run(*, facts: CaseFacts, lang: str) -> DryRun:
    """Evaluate a hypothetical case against the current rule set; nothing is stored."""
    rs = eligibility.current(facts.jurisdiction)
    decision = eligibility.evaluate_case(rs, facts.rule_facts())
    return DryRun(outcome=decision.outcome, rule_set=decision.rule_set, rules_fired=decision.rules_fired,
                  explanation=[RuleExplanation(**e) for e in decision.explain(lang)])


def _ineligible_problem(case: Case, lang: str) -> Problem:
    view = cases.explain(case.rule_set, case.eligibility, case.rules_fired or [], lang)
    deciding = [e for e in view.explanation if e.outcome == "ineligible"]
    return Problem(422, "case-ineligible", " ".join(e.explanation for e in deciding), case_id=case.id,
                   rule_set=view.rule_set, rules=[e.model_dump() for e in deciding], language=lang)


def _add_participants(session: AsyncSession, case: Case, filing: CaseFiling,
                      personal_vault: personal.Vault) -> list[Participant]:
    people: list[Participant] = []

    def add(details: personal.PersonalDetails, *, procedural_role: str | None = None, **kw) -> Participant:
        p = Participant(id=str(uuid.uuid4()), case_id=case.id, position=len(people), procedural_role=procedural_role,
                        **kw)
        personal.seal(personal_vault, p, details)
        people.append(p)
        session.add(p)
        return p

    parties = filing.parties or []
    for side in cases.SIDES:
        if not any(p.party_side == side for p in parties):  # minimal filings: an unnamed party per side
            add(personal.PersonalDetails(), procedural_role=cases.default_procedural_role(case.category, side), side=side,
                role="party", kind="natural_person", language=case.language, legal_capacity="full")
    for party in parties:
        main = add(personal.PersonalDetails(
            name=party.name, id_number=party.id_number, members=list(party.members),
            accessibility={"needs": list(party.accessibility_needs), "note": party.accessibility_note},
            contact=party.contact.model_dump(exclude_none=True) if party.contact else {}),
            procedural_role=party.procedural_role, side=party.party_side, role="party", kind=party.kind,
            legal_capacity=party.legal_capacity, language=party.language)
        # a legal representative acts for the party as a representative does (notices, room, signature)
        for role, procedural_role, persons in (
                ("representative", None, party.representatives),
                ("representative", "legal_representative", party.legal_representatives),
                ("interpreter", None, party.interpreters), ("support_person", None, party.support_persons)):
            for person in persons:
                add(personal.PersonalDetails(
                    name=person.name, id_number=person.id_number, organisation=person.organisation,
                    contact=person.contact.model_dump(exclude_none=True) if person.contact else {}),
                    procedural_role=procedural_role, side=party.party_side, role=role, kind="natural_person", represents_id=main.id, legal_capacity="full",
                    language=person.language or party.language)
    # the first party of each side speaks for that side (consent, screening, signature)
    people.sort(key=lambda p: (p.role != "party", p.position))
    return people


async def file_case(uow: UnitOfWork, *, filing: CaseFiling, filed_by: str, idempotency_key: str | None,
                    personal_vault: personal.Vault, court_id: str | None = None,
                    referred_by: ReferringBody | None = None,
                    key: X25519PublicKey | None = None) -> tuple[CaseView, bool]:
    """File (or, for a court, refer) a case. The same idempotency key from the same filer returns
    the case filed the first time instead of a second case. Returns (case, created).

    The eligibility rules run at once: an ineligible case is recorded (with the rule-set version and
    the rules that fired), closed, and refused with a 422 problem that cites the law in the filer's
    language. A party who files consents to mediation by doing so; a court cannot consent for the
    parties (Law No. 401-IV Art. 20(3)), so both sides of a referral are invited. A prosecutor or an
    investigator (``referred_by``) refers criminal cases only. With ``key`` (notifications'), the
    others on the filer's side with an email address get links of their own (``reach.welcome``)."""
    rs = eligibility.current(filing.jurisdiction)
    lang = filing.language or next((p.language for p in filing.parties if p.party_side == "claimant"), "ru")
    if court_id is not None and referred_by in ("prosecutor", "investigator") and filing.category != "criminal":
        raise Problem(422, "referral-not-criminal", f"a {referred_by} refers criminal cases only",
                      referred_by=referred_by)
    if idempotency_key:
        existing = (await uow.session.execute(
            select(Case).where(Case.filed_by == filed_by, Case.idempotency_key == idempotency_key)
        )).scalar_one_or_none()
        if existing is not None:
            if existing.eligibility == "ineligible" and existing.status == "ineligible":
                raise _ineligible_problem(existing, lang)
            return cases.view(existing, await cases.people(uow.session, existing.id, personal_vault)), False
    if court_id is None and filing.consent_text_version not in (None, rs.consent_text.version):
        raise Problem(422, "consent-text-outdated", "the consent text has changed; read the current one and file again",
                      current_version=rs.consent_text.version)
    now = cases.utcnow()
    facts = filing.rule_facts()
    decision = eligibility.evaluate_case(rs, facts)
    reference = await references.next_reference(uow.session, jurisdiction=filing.jurisdiction, filed_at=now,
                                                time_zone=rs.time_zone)
    case = Case(
        id=str(uuid.uuid4()), reference=reference, jurisdiction=filing.jurisdiction, category=filing.category, status="filed",
        court_id=court_id,
        docket_number=filing.docket_number if isinstance(filing, CourtReferral) else None,
        referred_by=(referred_by or "court") if court_id else None,
        criminal_case_number=filing.criminal_case_number if isinstance(filing, CourtReferral) else None,
        legal_effect=decision.legal_effect,
        filed_by=filed_by, idempotency_key=idempotency_key, filed_at=now, language=lang, facts=facts,
        rule_set=decision.rule_set, eligibility=decision.outcome, rules_fired=decision.rules_fired,
        amount=str(filing.amount.value) if filing.amount else None,
        currency=filing.amount.currency if filing.amount else None, safeguards=[], updated_at=now,
    )
    personal.seal_description(personal_vault, case, filing.description)
    uow.session.add(case)
    uow.session.add(CaseTransition(case_id=case.id, from_status=None, to_status="filed",
                                   operation="referred" if court_id else "filed", reason=None, actor=filed_by, at=now))
    uow.session.add(EligibilityDecision(id=str(uuid.uuid4()), case_id=case.id, rule_set=decision.rule_set,
                                        outcome=decision.outcome, rules_fired=decision.rules_fired,
                                        decided_by="rules", decided_at=now))
    people = _add_participants(uow.session, case, filing, personal_vault)
    claimant = cases.principal_party(people, "claimant")
    uow.publish(CaseFiled(case_id=case.id, reference=case.reference, jurisdiction=case.jurisdiction,
                          category=case.category, court_id=court_id, filed_at=case.filed_at,
                          claimant_participant_id=claimant.id, claimant_language=claimant.language,
                          referred_by=case.referred_by, time_zone=rs.time_zone,
                          legal_effect=LegalEffect(**case.legal_effect) if case.legal_effect else None))
    if decision.outcome == "ineligible":
        await cases.close(uow, case, "rules_ineligible", "ineligible", actor="rules", reason=",".join(decision.rules_fired),
                    now=now)
        await uow.commit()
        raise _ineligible_problem(case, lang)
    if court_id is None:
        uow.session.add(Consent(id=str(uuid.uuid4()), case_id=case.id, side="claimant", participant_id=claimant.id,
                                decision="consented", text_version=rs.consent_text.version, via="filing",
                                recorded_at=now))
        uow.publish(ConsentRecorded(case_id=case.id, participant_id=claimant.id, decision="consented",
                                    text_version=rs.consent_text.version))
        if key is not None:
            reach.welcome(uow, key, case=case, people=people, side="claimant", now=now, created_by=filed_by)
    await uow.commit()
    return cases.view(case, people), True


def filer_token(tokens: TokenService, case: CaseView) -> str:
    claimant = next(p for p in case.participants if p.side == "claimant" and p.role == "party")
    return cases.party_token(tokens, case_id=case.id, participant_id=claimant.id, side="claimant")
