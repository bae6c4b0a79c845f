"""The case every intake use case works on: how it changes status, who may see it, and how it is
shown. The other modules (filing, consent, screening, register, proposals, mediation, deadlines,
events) are plain functions over a unit of work that build on these: routes stay thin and tests
call them directly. Every status change goes through ``move`` (the state machine plus the audit
trail), and every step publishes its event in the same transaction.

Confidentiality: names, descriptions and screening answers are never logged, never put in events
and never returned to anyone but those entitled to them; at rest they are sealed (``personal``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, TokenService
from shared.contracts.intake import CaseClosed
from shared.clock import utcnow
from shared.problems import Forbidden, NotFound
from shared.uow import UnitOfWork

from . import deadlines, eligibility, personal, sittings, states  # these import cases back: used at call time only
from .models import AccessLink, AgreementSignature, Case, CaseTransition, Consent, MediatorProposal, Participant, Screening
from .schemas import (CaseProgress, CaseView, EligibilityView, LegalEffectView, ParticipantView, RuleExplanation,
                      TransitionView)

SIDES = ("claimant", "respondent")
# In a criminal case the sides are the victim's and the suspect's (or accused's).
CRIMINAL_ROLES = {"claimant": "victim", "respondent": "suspect"}


def default_procedural_role(category: str, side: str) -> str | None:
    return CRIMINAL_ROLES[side] if category == "criminal" else None


# -- state machine and audit trail ---------------------------------------------------------------


def move(sink, case: Case, operation: str, *, actor: str, reason: str | None = None, now: datetime | None = None) -> None:
    """The only way a case changes status: a legal transition (else 409) with a line in the audit trail.
    ``sink`` is what a use case changes a case through: a request's unit of work, or the one an
    event handler reaches through ``shared.uow.unit_of_work_of``."""
    target = states.next_status(case.status, operation)
    now = now or utcnow()
    sink.session.add(CaseTransition(case_id=case.id, from_status=case.status, to_status=target, operation=operation,
                                    reason=reason, actor=actor, at=now))
    case.status = target
    case.updated_at = now


async def close(sink, case: Case, operation: str, outcome: str, *, actor: str, reason: str | None = None,
                now: datetime | None = None) -> None:
    """A move to a final status. The case's sittings go with it (``sittings.cancel_all``), their
    cancellations published before ``CaseClosed``."""
    now = now or utcnow()
    move(sink, case, operation, actor=actor, reason=reason, now=now)
    case.outcome = outcome
    await sittings.cancel_all(sink, case, now=now)
    sink.publish(CaseClosed(case_id=case.id, outcome=outcome))


# -- reading and access --------------------------------------------------------------------------


async def load(session: AsyncSession, case_id: str) -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise NotFound("the case")
    return case


async def participants(session: AsyncSession, case_id: str) -> list[Participant]:
    return list((await session.execute(
        select(Participant).where(Participant.case_id == case_id).order_by(Participant.position)
    )).scalars())


async def people(session: AsyncSession, case_id: str, personal_vault: personal.Vault) -> list[Participant]:
    """The participants with who they are opened (``personal.open_people``): for views and the
    conflict-of-interest check, the only code that reads names and numbers."""
    return personal.open_people(personal_vault, await participants(session, case_id))


def principal_party(people: list[Participant], side: str) -> Participant:
    return next(p for p in people if p.side == side and p.role == "party")


# How many closed cases a mediator's token still reaches, newest first: enough to come back to the
# recent ones, few enough that a long career does not grow every token (and header) without end.
MEDIATED_CASES_IN_TOKEN = 50


async def assigned_cases(session: AsyncSession, mediator_id: str) -> list[str]:
    """What a mediator's token is scoped to: the open cases assigned to them now, and the latest
    cases they mediated to the end (settled or terminated, not yet shredded), so that a mediator
    signing in after the close still reads the case's agreement and downloads the signed PDF from
    the other services, as the parties do through their sign-in links (nothing in a closed case
    changes any more). Intake itself lets the case's mediator in whatever the scope."""
    open_now = list((await session.execute(select(Case.id).where(
        Case.mediator_id == mediator_id, Case.status.in_(sorted(states.OPEN))))).scalars())
    mediated = list((await session.execute(select(Case.id).where(
        Case.mediator_id == mediator_id, Case.status.in_(("settled", "terminated")), Case.shredded_at.is_(None))
        .order_by(Case.updated_at.desc()).limit(MEDIATED_CASES_IN_TOKEN))).scalars())
    return open_now + mediated


def party_token(tokens: TokenService, *, case_id: str, participant_id: str, side: str) -> str:
    """A party's token: scoped to one case and side; its subject is the participant id that events
    (and so the sessions rooms) know the party by."""
    return tokens.issue(subject=participant_id, role="party", cases=[case_id], party_side=side)


