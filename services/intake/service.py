"""Intake use cases. Plain functions over a unit of work: routes stay thin and tests call these
directly. Every status change goes through ``_move`` (the state machine plus the audit trail), and
every step publishes its event in the same transaction.

Confidentiality: names, descriptions and screening answers are never logged, never put in events
and never returned to anyone but those entitled to them.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, TokenService, hash_secret, new_client_secret, verify_secret
from shared.contracts.intake import (CaseClosed, CaseFiled, CaseScreened, ConsentRecorded, MediationAgreed,
                                     MediationTermExtended, MediatorAssigned, MediatorProposed, MediatorRecused,
                                     Participant as EventParticipant, RespondentInvited, ScreeningRequested)
from shared.crypto import Sealed
from shared.events import Event
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.uow import UnitOfWork

from . import eligibility, register, screening, states, totp
from .models import (AccessLink, Account, AgreementSignature, Case, CaseTransition, Consent, CourtClient,
                     EligibilityDecision, Mediator, MediatorProposal, Participant, Screening, TermExtension,
                     TotpFactor)
from .schemas import (AccountCreate, AccountCreated, AgreementToMediateView, Candidate, CaseFacts, CaseFiling,
                      CaseView, ConsentView, CourtClientCreate, CourtClientCreated, CourtReferral, DryRun,
                      EligibilityReview, EligibilityView, Extension, InvitationAnswer, InvitationAnswered,
                      InvitationCreated, InvitationView, MediatorCreate, MediatorDecision, MediatorProfile,
                      MediatorView, ParticipantView, ProposalView, RuleExplanation, ScreeningAnswers,
                      ScreeningReceived, ScreeningReport, SignInLinkCreated, Termination, TransitionView)

log = logging.getLogger("odr.intake")
SIDES = ("claimant", "respondent")
SIGN_IN_LINK_TTL = timedelta(minutes=30)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Sink:
    """What a use case needs to change a case: a session and a way to publish. A request's unit of
    work is one; an event handler reaches its own through ``shared.uow.unit_of_work_of``."""

    session: AsyncSession

    def publish(self, evt: Event) -> Any: ...


# -- state machine and audit trail ---------------------------------------------------------------


def _move(sink, case: Case, operation: str, *, actor: str, reason: str | None = None, now: datetime | None = None) -> None:
    """The only way a case changes status: a legal transition (else 409) with a line in the audit trail."""
    target = states.next_status(case.status, operation)
    now = now or _now()
    sink.session.add(CaseTransition(case_id=case.id, from_status=case.status, to_status=target, operation=operation,
                                    reason=reason, actor=actor, at=now))
    case.status = target
    case.updated_at = now


def _close(sink, case: Case, operation: str, outcome: str, *, actor: str, reason: str | None = None,
           now: datetime | None = None) -> None:
    _move(sink, case, operation, actor=actor, reason=reason, now=now)
    case.outcome = outcome
    sink.publish(CaseClosed(case_id=case.id, outcome=outcome))


# -- reading and access --------------------------------------------------------------------------


async def _case(session: AsyncSession, case_id: str) -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise NotFound("the case")
    return case


async def _participants(session: AsyncSession, case_id: str) -> list[Participant]:
    return list((await session.execute(
        select(Participant).where(Participant.case_id == case_id).order_by(Participant.position)
    )).scalars())


def _principal_party(participants: list[Participant], side: str) -> Participant:
    return next(p for p in participants if p.side == side and p.role == "party")


def party_token(tokens: TokenService, *, case_id: str, participant_id: str, side: str) -> str:
    """A party's token: scoped to one case and side; its subject is the participant id that events
    (and so the sessions rooms) know the party by."""
    return tokens.issue(subject=participant_id, role="party", cases=[case_id], party_side=side)


def filer_token(tokens: TokenService, case: CaseView) -> str:
    claimant = next(p for p in case.participants if p.side == "claimant" and p.role == "party")
    return party_token(tokens, case_id=case.id, participant_id=claimant.id, side="claimant")


async def _has_open_proposal_for(session: AsyncSession, case_id: str, mediator_id: str) -> bool:
    return (await session.execute(select(MediatorProposal.id).where(
        MediatorProposal.case_id == case_id, MediatorProposal.mediator_id == mediator_id,
        MediatorProposal.status == "open"))).first() is not None


async def _access(session: AsyncSession, case_id: str, principal: Principal) -> tuple[Case, str]:
    """The case and how the caller relates to it: 'party', 'mediator', 'proposed_mediator', 'court'
    or 'admin'. 404 when the case is absent or not theirs (no difference, so nothing leaks)."""
    case = await session.get(Case, case_id)
    if case is not None:
        if principal.role == "party" and case.id in principal.cases and principal.party_side in SIDES:
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


def _explain(rule_set_ref: str | None, outcome: str | None, fired: list[str], lang: str) -> EligibilityView | None:
    if not rule_set_ref or not outcome:
        return None
    rs = eligibility.by_ref(rule_set_ref)
    explained = []
    for rid in fired:
        rule = rs.rule(rid)
        if rule is not None:
            explained.append(RuleExplanation(rule=rid, outcome=rule.outcome, citation=rule.citation,
                                             explanation=rule.explanation.get(lang)))
    explained.sort(key=lambda r: r.outcome != outcome)
    return EligibilityView(outcome=outcome, rule_set=rule_set_ref, rules_fired=list(fired), explanation=explained)


def _viewer_language(case: Case, participants: list[Participant], principal: Principal | None) -> str:
    if principal is not None and principal.role == "party" and principal.party_side in SIDES:
        try:
            return _principal_party(participants, principal.party_side).language
        except StopIteration:
            pass
    return case.language


def _view(case: Case, participants: list[Participant], principal: Principal | None = None,
          relation: str = "party") -> CaseView:
    lang = _viewer_language(case, participants, principal)
    sees_safety = relation in ("mediator", "admin")
    return CaseView(
        id=case.id, jurisdiction=case.jurisdiction, category=case.category, status=case.status,
        court_id=case.court_id, docket_number=case.docket_number, filed_at=case.filed_at, language=case.language,
        eligibility=_explain(case.rule_set, case.eligibility, case.rules_fired or [], lang),
        participants=[ParticipantView(id=p.id, side=p.side, role=p.role, kind=p.kind, name=p.name, language=p.language,
                                      accessibility_needs=(p.accessibility or {}).get("needs", []))
                      for p in participants],
        mediator_id=case.mediator_id, term_starts_on=case.term_starts_on, term_ends_on=case.term_ends_on,
        outcome=case.outcome, allowed_operations=states.allowed_operations(case.status),
        safety=case.safety if sees_safety else None, safeguards=list(case.safeguards or []) if sees_safety else None,
    )


async def get_case(uow: UnitOfWork, *, case_id: str, principal: Principal) -> CaseView:
    case, relation = await _access(uow.session, case_id, principal)
    return _view(case, await _participants(uow.session, case.id), principal, relation)


async def case_history(uow: UnitOfWork, *, case_id: str, principal: Principal) -> list[TransitionView]:
    case, _ = await _access(uow.session, case_id, principal)
    rows = (await uow.session.execute(
        select(CaseTransition).where(CaseTransition.case_id == case.id).order_by(CaseTransition.id))).scalars()
    return [TransitionView(from_status=t.from_status, to_status=t.to_status, operation=t.operation, reason=t.reason,
                           actor=t.actor, at=t.at) for t in rows]


async def consents(uow: UnitOfWork, *, case_id: str, principal: Principal) -> list[ConsentView]:
    case, _ = await _access(uow.session, case_id, principal)
    rows = (await uow.session.execute(select(Consent).where(Consent.case_id == case.id)
                                      .order_by(Consent.recorded_at))).scalars()
    return [ConsentView(side=c.side, participant_id=c.participant_id, decision=c.decision, text_version=c.text_version,
                        via=c.via, recorded_at=c.recorded_at) for c in rows]


# -- filing ----------------------------------------------------------------------------------------


def dry_run(*, facts: CaseFacts, lang: str) -> DryRun:
    """Evaluate a hypothetical case against the current rule set; nothing is stored."""
    rs = eligibility.current(facts.jurisdiction)
    decision = eligibility.evaluate_case(rs, facts.rule_facts())
    return DryRun(outcome=decision.outcome, rule_set=decision.rule_set, rules_fired=decision.rules_fired,
                  explanation=[RuleExplanation(**e) for e in decision.explain(lang)])


def _ineligible_problem(case: Case, lang: str) -> Problem:
    view = _explain(case.rule_set, case.eligibility, case.rules_fired or [], lang)
    deciding = [e for e in view.explanation if e.outcome == "ineligible"]
    return Problem(422, "case-ineligible", " ".join(e.explanation for e in deciding), case_id=case.id,
                   rule_set=view.rule_set, rules=[e.model_dump() for e in deciding], language=lang)


def _add_participants(session: AsyncSession, case: Case, filing: CaseFiling) -> list[Participant]:
    people: list[Participant] = []

    def add(**kw) -> Participant:
        p = Participant(id=str(uuid.uuid4()), case_id=case.id, position=len(people), **kw)
        people.append(p)
        session.add(p)
        return p

    parties = filing.parties or []
    for side in SIDES:
        if not any(p.side == side for p in parties):  # minimal filings: an unnamed party per side
            add(side=side, role="party", kind="natural_person", name=None, language=case.language,
                legal_capacity="full", accessibility={}, contact={}, members=[])
    for party in parties:
        main = add(side=party.side, role="party", kind=party.kind, name=party.name, id_number=party.id_number,
                   legal_capacity=party.legal_capacity, language=party.language, members=list(party.members),
                   accessibility={"needs": list(party.accessibility_needs), "note": party.accessibility_note},
                   contact=party.contact.model_dump(exclude_none=True) if party.contact else {})
        for role, persons in (("representative", party.representatives), ("interpreter", party.interpreters),
                              ("support_person", party.support_persons)):
            for person in persons:
                add(side=party.side, role=role, kind="natural_person", name=person.name, id_number=person.id_number,
                    organisation=person.organisation, represents_id=main.id, legal_capacity="full",
                    language=person.language or party.language, accessibility={}, members=[],
                    contact=person.contact.model_dump(exclude_none=True) if person.contact else {})
    # the first party of each side speaks for that side (consent, screening, signature)
    people.sort(key=lambda p: (p.role != "party", p.position))
    return people


async def file_case(uow: UnitOfWork, *, filing: CaseFiling, filed_by: str, idempotency_key: str | None,
                    court_id: str | None = None) -> tuple[CaseView, bool]:
    """File (or, for a court, refer) a case. The same idempotency key from the same filer returns
    the case filed the first time instead of a second case. Returns (case, created).

    The eligibility rules run at once: an ineligible case is recorded (with the rule-set version and
    the rules that fired), closed, and refused with a 422 problem that cites the law in the filer's
    language. A party who files consents to mediation by doing so; a court cannot consent for the
    parties (Law No. 401-IV Art. 20(3)), so both sides of a referral are invited."""
    rs = eligibility.current(filing.jurisdiction)
    lang = filing.language or next((p.language for p in filing.parties if p.side == "claimant"), "ru")
    if idempotency_key:
        existing = (await uow.session.execute(
            select(Case).where(Case.filed_by == filed_by, Case.idempotency_key == idempotency_key)
        )).scalar_one_or_none()
        if existing is not None:
            if existing.eligibility == "ineligible" and existing.status == "ineligible":
                raise _ineligible_problem(existing, lang)
            return _view(existing, await _participants(uow.session, existing.id)), False
    if court_id is None and filing.consent_text_version not in (None, rs.consent_text.version):
        raise Problem(422, "consent-text-outdated", "the consent text has changed; read the current one and file again",
                      current_version=rs.consent_text.version)
    now = _now()
    facts = filing.rule_facts()
    decision = eligibility.evaluate_case(rs, facts)
    case = Case(
        id=str(uuid.uuid4()), jurisdiction=filing.jurisdiction, category=filing.category, status="filed",
        description=filing.description, court_id=court_id,
        docket_number=filing.docket_number if isinstance(filing, CourtReferral) else None,
        filed_by=filed_by, idempotency_key=idempotency_key, filed_at=now, language=lang, facts=facts,
        rule_set=decision.rule_set, eligibility=decision.outcome, rules_fired=decision.rules_fired,
        amount=str(filing.amount.value) if filing.amount else None,
        currency=filing.amount.currency if filing.amount else None, safeguards=[], updated_at=now,
    )
    uow.session.add(case)
    uow.session.add(CaseTransition(case_id=case.id, from_status=None, to_status="filed",
                                   operation="referred" if court_id else "filed", reason=None, actor=filed_by, at=now))
    uow.session.add(EligibilityDecision(id=str(uuid.uuid4()), case_id=case.id, rule_set=decision.rule_set,
                                        outcome=decision.outcome, rules_fired=decision.rules_fired,
                                        decided_by="rules", decided_at=now))
    people = _add_participants(uow.session, case, filing)
    uow.publish(CaseFiled(case_id=case.id, jurisdiction=case.jurisdiction, category=case.category,
                          court_id=court_id, filed_at=case.filed_at))
    if decision.outcome == "ineligible":
        _close(uow, case, "rules_ineligible", "ineligible", actor="rules", reason=",".join(decision.rules_fired), now=now)
        await uow.commit()
        raise _ineligible_problem(case, lang)
    if court_id is None:
        claimant = _principal_party(people, "claimant")
        uow.session.add(Consent(id=str(uuid.uuid4()), case_id=case.id, side="claimant", participant_id=claimant.id,
                                decision="consented", text_version=rs.consent_text.version, via="filing",
                                recorded_at=now))
        uow.publish(ConsentRecorded(case_id=case.id, participant_id=claimant.id, decision="consented",
                                    text_version=rs.consent_text.version))
    await uow.commit()
    return _view(case, people), True


# -- invitations, consent and sign-in links ----------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def answer_deadline(now: datetime, *, days: int, time_zone: str) -> datetime:
    """End of the last calendar day of the answer window in the case's time zone (the day of the
    invitation does not count): Kazakhstan, 10 calendar days (Law No. 401-IV Art. 20(6))."""
    tz = ZoneInfo(time_zone)
    last_day = now.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=tz).astimezone(timezone.utc)


def local_today(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


async def _consent_of(session: AsyncSession, case_id: str, side: str) -> Consent | None:
    return (await session.execute(select(Consent).where(Consent.case_id == case_id, Consent.side == side))
            ).scalar_one_or_none()


async def invite(uow: UnitOfWork, *, case_id: str, side: str, principal: Principal,
                 now: datetime | None = None) -> tuple[InvitationCreated, str]:
    """Invite a side by a one-time link with the jurisdiction's answer window. The claimant invites
    the respondent; a court invites both sides of its referral. Returns (invitation, raw token):
    the token is shown once and only its hash is stored."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation == "party" and not (principal.party_side == "claimant" and side == "respondent"):
        raise Forbidden("the claimant invites the respondent; a party cannot invite their own side")
    if relation not in ("party", "court", "admin"):
        raise Forbidden("only the claimant, the referring court or an administrator can invite")
    if await _consent_of(uow.session, case.id, side) is not None:
        raise Conflict("already-answered", f"the {side} has already answered")
    now = now or _now()
    rs = eligibility.by_ref(case.rule_set)
    _move(uow, case, "invite", actor=principal.subject, reason=side, now=now)
    await uow.session.execute(update(AccessLink).where(  # a new link replaces an unanswered one
        AccessLink.case_id == case.id, AccessLink.side == side, AccessLink.purpose == "invitation",
        AccessLink.used_at.is_(None)).values(expires_at=now))
    token = secrets.token_urlsafe(32)
    answer_by = answer_deadline(now, days=rs.answer_window_days, time_zone=rs.time_zone)
    link = AccessLink(id=str(uuid.uuid4()), token_hash=_hash(token), case_id=case.id, side=side, purpose="invitation",
                      created_by=principal.subject, created_at=now, expires_at=answer_by)
    uow.session.add(link)
    invitee = _principal_party(await _participants(uow.session, case.id), side)
    uow.publish(RespondentInvited(case_id=case.id, invitation_id=link.id, respondent_participant_id=invitee.id,
                                  language=invitee.language, answer_by=answer_by))
    await uow.commit()
    return InvitationCreated(invitation_id=link.id, side=side, answer_by=answer_by, link_token=token, link=""), token


