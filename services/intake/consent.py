"""Consent, which mediation cannot start without (voluntariness, Law No. 401-IV Art. 4): a side is
invited by a one-time link, answers it once within the jurisdiction's window, and comes back later
through a one-time sign-in link. Only the links' hashes are stored. The platform delivers them
itself (``reach``): a link travels to notifications only sealed for it, never in the clear in an
event; an invitation is also shown once to whoever made it, to pass on.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, TokenService
from shared.contracts.intake import ConsentRecorded, RespondentInvited, ScreeningRequested
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.uow import UnitOfWork

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from . import cases, deadlines, eligibility, personal, reach, states
from .models import AccessLink, Case, CaseTransition, Consent
from .schemas import CaseView, Input, Language, Side

SIGN_IN_LINK_TTL = timedelta(minutes=30)


class InvitationCreate(Input):
    side: Side = "respondent"


class InvitationCreated(BaseModel):
    invitation_id: str
    side: str
    answer_by: datetime
    link_token: str = Field(description="Shown once: give it to the invited party (only its hash is kept).")
    link: str


class InvitationView(BaseModel):
    case_id: str
    case_reference: str | None = Field(None, description="what people call the case, e.g. KZ-2026-000123")
    jurisdiction: str
    category: str
    side: str
    answer_by: datetime
    consent_text_version: str
    consent_text: str
    answer_window_citation: str


class InvitationAnswer(Input):
    decision: Literal["consent", "decline"]
    text_version: str = Field(min_length=1, max_length=60)
    language: Language | None = None
    email: str | None = Field(None, max_length=254, pattern=reach.EMAIL_PATTERN,
                              description="where the platform sends this party's sign-in links from now on")


class InvitationDelivery(Input):
    """ "Send it for me": the address the invitation goes to, and the invited party's language."""

    side: Side = "respondent"
    email: str = Field(max_length=254, pattern=reach.EMAIL_PATTERN)
    language: Language | None = Field(None, description="the invited party's language; default: the one on file")


class InvitationSent(BaseModel):
    side: str
    sent_to: str = Field(description="the address, masked")
    language: str
    answer_by: datetime


class InvitationAnswered(BaseModel):
    case: CaseView
    access_token: str | None = None


class SignInLinkRequest(Input):
    side: Side


class SignInLinkCreated(BaseModel):
    delivery: Literal["returned_in_dev_mode", "sent"]
    expires_at: datetime
    link_token: str | None = None


class LinkExchange(Input):
    token: str = Field(min_length=10, max_length=200)


class ConsentView(BaseModel):
    side: str
    participant_id: str
    decision: str
    text_version: str
    via: str
    recorded_at: datetime


_hash = reach.token_hash


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


async def _consent_of(session: AsyncSession, case_id: str, side: str) -> Consent | None:
    """The side's answer to its invitation: the first consent recorded on the side (the side's
    first party answers the invitation; co-parties answer afterwards, ``consent_as_party``)."""
    return (await session.execute(select(Consent).where(Consent.case_id == case_id, Consent.side == side)
                                  .order_by(Consent.recorded_at).limit(1))).scalar_one_or_none()


async def _when_everyone_consented(uow: UnitOfWork, case, people: list, *, actor: str, now: datetime) -> None:
    """Once every party of every side has agreed to mediate, the case moves to screening; not
    before (``cases.side_consented``)."""
    await uow.session.flush()
    consented = await cases.consented_parties(uow.session, case.id)
    if states.can(case.status, "all_consented") and all(
            cases.side_consented(people, consented, side) for side in cases.SIDES):
        cases.move(uow, case, "all_consented", actor=actor, now=now)
        for party in people:  # every party answers the screening for itself (``screening``)
            if party.role == "party" and party.side in cases.SIDES:
                uow.publish(ScreeningRequested(case_id=case.id, participant_id=party.id, language=party.language))


async def _may_invite(session: AsyncSession, case_id: str, side: str, principal: Principal):
    case, relation = await cases.access(session, case_id, principal, to_act=True)
    if relation == "party" and not (principal.party_side == "claimant" and side == "respondent"):
        raise Forbidden("the claimant invites the respondent; a party cannot invite their own side")
    if relation not in ("party", "court", "admin"):
        raise Forbidden("only the claimant, the referring court or an administrator can invite")
    return case