def participant_token(tokens: TokenService, participant: Participant) -> str:
    """The token of anyone on a side (a party, a representative, an interpreter, a support person):
    scoped to the case and side, its subject is their own participant id (what the sessions room
    knows them by), and it says what they are and which party they are with (``shared.auth``)."""
    return tokens.issue(subject=participant.id, role="party", cases=[participant.case_id], party_side=participant.side,
                        acting=participant.role, acting_for=participant.represents_id)


async def _has_open_proposal_for(session: AsyncSession, case_id: str, mediator_id: str) -> bool:
    return (await session.execute(select(MediatorProposal.id).where(
        MediatorProposal.case_id == case_id, MediatorProposal.mediator_id == mediator_id,
        MediatorProposal.status == "open"))).first() is not None


async def access(session: AsyncSession, case_id: str, principal: Principal, *,
                 to_act: bool = False) -> tuple[Case, str]:
    """The case and how the caller relates to it: 'party', 'mediator', 'proposed_mediator', 'court'
    or 'admin'. 404 when the case is absent or not theirs (no difference, so nothing leaks).

    Everyone on a side (party, representative, interpreter, support person) relates as 'party' and
    reads what the side reads; ``to_act`` (consenting, accepting, answering, signing for a party)
    refuses with 403 those who only assist a party (``Principal.may_act``): an interpreter
    translates and a support person accompanies, neither decides for the party."""
    case = await session.get(Case, case_id)
    if case is not None:
        if principal.role == "party" and case.id in principal.cases and principal.party_side in SIDES:
            if to_act and not principal.may_act:
                what = "a support person" if principal.acting == "support_person" else f"an {principal.acting}"
                raise Forbidden(f"{what} takes part in the mediation but does not consent, accept or sign for a "
                                "party; the party or its representative does")
            return case, "party"
        if principal.role == "mediator":
            if case.mediator_id == principal.subject:
                return case, "mediator"
            if await _has_open_proposal_for(session, case.id, principal.subject):
                return case, "proposed_mediator"
        if principal.role == "court" and case.court_id is not None and case.court_id == principal.court:
            return case, "court"
        if principal.role == "admin":
            return case, "admin"
    raise NotFound("the case")


# -- views ---------------------------------------------------------------------------------------


def explain(rule_set_ref: str | None, outcome: str | None, fired: list[str], lang: str) -> EligibilityView | None:
    if not rule_set_ref or not outcome:
        return None
    rs = eligibility.by_ref(rule_set_ref)
    explained = []
    for rid in fired:
        rule = rs.rule(rid)
        if rule is not None:
            explained.append(RuleExplanation(rule=rid, outcome=rule.outcome, citation=rule.citation.get(lang),
                                             explanation=rule.explanation.get(lang)))
    explained.sort(key=lambda r: r.outcome != outcome)
    return EligibilityView(outcome=outcome, rule_set=rule_set_ref, rules_fired=list(fired), explanation=explained)


def viewer_language(case: Case, people: list[Participant], principal: Principal | None,
                    asked: str | None = None) -> str:
    """The language to explain things in: the one the reader asked for (their page's language),
    else the reader's own (anyone on a side), else their side's first party's, else the case's."""
    if asked:
        return asked
    if principal is not None and principal.role == "party" and principal.party_side in SIDES:
        own = next((p for p in people if p.id == principal.subject), None)  # a co-party, representative, interpreter
        if own is not None:
            return own.language
        try:
            return principal_party(people, principal.party_side).language
        except StopIteration:
            pass
    return case.language


# Who reads who the people are (IIN/BIN, firm) and what the dispute is about: the mediator must
# see them before declaring impartiality (conflict of interest), and drafts the agreement with them.
BRIEFED = ("mediator", "proposed_mediator", "admin")