async def _link(session: AsyncSession, token: str, purpose: str, now: datetime) -> AccessLink:
    link = (await session.execute(select(AccessLink).where(AccessLink.token_hash == _hash(token)))).scalar_one_or_none()
    if link is None or link.purpose != purpose:
        raise NotFound("the link")
    if link.used_at is not None:
        raise Problem(410, "link-used", "this link has already been used")
    if link.expires_at <= now:
        raise Problem(410, "link-expired", "this link has expired")
    return link


async def view_invitation(uow: UnitOfWork, *, token: str, lang: str | None = None) -> InvitationView:
    link = await _link(uow.session, token, "invitation", _now())
    case = await _case(uow.session, link.case_id)
    invitee = _principal_party(await _participants(uow.session, case.id), link.side)
    rs = eligibility.by_ref(case.rule_set)
    lang = lang or invitee.language
    return InvitationView(case_id=case.id, jurisdiction=case.jurisdiction, category=case.category, side=link.side,
                          answer_by=link.expires_at, consent_text_version=rs.consent_text.version,
                          consent_text=rs.consent_text.get(lang), answer_window_citation=rs.answer_window_citation)


async def answer_invitation(uow: UnitOfWork, *, token: str, answer: InvitationAnswer, tokens: TokenService,
                            now: datetime | None = None) -> InvitationAnswered:
    """Consent or decline, recorded once (who, when, which text). Declining closes the case as
    declined; when every side has consented the case moves to screening."""
    now = now or _now()
    try:
        link = await _link(uow.session, token, "invitation", now)
    except Problem as exc:
        if exc.code == "link-expired":  # silence past the window is a refusal (Art. 20(6))
            await expire_invitations(uow, now=now)
        raise
    case = await _case(uow.session, link.case_id)
    rs = eligibility.by_ref(case.rule_set)
    if answer.text_version != rs.consent_text.version:
        raise Problem(422, "consent-text-outdated", "answer to the current consent text",
                      current_version=rs.consent_text.version)
    if not states.can(case.status, "decline"):
        raise Conflict("illegal-transition", f"a case that is {case.status} no longer takes answers",
                       case_status=case.status)
    people = await _participants(uow.session, case.id)
    invitee = _principal_party(people, link.side)
    if answer.language:
        invitee.language = answer.language
    link.used_at = now
    decision = "consented" if answer.decision == "consent" else "declined"
    uow.session.add(Consent(id=str(uuid.uuid4()), case_id=case.id, side=link.side, participant_id=invitee.id,
                            decision=decision, text_version=answer.text_version, via="invitation", recorded_at=now))
    uow.publish(ConsentRecorded(case_id=case.id, participant_id=invitee.id, decision=decision,
                                text_version=answer.text_version))
    access = None
    actor = f"{link.side}:{case.id}"
    if decision == "declined":
        _close(uow, case, "decline", "declined", actor=actor, now=now)
    else:
        await uow.session.flush()
        consented = {c.side for c in (await uow.session.execute(
            select(Consent).where(Consent.case_id == case.id, Consent.decision == "consented"))).scalars()}
        if consented >= set(SIDES):
            _move(uow, case, "all_consented", actor=actor, now=now)
            for side in SIDES:
                party = _principal_party(people, side)
                uow.publish(ScreeningRequested(case_id=case.id, participant_id=party.id, language=party.language))
        access = party_token(tokens, case_id=case.id, participant_id=invitee.id, side=link.side)
    await uow.commit()
    return InvitationAnswered(case=_view(case, people), access_token=access)