async def invite(uow: UnitOfWork, *, case_id: str, side: str, principal: Principal, key: X25519PublicKey,
                 personal_vault: personal.Vault, now: datetime | None = None) -> tuple[InvitationCreated, str]:
    """Invite a side by a one-time link with the jurisdiction's answer window. The claimant invites
    the respondent; a court invites both sides of its referral. Returns (invitation, raw token):
    the token is shown once and only its hash is stored. The platform sends it at once to the
    invited party's contact when the filing gave one; it keeps the token sealed for notifications
    (which only notifications can open) so that it can be sent later too (``send_invitation``)."""
    case = await _may_invite(uow.session, case_id, side, principal)
    if await _consent_of(uow.session, case.id, side) is not None:
        raise Conflict("already-answered", f"the {side} has already answered")
    now = now or cases.utcnow()
    rs = eligibility.by_ref(case.rule_set)
    cases.move(uow, case, "invite", actor=principal.subject, reason=side, now=now)
    await uow.session.execute(update(AccessLink).where(  # a new link replaces an unanswered one
        AccessLink.case_id == case.id, AccessLink.side == side, AccessLink.purpose == "invitation",
        AccessLink.used_at.is_(None)).values(expires_at=now))
    answer_by = deadlines.answer_deadline(now, days=rs.answer_window_days, time_zone=rs.time_zone)
    link, token, sealed = reach.new_link(key=key, case_id=case.id, side=side, purpose="invitation",
                                         created_by=principal.subject, now=now, expires_at=answer_by)
    link.sealed_link = sealed
    uow.session.add(link)
    invitee = cases.principal_party(await cases.people(uow.session, case.id, personal_vault), side)
    uow.publish(RespondentInvited(case_id=case.id, invitation_id=link.id, respondent_participant_id=invitee.id,
                                  language=invitee.language, answer_by=answer_by))
    if (invitee.contact or {}).get("email") or (invitee.contact or {}).get("phone"):
        reach.send(uow, key, link=link, sealed_link=sealed, language=invitee.language, participant=invitee)
    await uow.commit()
    return InvitationCreated(invitation_id=link.id, side=side, answer_by=answer_by, link_token=token, link=""), token


async def send_invitation(uow: UnitOfWork, *, case_id: str, delivery: InvitationDelivery, principal: Principal,
                          key: X25519PublicKey, personal_vault: personal.Vault,
                          now: datetime | None = None) -> InvitationSent:
    """ "Send it for me": the platform emails the side's live invitation to the address the inviter
    typed, in the invited party's language; the link already given stays the same (the token was
    kept sealed for notifications when it was made). The address becomes the party's contact."""
    now = now or cases.utcnow()
    case = await _may_invite(uow.session, case_id, delivery.side, principal)
    if await _consent_of(uow.session, case.id, delivery.side) is not None:
        raise Conflict("already-answered", f"the {delivery.side} has already answered")
    link = (await uow.session.execute(select(AccessLink).where(
        AccessLink.case_id == case.id, AccessLink.side == delivery.side, AccessLink.purpose == "invitation",
        AccessLink.used_at.is_(None), AccessLink.expires_at > now, AccessLink.sealed_link.is_not(None))
        .order_by(AccessLink.created_at.desc()).limit(1))).scalar_one_or_none()
    if link is None:
        raise Conflict("no-live-invitation", "there is no live invitation link to send; make one first")
    invitee = cases.principal_party(await cases.people(uow.session, case.id, personal_vault), delivery.side)
    if delivery.language:
        invitee.language = delivery.language
    reach.update_contact(personal_vault, invitee, email=delivery.email)
    reach.send(uow, key, link=link, sealed_link=link.sealed_link, language=invitee.language, participant=invitee,
               email=delivery.email)
    await uow.commit()
    return InvitationSent(side=delivery.side, sent_to=mask_email(delivery.email), language=invitee.language,
                          answer_by=link.expires_at)


async def _link(session: AsyncSession, token: str, purpose: str | tuple[str, ...], now: datetime) -> AccessLink:
    link = (await session.execute(select(AccessLink).where(AccessLink.token_hash == _hash(token)))).scalar_one_or_none()
    purposes = (purpose,) if isinstance(purpose, str) else purpose
    if link is None or link.purpose not in purposes:
        raise NotFound("the link")
    if link.used_at is not None:
        raise Problem(410, "link-used", "this link has already been used")
    if link.expires_at <= now:
        raise Problem(410, "link-expired", "this link has expired")
    return link


async def view_invitation(uow: UnitOfWork, *, token: str, lang: str | None = None) -> InvitationView:
    link = await _link(uow.session, token, "invitation", cases.utcnow())
    case = await cases.load(uow.session, link.case_id)
    invitee = cases.principal_party(await cases.participants(uow.session, case.id), link.side)
    rs = eligibility.by_ref(case.rule_set)
    lang = lang or invitee.language
    return InvitationView(case_id=case.id, case_reference=case.reference, jurisdiction=case.jurisdiction, category=case.category, side=link.side,
                          answer_by=link.expires_at, consent_text_version=rs.consent_text.version,
                          consent_text=rs.consent_text.get(lang), answer_window_citation=rs.answer_window_citation.get(lang))