def view(case: Case, people: list[Participant], principal: Principal | None = None,
         relation: str = "party", *, lang: str | None = None, description: str | None = None) -> CaseView:
    lang = viewer_language(case, people, principal, lang)
    sees_safety = relation in ("mediator", "admin")
    briefed = relation in BRIEFED
    return CaseView(
        id=case.id, reference=case.reference, jurisdiction=case.jurisdiction, category=case.category,
        status=case.status, court_id=case.court_id, docket_number=case.docket_number, referred_by=case.referred_by,
        criminal_case_number=case.criminal_case_number,
        legal_effect=LegalEffectView(code=case.legal_effect["code"],
                                     article=case.legal_effect["article"].get(lang) or case.legal_effect["article"]["ru"])
        if case.legal_effect else None,
        filed_at=case.filed_at, language=case.language,
        eligibility=explain(case.rule_set, case.eligibility, case.rules_fired or [], lang),
        participants=[ParticipantView(id=p.id, side=p.side, role=p.role, procedural_role=p.procedural_role, kind=p.kind,
                                      name=p.name, language=p.language,
                                      accessibility_needs=(p.accessibility or {}).get("needs", []),
                                      represents_id=p.represents_id,
                                      id_number=p.id_number if briefed else None,
                                      organisation=p.organisation if briefed else None)
                      for p in people],
        mediator_id=case.mediator_id, term_starts_on=case.term_starts_on, term_ends_on=case.term_ends_on,
        outcome=case.outcome, allowed_operations=states.allowed_operations(case.status),
        safety=case.safety if sees_safety else None, safeguards=list(case.safeguards or []) if sees_safety else None,
        description=description if briefed else None,
    )


async def get_case(uow: UnitOfWork, *, case_id: str, principal: Principal, personal_vault: personal.Vault,
                   lang: str | None = None) -> CaseView:
    case, relation = await access(uow.session, case_id, principal)
    description = personal.open_description(personal_vault, case) if relation in BRIEFED else None
    shown = view(case, await people(uow.session, case.id, personal_vault), principal, relation, lang=lang,
                 description=description)
    shown.progress = await progress(uow.session, case)
    return shown


async def progress(session: AsyncSession, case: Case) -> CaseProgress:
    """Who has done which step, so the case page can say what is done and what is whose to do now
    without a request per step (and without guessing from the status, which moves only once
    every party has done it). Each step is each party's own: the ``*_parties`` lists say which
    parties did it, the ``*_sides`` ones which sides every party of which did."""
    answer_by = None
    if case.status == "awaiting_consent":
        answer_by = (await session.execute(select(AccessLink.expires_at).where(
            AccessLink.case_id == case.id, AccessLink.purpose == "invitation", AccessLink.used_at.is_(None),
            AccessLink.expires_at > utcnow()).order_by(AccessLink.expires_at.desc()).limit(1))).scalar_one_or_none()
    people = await participants(session, case.id)
    slots = set(await signed_slots(session, case))
    signed_parties = {s.split(":", 1)[1] for s in slots if ":" in s}
    consented = await consented_parties(session, case.id)
    screened = set((await session.execute(select(Screening.participant_id).where(
        Screening.case_id == case.id))).scalars())
    return CaseProgress(time_zone=eligibility.by_ref(case.rule_set).time_zone,
                        consented_sides=[s for s in SIDES if side_consented(people, consented, s)],
                        consented_parties=sorted(consented),
                        screened_sides=[s for s in SIDES if side_consented(people, screened, s)],
                        screened_parties=sorted(screened), answer_by=answer_by,
                        co_parties_answer_by=await deadlines.co_parties_answer_by(session, case, people),
                        agreement_to_mediate_signed_by=[s for s in SIDES if side_consented(people, signed_parties, s)]
                        + (["mediator"] if "mediator" in slots else []),
                        agreement_to_mediate_signed_parties=sorted(signed_parties))


async def signed_slots(session: AsyncSession, case: Case) -> list[str]:
    """The agreement to mediate's signatures for the current mediator, by slot: ``mediator`` and
    ``<side>:<party id>`` (a representative signs in its party's slot)."""
    if not case.mediator_id:
        return []
    return sorted((await session.execute(select(AgreementSignature.signer).where(
        AgreementSignature.case_id == case.id, AgreementSignature.mediator_id == case.mediator_id))).scalars())


async def consented_parties(session: AsyncSession, case_id: str) -> set[str]:
    """The parties (participant ids) who have agreed to mediate."""
    return set((await session.execute(select(Consent.participant_id).where(
        Consent.case_id == case_id, Consent.decision == "consented"))).scalars())


def side_consented(people: list[Participant], consented: set[str], side: str) -> bool:
    """A side has agreed to mediate (or answered the screening, or signed) when every party on it
    has (itself or by its representative): consent is each party's own (Law No. 401-IV Art. 4,
    voluntariness); co-claimants and co-respondents each decide for themselves."""
    parties = [p.id for p in people if p.side == side and p.role == "party"]
    return bool(parties) and set(parties) <= consented


async def case_history(uow: UnitOfWork, *, case_id: str, principal: Principal) -> list[TransitionView]:
    case, _ = await access(uow.session, case_id, principal)
    rows = (await uow.session.execute(
        select(CaseTransition).where(CaseTransition.case_id == case.id).order_by(CaseTransition.id))).scalars()
    return [TransitionView(from_status=t.from_status, to_status=t.to_status, operation=t.operation, reason=t.reason,
                           actor=t.actor, at=t.at) for t in rows]