async def expire_invitations(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Silence is a refusal: cases whose invitation window passed unanswered close as declined."""
    now = now or _now()
    # An IN over the links rather than a DISTINCT join: PostgreSQL cannot compare the case's JSON
    # columns for DISTINCT.
    lapsed = select(AccessLink.case_id).where(
        AccessLink.purpose == "invitation", AccessLink.used_at.is_(None), AccessLink.expires_at <= now)
    rows = (await uow.session.execute(
        select(Case).where(Case.status == "awaiting_consent", Case.id.in_(lapsed)))).scalars().all()
    closed = 0
    for case in rows:
        pending = (await uow.session.execute(select(AccessLink).where(
            AccessLink.case_id == case.id, AccessLink.purpose == "invitation", AccessLink.used_at.is_(None),
            AccessLink.expires_at > now))).first()
        if pending is not None:
            continue  # a newer invitation is still open
        _close(uow, case, "answer_window_passed", "declined", actor="scheduler", reason="no answer in the window",
               now=now)
        closed += 1
    await uow.commit()
    return closed


async def request_sign_in_link(uow: UnitOfWork, *, case_id: str, side: str, dev_mode: bool,
                               now: datetime | None = None) -> SignInLinkCreated:
    """A party coming back gets a one-time link for their side. It is meant to reach them through
    the notifications service at the contact they gave; until that exists it is recorded, and only
    in dev mode returned here."""
    now = now or _now()
    case = await _case(uow.session, case_id)
    consent = await _consent_of(uow.session, case.id, side)
    if case.status in states.TERMINAL or consent is None or consent.decision != "consented":
        raise NotFound("the case")  # same answer for absent, closed and not-yet-consented
    token = secrets.token_urlsafe(32)
    link = AccessLink(id=str(uuid.uuid4()), token_hash=_hash(token), case_id=case.id, side=side, purpose="sign_in",
                      created_by="self-service", created_at=now, expires_at=now + SIGN_IN_LINK_TTL)
    uow.session.add(link)
    await uow.commit()
    if dev_mode:
        return SignInLinkCreated(delivery="returned_in_dev_mode", expires_at=link.expires_at, link_token=token)
    return SignInLinkCreated(delivery="recorded_for_notifications", expires_at=link.expires_at)


async def exchange_link(uow: UnitOfWork, *, token: str, tokens: TokenService) -> str:
    link = await _link(uow.session, token, "sign_in", _now())
    link.used_at = _now()
    party = _principal_party(await _participants(uow.session, link.case_id), link.side)
    await uow.commit()
    return party_token(tokens, case_id=link.case_id, participant_id=party.id, side=link.side)


# -- screening --------------------------------------------------------------------------------------


def _sealed(row: Screening) -> Sealed:
    return Sealed(ciphertext=row.ciphertext, wrapped_key=row.wrapped_key, kek_id=row.kek_id, kek_version=row.kek_version)


async def submit_screening(uow: UnitOfWork, *, case_id: str, principal: Principal, answers: ScreeningAnswers,
                           vault: screening.Vault, now: datetime | None = None) -> ScreeningReceived:
    """A party's private answers, sealed at once. The party learns only that they were received;
    when both sides have answered, the case is screened (eligibility + safety)."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation != "party":
        raise Forbidden("each party answers the safety screening for themselves")
    if case.status != "screening":
        raise Conflict("illegal-transition", f"a case that is {case.status} is not being screened", case_status=case.status)
    missing = answers.missing()
    if missing:
        raise Problem(422, "screening-incomplete", "answer every question", missing=missing)
    side = principal.party_side
    existing = (await uow.session.execute(select(Screening).where(Screening.case_id == case.id,
                                                                  Screening.side == side))).scalar_one_or_none()
    if existing is not None:
        raise Conflict("already-screened", "this side has already answered the screening")
    now = now or _now()
    people = await _participants(uow.session, case.id)
    party = _principal_party(people, side)
    result = screening.score(answers)
    sealed = vault.seal(answers, case_id=case.id, participant_id=party.id)
    uow.session.add(Screening(id=str(uuid.uuid4()), case_id=case.id, side=side, participant_id=party.id,
                              safety=result.safety, safeguards=list(result.safeguards), ciphertext=sealed.ciphertext,
                              wrapped_key=sealed.wrapped_key, kek_id=sealed.kek_id, kek_version=sealed.kek_version,
                              answered_at=now))
    await uow.session.flush()
    rows = (await uow.session.execute(select(Screening).where(Screening.case_id == case.id))).scalars().all()
    done = {r.side for r in rows} >= set(SIDES)
    if done:
        combined = screening.combine([screening.SafetyResult(r.safety, tuple(r.safeguards)) for r in rows])
        case.safety, case.safeguards = combined.safety, list(combined.safeguards)
        uow.publish(CaseScreened(case_id=case.id, eligibility=case.eligibility, safety=combined.safety,
                                 safeguards=list(combined.safeguards), rule_set=case.rule_set,
                                 rules_fired=list(case.rules_fired or [])))
        if combined.safety == "refer_out":
            _close(uow, case, "screened_refer_out", "referred_out", actor="screening", now=now)
        elif case.eligibility == "ineligible":
            _close(uow, case, "screened_ineligible", "ineligible", actor="rules", now=now)
        elif case.eligibility == "needs_review":
            _move(uow, case, "screened_needs_review", actor="rules", now=now)
        else:
            _move(uow, case, "screened_eligible", actor="screening", now=now)
    await uow.commit()
    return ScreeningReceived(side=side, received_at=now, all_screened=done)


async def read_screenings(uow: UnitOfWork, *, case_id: str, principal: Principal,
                          vault: screening.Vault) -> list[ScreeningReport]:
    """The answers, opened for the assigned mediator only (not admins, not courts, not parties)."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation != "mediator":
        raise Forbidden("screening answers are for the assigned mediator only")
    rows = (await uow.session.execute(select(Screening).where(Screening.case_id == case.id)
                                      .order_by(Screening.side))).scalars()
    return [ScreeningReport(side=r.side, participant_id=r.participant_id, safety=r.safety, safeguards=r.safeguards,
                            answers=vault.open(_sealed(r), case_id=case.id, participant_id=r.participant_id),
                            answered_at=r.answered_at) for r in rows]


async def review_eligibility(uow: UnitOfWork, *, case_id: str, review: EligibilityReview,
                             principal: Principal) -> CaseView:
    """A person decides a case the rules sent for review; the decision is recorded beside the rules'."""
    case = await _case(uow.session, case_id)
    now = _now()
    operation = "review_eligible" if review.outcome == "eligible" else "review_ineligible"
    if review.outcome == "eligible":
        _move(uow, case, operation, actor=principal.subject, reason="eligibility review", now=now)
    else:
        _close(uow, case, operation, "ineligible", actor=principal.subject, reason="eligibility review", now=now)
    case.eligibility = review.outcome
    uow.session.add(EligibilityDecision(id=str(uuid.uuid4()), case_id=case.id, rule_set=case.rule_set,
                                        outcome=review.outcome, rules_fired=list(case.rules_fired or []),
                                        decided_by=principal.subject, reason=review.reason, decided_at=now))
    uow.publish(CaseScreened(case_id=case.id, eligibility=review.outcome, safety=case.safety or "proceed",
                             safeguards=list(case.safeguards or []), rule_set=case.rule_set,
                             rules_fired=list(case.rules_fired or [])))
    await uow.commit()
    return _view(case, await _participants(uow.session, case.id), principal, "admin")


# -- accounts ----------------------------------------------------------------------------------------

_DUMMY_HASH = hash_secret("not a password anyone has")


async def create_account(uow: UnitOfWork, *, request: AccountCreate) -> AccountCreated:
    await _unique_username(uow.session, request.username)
    account = Account(id=f"adm-{secrets.token_hex(6)}", username=request.username, role=request.role,
                      password_hash=hash_secret(request.password), created_at=_now())
    uow.session.add(account)
    await uow.commit()
    return AccountCreated(id=account.id, username=account.username, role=account.role)


async def _unique_username(session: AsyncSession, username: str) -> None:
    if (await session.execute(select(Account.id).where(Account.username == username))).first() is not None:
        raise Conflict("username-taken", "that username is taken")


async def _assigned_cases(session: AsyncSession, mediator_id: str) -> list[str]:
    return list((await session.execute(select(Case.id).where(
        Case.mediator_id == mediator_id, Case.status.in_(sorted(states.OPEN))))).scalars())


async def login(uow: UnitOfWork, *, username: str, password: str, tokens: TokenService,
                totp_vault: totp.TotpVault | None = None, totp_code: str | None = None) -> str:
    """Mediators and administrators: argon2-checked password, then the authenticator code if the
    account turned two-step sign-in on; a token with the cases assigned now."""
    account = (await uow.session.execute(select(Account).where(Account.username == username))).scalar_one_or_none()
    ok = verify_secret(account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not ok or account.disabled_at is not None:
        raise Problem(401, "invalid-credentials", "the username or password is not valid")
    factor = await totp.confirmed(uow.session, account.id)
    if factor is not None:
        if totp_vault is None:
            raise Problem(401, "totp-required", "enter the code from your authenticator app")
        totp.check(totp_vault, factor, totp_code)
        await uow.commit()  # the code is spent
    if account.role == "mediator":
        return tokens.issue(subject=account.id, role="mediator", cases=await _assigned_cases(uow.session, account.id))
    return tokens.issue(subject=account.id, role="admin")


async def refresh(uow: UnitOfWork, *, principal: Principal, tokens: TokenService, session_max_seconds: int,
                  now: float | None = None) -> str:
    """A fresh token for someone whose token is still valid, so a mediation longer than a token's
    life does not throw people out. The sign-in time travels along: after ``session_max_seconds``
    the person signs in again. A mediator's cases are read anew (assignments change)."""
    now = now or datetime.now(timezone.utc).timestamp()
    if principal.auth_time is None or now - principal.auth_time > session_max_seconds:
        raise Problem(401, "session-expired", "this sign-in is too old to refresh; sign in again")
    cases: list[str] | frozenset[str] = principal.cases
    if principal.role == "mediator":
        cases = await _assigned_cases(uow.session, principal.subject)
    return tokens.issue(subject=principal.subject, role=principal.role, cases=sorted(cases), court=principal.court,
                        party_side=principal.party_side, auth_time=principal.auth_time)


async def _staff_account(session: AsyncSession, principal: Principal) -> Account:
    account = await session.get(Account, principal.subject)
    if account is None or principal.role not in ("mediator", "admin"):
        raise Forbidden("two-step sign-in is for mediator and administrator accounts")
    return account


async def totp_begin(uow: UnitOfWork, *, principal: Principal, vault: totp.TotpVault) -> tuple[str, str]:
    """Start turning on two-step sign-in: a secret for the authenticator app, not yet required."""
    account = await _staff_account(uow.session, principal)
    secret, uri = await totp.begin(uow.session, vault, account_id=account.id, username=account.username)
    await uow.commit()
    return secret, uri


async def totp_confirm(uow: UnitOfWork, *, principal: Principal, vault: totp.TotpVault, code: str) -> None:
    """The first code from the app proves it holds the secret; from now on sign-in asks for codes."""
    account = await _staff_account(uow.session, principal)
    row = await uow.session.get(TotpFactor, account.id)
    if row is None:
        raise Conflict("totp-not-started", "start two-step sign-in first")
    if row.confirmed_at is None:
        try:
            totp.check(vault, row, code)
        except Problem:
            raise Problem(422, "invalid-code", "that code is not right; check the app's clock and try the next code") from None
        row.confirmed_at = _now()
    await uow.commit()


async def totp_disable(uow: UnitOfWork, *, principal: Principal, vault: totp.TotpVault, code: str) -> None:
    """Turning it off takes a current code, so a stolen token alone cannot."""
    account = await _staff_account(uow.session, principal)
    row = await totp.confirmed(uow.session, account.id)
    if row is None:
        raise NotFound("two-step sign-in")
    totp.check(vault, row, code)
    await uow.session.delete(row)
    await uow.commit()


# -- mediator register ---------------------------------------------------------------------------------


async def _load(session: AsyncSession, mediator_id: str) -> int:
    return (await session.execute(select(func.count()).select_from(Case).where(
        Case.mediator_id == mediator_id, Case.status.in_(sorted(states.OPEN))))).scalar_one()


def _mediator_view(m: Mediator, load: int) -> MediatorView:
    return MediatorView(id=m.id, full_name=m.full_name, kind=m.kind, register_number=m.register_number,
                        registry=m.registry_name, languages=m.languages, specialisations=m.specialisations,
                        jurisdictions=m.jurisdictions, capacity=m.capacity, available=m.available, active_cases=load)


def _apply_profile(m: Mediator, profile: MediatorProfile) -> None:
    for j in profile.jurisdictions:
        eligibility.current(j)  # 422 for a jurisdiction without a rule set
    m.full_name, m.kind = profile.full_name, profile.kind
    m.register_number, m.registry_name, m.training = profile.register_number, profile.registry, profile.training
    m.birth_date = profile.birth_date
    m.languages, m.specialisations = list(profile.languages), list(profile.specialisations)
    m.jurisdictions, m.capacity, m.available = sorted(set(profile.jurisdictions)), profile.capacity, profile.available
    m.relations = [r.model_dump(exclude_none=True) for r in profile.relations]
    m.organisations = list(profile.organisations)
    m.updated_at = _now()


async def create_mediator(uow: UnitOfWork, *, request: MediatorCreate) -> MediatorView:
    await _unique_username(uow.session, request.username)
    now = _now()
    mediator_id = f"med-{secrets.token_hex(6)}"
    uow.session.add(Account(id=mediator_id, username=request.username, role="mediator",
                            password_hash=hash_secret(request.password), created_at=now))
    m = Mediator(id=mediator_id, created_at=now)
    _apply_profile(m, request)
    uow.session.add(m)
    await uow.commit()
    return _mediator_view(m, 0)


async def update_mediator(uow: UnitOfWork, *, mediator_id: str, profile: MediatorProfile) -> MediatorView:
    m = await uow.session.get(Mediator, mediator_id)
    if m is None:
        raise NotFound("the mediator")
    _apply_profile(m, profile)
    await uow.commit()
    return _mediator_view(m, await _load(uow.session, m.id))


async def list_mediators(uow: UnitOfWork) -> list[MediatorView]:
    rows = (await uow.session.execute(select(Mediator).order_by(Mediator.full_name))).scalars().all()
    return [_mediator_view(m, await _load(uow.session, m.id)) for m in rows]


@dataclass
class _Fit:
    ok: bool
    problem: Problem | None
    ranked: register.Ranked | None = None


async def _fit(session: AsyncSession, m: Mediator, case: Case, people: list[Participant], now: datetime) -> _Fit:
    """Can ``m`` serve in ``case``? The first obstacle as a problem, else the ranking."""
    rs = eligibility.by_ref(case.rule_set)
    decision = register.may_serve(m, rs, local_today(now, rs.time_zone))
    if decision.outcome == "ineligible":
        return _Fit(False, Problem(422, "mediator-not-eligible",
                                   "the mediator may not serve in this jurisdiction",
                                   rules=[e for e in decision.explain("en") if e["outcome"] == "ineligible"]))
    found = register.conflicts(m, people)
    if found:
        return _Fit(False, Conflict("conflict-of-interest", "the mediator has a declared conflict of interest",
                                    conflicts=found))
    earlier = (await session.execute(select(MediatorProposal.status).where(
        MediatorProposal.case_id == case.id, MediatorProposal.mediator_id == m.id,
        MediatorProposal.status.in_(["declined", "recused", "rejected"])))).first()
    if earlier is not None:
        return _Fit(False, Conflict("mediator-excluded", f"this mediator was {earlier[0]} on this case before"))
    load = await _load(session, m.id)
    if not m.available or load >= m.capacity:
        return _Fit(False, Conflict("mediator-unavailable", "the mediator is not taking new cases"))
    languages = {p.language for p in people if p.role == "party"}
    return _Fit(True, None, register.rank(m, category=case.category, languages=languages, load=load))


async def candidates(uow: UnitOfWork, *, case_id: str, principal: Principal) -> list[Candidate]:
    """Mediators who may take the case, best first; those with a conflict are left out."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation not in ("party", "admin"):
        raise Forbidden("the parties and administrators choose the mediator")
    people = await _participants(uow.session, case.id)
    now = _now()
    rows = (await uow.session.execute(select(Mediator))).scalars().all()
    fits = [f for f in [await _fit(uow.session, m, case, people, now) for m in rows if case.jurisdiction in m.jurisdictions]
            if f.ok]
    fits.sort(key=lambda f: (-f.ranked.score, f.ranked.mediator.full_name))
    return [Candidate(mediator_id=f.ranked.mediator.id, full_name=f.ranked.mediator.full_name,
                      kind=f.ranked.mediator.kind, languages=f.ranked.mediator.languages,
                      specialisations=f.ranked.mediator.specialisations, score=f.ranked.score,
                      reasons=f.ranked.reasons) for f in fits]


def _proposal_view(p: MediatorProposal) -> ProposalView:
    return ProposalView(id=p.id, case_id=p.case_id, mediator_id=p.mediator_id, status=p.status,
                        claimant_accepted=p.claimant_accepted_at is not None,
                        respondent_accepted=p.respondent_accepted_at is not None,
                        mediator_accepted=p.impartiality_declared_at is not None)


async def propose_mediator(uow: UnitOfWork, *, case_id: str, mediator_id: str, principal: Principal) -> ProposalView:
    """A party (whose proposal counts as their acceptance) or an administrator proposes a mediator."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation not in ("party", "admin"):
        raise Forbidden("the parties choose the mediator")
    if not states.can(case.status, "mediator_accepted"):
        raise Conflict("illegal-transition", f"a case that is {case.status} cannot get a mediator", case_status=case.status)
    open_one = (await uow.session.execute(select(MediatorProposal).where(
        MediatorProposal.case_id == case.id, MediatorProposal.status == "open"))).scalar_one_or_none()
    if open_one is not None:
        raise Conflict("proposal-open", "another mediator proposal is waiting for answers", proposal_id=open_one.id)
    m = await uow.session.get(Mediator, mediator_id)
    if m is None:
        raise NotFound("the mediator")
    now = _now()
    fit = await _fit(uow.session, m, case, await _participants(uow.session, case.id), now)
    if not fit.ok:
        raise fit.problem
    p = MediatorProposal(id=str(uuid.uuid4()), case_id=case.id, mediator_id=m.id, proposed_by=principal.subject,
                         status="open", created_at=now)
    if relation == "party":
        setattr(p, f"{principal.party_side}_accepted_at", now)
    uow.session.add(p)
    uow.publish(MediatorProposed(case_id=case.id, mediator_id=m.id))
    await uow.commit()
    return _proposal_view(p)


async def _proposal(session: AsyncSession, case_id: str, proposal_id: str) -> MediatorProposal:
    p = await session.get(MediatorProposal, proposal_id)
    if p is None or p.case_id != case_id:
        raise NotFound("the proposal")
    return p


async def answer_proposal(uow: UnitOfWork, *, case_id: str, proposal_id: str, accept: bool,
                          principal: Principal) -> ProposalView:
    """A party accepts or rejects a proposed mediator; both sides must accept."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation != "party":
        raise Forbidden("only the parties accept or reject a proposed mediator")
    p = await _proposal(uow.session, case.id, proposal_id)
    if p.status != "open":
        raise Conflict("proposal-closed", f"the proposal is {p.status}")
    if accept:
        setattr(p, f"{principal.party_side}_accepted_at", _now())
    else:
        p.status, p.reason = "rejected", f"rejected by the {principal.party_side}"
    await uow.commit()
    return _proposal_view(p)


async def mediator_decides(uow: UnitOfWork, *, case_id: str, proposal_id: str, decision: MediatorDecision,
                           principal: Principal, tokens: TokenService) -> tuple[ProposalView, str | None]:
    """The mediator accepts (declaring impartiality, Law No. 401-IV Art. 7) or declines. Accepting
    assigns the mediator; the answer carries a fresh token that includes the case."""
    if principal.role != "mediator":
        raise Forbidden("only the proposed mediator answers")
    case = await _case(uow.session, case_id)
    p = await _proposal(uow.session, case.id, proposal_id)
    if p.mediator_id != principal.subject:
        raise NotFound("the proposal")
    if p.status != "open":
        raise Conflict("proposal-closed", f"the proposal is {p.status}")
    now = _now()
    if decision.decision == "decline":
        p.status, p.reason = "declined", decision.reason
        await uow.commit()
        return _proposal_view(p), None
    if p.claimant_accepted_at is None or p.respondent_accepted_at is None:
        raise Conflict("parties-have-not-accepted", "both parties must accept the mediator first")
    if not decision.impartiality_declaration:
        raise Problem(422, "impartiality-declaration-required",
                      "accepting needs the impartiality declaration; decline if anything prevents impartiality")
    m = await uow.session.get(Mediator, p.mediator_id)
    fit = await _fit(uow.session, m, case, await _participants(uow.session, case.id), now)
    if not fit.ok:
        raise fit.problem
    _move(uow, case, "mediator_accepted", actor=principal.subject, now=now)
    case.mediator_id = m.id
    p.status, p.impartiality_declared_at = "accepted", now
    p.declaration_text = "impartiality declared"
    uow.publish(MediatorAssigned(case_id=case.id, mediator_id=m.id))
    await uow.commit()
    token = tokens.issue(subject=m.id, role="mediator", cases=await _assigned_cases(uow.session, m.id))
    return _proposal_view(p), token


async def case_proposals(uow: UnitOfWork, *, case_id: str, principal: Principal) -> list[ProposalView]:
    """The case's mediator proposals, newest first, with the mediator's name: how the other
    party finds the proposal waiting for their answer."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation not in ("party", "mediator", "proposed_mediator", "admin"):
        raise Forbidden("the parties, the mediator and administrators see the proposals")
    q = select(MediatorProposal, Mediator.full_name).join(Mediator, Mediator.id == MediatorProposal.mediator_id).where(
        MediatorProposal.case_id == case.id)
    if relation == "proposed_mediator":  # a mediator still deciding sees only what was put to them
        q = q.where(MediatorProposal.mediator_id == principal.subject)
    rows = (await uow.session.execute(q.order_by(MediatorProposal.created_at.desc()))).all()
    return [_proposal_view(p).model_copy(update={"mediator_name": name}) for p, name in rows]


async def mediator_proposals(uow: UnitOfWork, *, principal: Principal) -> list[ProposalView]:
    rows = (await uow.session.execute(select(MediatorProposal).where(
        MediatorProposal.mediator_id == principal.subject).order_by(MediatorProposal.created_at.desc()))).scalars()
    return [_proposal_view(p) for p in rows]


async def recuse(uow: UnitOfWork, *, case_id: str, reason: str, principal: Principal) -> CaseView:
    """The assigned mediator steps down, or a party asks for a replacement: the case goes back to
    choosing a mediator, and the agreement to mediate must be signed again with the new one."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation not in ("mediator", "party"):
        raise Forbidden("the assigned mediator recuses; a party may ask for a replacement")
    if case.mediator_id is None:
        raise Conflict("illegal-transition", "the case has no mediator", case_status=case.status)
    mediator_id = case.mediator_id
    _move(uow, case, "mediator_recused", actor=principal.subject, reason=reason)
    accepted = (await uow.session.execute(select(MediatorProposal).where(
        MediatorProposal.case_id == case.id, MediatorProposal.mediator_id == mediator_id,
        MediatorProposal.status == "accepted"))).scalars().all()
    for p in accepted:
        p.status, p.reason = "recused", reason
    case.mediator_id = None
    case.term_starts_on = case.term_ends_on = None
    uow.publish(MediatorRecused(case_id=case.id, mediator_id=mediator_id,
                                by="mediator" if relation == "mediator" else "party"))
    await uow.commit()
    return _view(case, await _participants(uow.session, case.id), principal, relation)


# -- agreement to mediate and the term --------------------------------------------------------------


async def _signatures(session: AsyncSession, case: Case) -> list[AgreementSignature]:
    if case.mediator_id is None:
        return []
    return list((await session.execute(select(AgreementSignature).where(
        AgreementSignature.case_id == case.id, AgreementSignature.mediator_id == case.mediator_id))).scalars())


async def agreement_to_mediate(uow: UnitOfWork, *, case_id: str, principal: Principal) -> AgreementToMediateView:
    case, relation = await _access(uow.session, case_id, principal)
    people = await _participants(uow.session, case.id)
    rs = eligibility.by_ref(case.rule_set)
    lang = _viewer_language(case, people, principal)
    return AgreementToMediateView(
        case_id=case.id, mediator_id=case.mediator_id, text_version=rs.agreement_to_mediate_text.version,
        text=rs.agreement_to_mediate_text.get(lang), term_days=rs.term_days,
        signed_by=sorted(s.signer for s in await _signatures(uow.session, case)),
        term_starts_on=case.term_starts_on, term_ends_on=case.term_ends_on)


async def sign_agreement_to_mediate(uow: UnitOfWork, *, case_id: str, text_version: str, principal: Principal,
                                    now: datetime | None = None) -> AgreementToMediateView:
    """Both parties and the assigned mediator sign; with the last signature mediation starts that
    day (Art. 20(1),(5)) and the term runs from it."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation == "party":
        signer = principal.party_side
    elif relation == "mediator":
        signer = "mediator"
    else:
        raise Forbidden("the parties and the assigned mediator sign the agreement to mediate")
    if case.status != "mediator_agreed":
        raise Conflict("illegal-transition", f"a case that is {case.status} has no agreement to mediate to sign",
                       case_status=case.status, operation="sign")
    rs = eligibility.by_ref(case.rule_set)
    if text_version != rs.agreement_to_mediate_text.version:
        raise Problem(422, "agreement-text-outdated", "sign the current text of the agreement to mediate",
                      current_version=rs.agreement_to_mediate_text.version)
    signed = await _signatures(uow.session, case)
    if any(s.signer == signer for s in signed):
        raise Conflict("already-signed", "you have already signed")
    now = now or _now()
    uow.session.add(AgreementSignature(id=str(uuid.uuid4()), case_id=case.id, mediator_id=case.mediator_id,
                                       signer=signer, signer_id=principal.subject, text_version=text_version,
                                       signed_at=now))
    if {s.signer for s in signed} | {signer} >= {"claimant", "respondent", "mediator"}:
        _move(uow, case, "agreement_to_mediate_signed", actor=principal.subject, now=now)
        case.term_starts_on = local_today(now, rs.time_zone)
        case.term_ends_on = case.term_starts_on + timedelta(days=rs.term_days)
        people = await _participants(uow.session, case.id)
        participants = [EventParticipant(participant_id=p.id, role=p.role, side=p.side, language=p.language)
                        for p in people]
        participants.append(EventParticipant(participant_id=case.mediator_id, role="mediator", side=None,
                                             language=case.language))
        uow.publish(MediationAgreed(case_id=case.id, mediator_id=case.mediator_id, participants=participants,
                                    safeguards=list(case.safeguards or []), term_ends_on=case.term_ends_on,
                                    time_zone=rs.time_zone))
    await uow.commit()
    return await agreement_to_mediate(uow, case_id=case.id, principal=principal)


async def extend_term(uow: UnitOfWork, *, case_id: str, extension: Extension, principal: Principal) -> CaseView:
    """The mediator records an extension the parties agreed to, within the jurisdiction's limit."""
    case, relation = await _access(uow.session, case_id, principal)
    if relation != "mediator":
        raise Forbidden("the assigned mediator records extensions")
    if case.status not in ("agreement_signed", "in_session"):
        raise Conflict("illegal-transition", f"a case that is {case.status} has no running term", case_status=case.status)
    if not extension.parties_agreed:
        raise Problem(422, "parties-must-agree", "an extension needs both parties' agreement")
    rs = eligibility.by_ref(case.rule_set)
    so_far = (await uow.session.execute(select(func.coalesce(func.sum(TermExtension.days), 0)).where(
        TermExtension.case_id == case.id))).scalar_one()
    if so_far + extension.days > rs.max_extension_days:
        raise Problem(422, "extension-too-long", f"extensions may add at most {rs.max_extension_days} days in total",
                      remaining_days=rs.max_extension_days - so_far)
    case.term_ends_on = case.term_ends_on + timedelta(days=extension.days)
    uow.session.add(TermExtension(id=str(uuid.uuid4()), case_id=case.id, days=extension.days, reason=extension.reason,
                                  term_ends_on=case.term_ends_on, recorded_by=principal.subject, recorded_at=_now()))
    uow.publish(MediationTermExtended(case_id=case.id, term_ends_on=case.term_ends_on, time_zone=rs.time_zone))
    await uow.commit()
    return _view(case, await _participants(uow.session, case.id), principal, relation)


async def terminate(uow: UnitOfWork, *, case_id: str, termination: Termination, principal: Principal) -> CaseView:
    """A party may withdraw at any time (voluntariness); the mediator ends a futile mediation only
    with the parties' written consent, or records that no agreement was reached."""
    case, relation = await _access(uow.session, case_id, principal)
    if termination.reason == "withdrawn" and relation != "party":
        raise Forbidden("only a party withdraws")
    if termination.reason in ("futile", "no_agreement") and relation != "mediator":
        raise Forbidden("the assigned mediator ends a mediation")
    if termination.reason == "futile" and not termination.parties_written_consent:
        raise Problem(422, "written-consent-required", "ending a futile mediation needs the parties' written consent")
    _close(uow, case, termination.reason, termination.reason, actor=principal.subject, reason=termination.reason)
    await uow.commit()
    return _view(case, await _participants(uow.session, case.id), principal, relation)


async def expire_terms(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Cases whose term of mediation (with extensions) ended close as term expired."""
    now = now or _now()
    rows = (await uow.session.execute(select(Case).where(
        Case.status.in_(["agreement_signed", "in_session"]), Case.term_ends_on.is_not(None)))).scalars().all()
    closed = 0
    for case in rows:
        if local_today(now, eligibility.by_ref(case.rule_set).time_zone) > case.term_ends_on:
            _close(uow, case, "term_expired", "term_expired", actor="scheduler", now=now)
            closed += 1
    await uow.commit()
    return closed


# -- consumed events -----------------------------------------------------------------------------------


async def on_session_started(sink, case_id: str) -> None:
    case = await sink.session.get(Case, case_id)
    if case is not None and states.can(case.status, "session_started") and case.status != "in_session":
        _move(sink, case, "session_started", actor="sessions")


async def on_agreement_signed(sink, case_id: str) -> None:
    case = await sink.session.get(Case, case_id)
    if case is not None and states.can(case.status, "settled"):
        _close(sink, case, "settled", "settled", actor="agreements")


# -- court clients and dev tokens (unchanged) ----------------------------------------------------------


async def create_court_client(uow: UnitOfWork, *, request: CourtClientCreate) -> CourtClientCreated:
    secret = new_client_secret()
    client = CourtClient(client_id=f"court-{secrets.token_hex(8)}", court_id=request.court_id, name=request.name,
                         secret_hash=hash_secret(secret), created_at=datetime.now(timezone.utc))
    uow.session.add(client)
    await uow.commit()
    return CourtClientCreated(client_id=client.client_id, court_id=client.court_id, client_secret=secret)


async def rotate_court_client_secret(uow: UnitOfWork, *, client_id: str) -> CourtClientCreated:
    client = await uow.session.get(CourtClient, client_id)
    if client is None or client.revoked_at is not None:
        raise NotFound("the court client")
    secret = new_client_secret()
    client.secret_hash = hash_secret(secret)
    await uow.commit()
    return CourtClientCreated(client_id=client.client_id, court_id=client.court_id, client_secret=secret)


async def court_token(uow: UnitOfWork, *, tokens: TokenService, client_id: str, client_secret: str) -> str:
    """OAuth 2.0 client credentials for court clients: a court-scoped access token."""
    client = await uow.session.get(CourtClient, client_id)
    if client is None or client.revoked_at is not None or not verify_secret(client.secret_hash, client_secret):
        raise Problem(401, "invalid-client", "the client id or secret is not valid")
    return tokens.issue(subject=client.client_id, role="court", court=client.court_id)


def ensure_dev_mode(enabled: bool) -> None:
    if not enabled:
        raise Forbidden("dev tokens exist only when the embedded run is started with `odr dev`")