async def answer_invitation(uow: UnitOfWork, *, token: str, answer: InvitationAnswer, tokens: TokenService,
                            personal_vault: personal.Vault, key: X25519PublicKey,
                            now: datetime | None = None) -> InvitationAnswered:
    """Consent or decline, recorded once (who, when, which text). Declining closes the case as
    declined; when every side has consented the case moves to screening. A side that consents has
    the others on it reached by links of their own (``reach.welcome``)."""
    now = now or cases.utcnow()
    try:
        link = await _link(uow.session, token, "invitation", now)
    except Problem as exc:
        if exc.code == "link-expired":  # silence past the window is a refusal (Art. 20(6))
            await deadlines.expire_invitations(uow, now=now)
        raise
    case = await cases.load(uow.session, link.case_id)
    _still_answerable(case, answer.text_version)
    people = await cases.people(uow.session, case.id, personal_vault)
    invitee = cases.principal_party(people, link.side)
    if answer.language:
        invitee.language = answer.language
    if answer.email and answer.decision == "consent":
        reach.update_contact(personal_vault, invitee, email=answer.email)
    link.used_at = now
    decision = "consented" if answer.decision == "consent" else "declined"
    uow.session.add(Consent(id=str(uuid.uuid4()), case_id=case.id, side=link.side, participant_id=invitee.id,
                            decision=decision, text_version=answer.text_version, via="invitation", recorded_at=now))
    uow.publish(ConsentRecorded(case_id=case.id, participant_id=invitee.id, decision=decision,
                                text_version=answer.text_version))
    access = None
    actor = f"{link.side}:{case.id}"
    if decision == "declined":
        await cases.close(uow, case, "decline", "declined", actor=actor, now=now)
    else:
        reach.welcome(uow, key, case=case, people=people, side=link.side, now=now, created_by=actor)
        await _when_everyone_consented(uow, case, people, actor=actor, now=now)
        access = cases.party_token(tokens, case_id=case.id, participant_id=invitee.id, side=link.side)
    await uow.commit()
    return InvitationAnswered(case=cases.view(case, people), access_token=access)


async def _closed_by_silence(session: AsyncSession, case: Case) -> bool:
    """Whether the case closed because an answer window passed: a party answering after it is told
    that, whether the scheduler's sweep or their own late answer closed the case first."""
    if case.status != "declined":
        return False
    last = (await session.execute(select(CaseTransition.operation).where(CaseTransition.case_id == case.id)
                                  .order_by(CaseTransition.id.desc()).limit(1))).scalar()
    return last == "answer_window_passed"


def _still_answerable(case: Case, text_version: str | None) -> str:
    """The consent text version answered to (default: the rule set's current one), refused when it
    is not the current text or the case no longer takes answers (invitation and co-party alike)."""
    current = eligibility.by_ref(case.rule_set).consent_text.version
    if (text_version or current) != current:
        raise Problem(422, "consent-text-outdated", "answer to the current consent text", current_version=current)
    if not states.can(case.status, "decline"):
        raise Conflict("illegal-transition", f"a case that is {case.status} no longer takes answers",
                       case_status=case.status)
    return current


class PartyConsent(Input):
    """A co-party's own answer (or its representative's for it), given on the case page after
    signing in by the link of their own."""

    decision: Literal["consent", "decline"]
    text_version: str | None = Field(None, min_length=1, max_length=60,
                                     description="the consent text answered to; default: the rule set's current one")


async def consent_as_party(uow: UnitOfWork, *, case_id: str, answer: PartyConsent, principal: Principal,
                           personal_vault: personal.Vault, now: datetime | None = None) -> CaseView:
    """A party of a side whose first party answered the invitation agrees to mediate (or declines)
    for itself; a representative answers for the party it acts for. Recorded once per party.
    Declining closes the case as declined, as the invitation's decline does: mediation is
    voluntary for every party. Interpreters and support persons do not answer (``cases.access``)."""
    now = now or cases.utcnow()
    case, relation = await cases.access(uow.session, case_id, principal, to_act=True)
    if relation != "party":
        raise Forbidden("each party agrees to mediate for itself (or its representative for it)")
    if await _closed_by_silence(uow.session, case):  # the sweep came first: the same answer as below
        raise Problem(410, "answer-window-passed", "the window to answer has passed; the case was closed as declined")
    text_version = _still_answerable(case, answer.text_version)
    people = await cases.people(uow.session, case.id, personal_vault)
    party = next((p for p in people if p.id == principal.party_id and p.role == "party"
                  and p.side == principal.party_side), None)
    if party is None:
        raise Forbidden("your sign-in does not act for a party of this case")
    if await _consent_of(uow.session, case.id, party.side) is None:
        raise Conflict("not-invited-yet", "the side has not answered its invitation yet")
    if party.id in await cases.consented_parties(uow.session, case.id):
        raise Conflict("already-answered", "this party has already answered")
    answer_by = (await deadlines.co_parties_answer_by(uow.session, case, people)).get(party.side)
    if answer_by is not None and answer_by < now:  # silence past the window was a refusal (Art. 20(6))
        await deadlines.expire_invitations(uow, now=now)
        raise Problem(410, "answer-window-passed", "the window to answer has passed; the case was closed as declined",
                      answer_by=answer_by.isoformat())
    decision = "consented" if answer.decision == "consent" else "declined"
    uow.session.add(Consent(id=str(uuid.uuid4()), case_id=case.id, side=party.side, participant_id=party.id,
                            decision=decision, text_version=text_version,
                            via="representative" if principal.acting == "representative" else "own sign-in",
                            recorded_at=now))
    uow.publish(ConsentRecorded(case_id=case.id, participant_id=party.id, decision=decision,
                                text_version=text_version))
    if decision == "declined":
        await cases.close(uow, case, "decline", "declined", actor=principal.subject, now=now)
    else:
        await _when_everyone_consented(uow, case, people, actor=principal.subject, now=now)
    await uow.commit()
    shown = cases.view(case, people, principal, relation)
    shown.progress = await cases.progress(uow.session, case)
    return shown


async def request_sign_in_link(uow: UnitOfWork, *, case_id: str, side: str, dev_mode: bool, key: X25519PublicKey,
                               personal_vault: personal.Vault, now: datetime | None = None) -> SignInLinkCreated:
    """A party coming back gets a one-time link for their side, open or closed case alike (a closed
    one reads, nothing more). The platform sends it to the party's contact (``reach``); only in dev
    mode is it also returned here. The newest link is the only live one (the route limits how often)."""
    now = now or cases.utcnow()
    case = await cases.load(uow.session, case_id)
    consent = await _consent_of(uow.session, case.id, side)
    if consent is None or consent.decision != "consented":
        raise NotFound("the case")  # same answer for absent and not-yet-consented
    await uow.session.execute(update(AccessLink).where(  # one live sign-in link per side: the newest
        AccessLink.case_id == case.id, AccessLink.side == side, AccessLink.purpose == "sign_in",
        AccessLink.participant_id.is_(None), AccessLink.used_at.is_(None), AccessLink.expires_at > now).values(expires_at=now))
    link, token, sealed = reach.new_link(key=key, case_id=case.id, side=side, purpose="sign_in",
                                         created_by="self-service", now=now, expires_at=now + SIGN_IN_LINK_TTL)
    uow.session.add(link)
    party = cases.principal_party(await cases.people(uow.session, case.id, personal_vault), side)
    reach.send(uow, key, link=link, sealed_link=sealed, language=party.language, participant=party)
    await uow.commit()
    if dev_mode:
        return SignInLinkCreated(delivery="returned_in_dev_mode", expires_at=link.expires_at, link_token=token)
    return SignInLinkCreated(delivery="sent", expires_at=link.expires_at)


async def exchange_link(uow: UnitOfWork, *, token: str, tokens: TokenService) -> reach.LinkSignIn:
    """A sign-in link for its token(s): a case's link opens its side of that case; an address's
    link opens every case the address belongs to, open or closed."""
    now = cases.utcnow()
    link = await _link(uow.session, token, ("sign_in", "sign_in_address"), now)
    link.used_at = now
    if link.purpose == "sign_in_address":
        opened = await reach.address_cases(uow, link, tokens)
    else:
        people = await cases.participants(uow.session, link.case_id)
        person = (next((p for p in people if p.id == link.participant_id), None) if link.participant_id
                  else cases.principal_party(people, link.side))
        if person is None:
            raise NotFound("the link")
        opened = [reach.case_access(await cases.load(uow.session, link.case_id), person, tokens)]
    await uow.commit()
    return reach.LinkSignIn(access_token=opened[0].access_token if opened else None, expires_in=tokens.ttl_seconds,
                            cases=opened)


async def consents(uow: UnitOfWork, *, case_id: str, principal: Principal) -> list[ConsentView]:
    case, _ = await cases.access(uow.session, case_id, principal)
    rows = (await uow.session.execute(select(Consent).where(Consent.case_id == case.id)
                                      .order_by(Consent.recorded_at))).scalars()
    return [ConsentView(side=c.side, participant_id=c.participant_id, decision=c.decision, text_version=c.text_version,
                        via=c.via, recorded_at=c.recorded_at) for c in rows]
