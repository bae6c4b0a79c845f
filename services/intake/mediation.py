"""Mediation itself, once a mediator is assigned: the agreement to mediate, which every party (or
its representative for it) and the mediator sign (mediation starts the day the last one signs, Law No. 401-IV Art. 20(1),(5)),
the term of mediation and its extensions, and how a mediation ends without a settlement. The term's
expiry is a deadline (``deadlines.expire_terms``); a signed settlement settles the case
(``events``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.contracts.intake import MediationAgreed, MediationTermExtended, Participant as EventParticipant
from shared.problems import Conflict, Forbidden, Problem
from shared.uow import UnitOfWork

from . import cases, deadlines, eligibility, personal
from .models import AgreementSignature, Case, TermExtension
from .schemas import CaseView, Input


class AgreementToMediateView(BaseModel):
    case_id: str
    mediator_id: str | None
    text_version: str
    text: str
    term_days: int
    signed_by: list[str] = Field(description="the sides every party of which signed, and mediator")
    signers: list[str] = Field(description="who signs: a slot per party, <side>:<participant id>, then mediator")
    signed_slots: list[str] = Field(description="the slots signed so far")
    term_starts_on: date | None
    term_ends_on: date | None


class Signature(Input):
    text_version: str = Field(min_length=1, max_length=60)


class Extension(Input):
    days: int = Field(ge=1, le=365)
    reason: str = Field(min_length=1, max_length=2000)
    parties_agreed: bool = Field(description="both parties agreed to the extension")


class Termination(Input):
    reason: Literal["withdrawn", "futile", "no_agreement"]
    parties_written_consent: bool = Field(False, description="needed to end a futile mediation (2021 amendment)")
    note: str | None = Field(None, max_length=2000)


async def _signatures(session: AsyncSession, case: Case) -> list[AgreementSignature]:
    if case.mediator_id is None:
        return []
    return list((await session.execute(select(AgreementSignature).where(
        AgreementSignature.case_id == case.id, AgreementSignature.mediator_id == case.mediator_id))).scalars())


def signers(people) -> list[str]:
    """Who signs the agreement to mediate: every party in a slot of its own (``<side>:<participant
    id>``, each co-claimant and co-respondent: consent to mediate is each party's, Art. 4 and
    Art. 20(1)), which its representative may sign for it, then the mediator. Interpreters and
    support persons do not sign (``cases.access``). The slots are those of the settlement
    agreement's (agreements ``signer_slots``)."""
    return [f"{p.side}:{p.id}" for side in cases.SIDES for p in people
            if p.side == side and p.role == "party"] + ["mediator"]


async def agreement_to_mediate(uow: UnitOfWork, *, case_id: str, principal: Principal,
                               lang: str | None = None) -> AgreementToMediateView:
    case, relation = await cases.access(uow.session, case_id, principal)
    people = await cases.participants(uow.session, case.id)
    rs = eligibility.by_ref(case.rule_set)
    lang = cases.viewer_language(case, people, principal, lang)
    slots = {s.signer for s in await _signatures(uow.session, case)}
    parties = {s.split(":", 1)[1] for s in slots if ":" in s}
    return AgreementToMediateView(
        case_id=case.id, mediator_id=case.mediator_id, text_version=rs.agreement_to_mediate_text.version,
        text=rs.agreement_to_mediate_text.get(lang), term_days=rs.term_days,
        signed_by=sorted([s for s in cases.SIDES if cases.side_consented(people, parties, s)]
                         + (["mediator"] if "mediator" in slots else [])),
        signers=signers(people), signed_slots=sorted(slots),
        term_starts_on=case.term_starts_on, term_ends_on=case.term_ends_on)


async def sign_agreement_to_mediate(uow: UnitOfWork, *, case_id: str, text_version: str, principal: Principal,
                                    now: datetime | None = None) -> AgreementToMediateView:
    """Every party (itself, or its representative for it) and the assigned mediator sign, each
    once in its own slot (``signers``); with the last signature mediation starts that day
    (Art. 20(1),(5)) and the term runs from it. An interpreter or support person is refused."""
    case, relation = await cases.access(uow.session, case_id, principal, to_act=True)
    people = await cases.participants(uow.session, case.id)
    if relation == "party":
        party = next((p for p in people if p.id == principal.party_id and p.role == "party"
                      and p.side == principal.party_side), None)
        if party is None:
            raise Forbidden("your sign-in does not act for a party of this case")
        signer = f"{party.side}:{party.id}"
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
        raise Conflict("already-signed", "this party's signature is already on it" if relation == "party"
                       else "you have already signed")
    now = now or cases.utcnow()
    uow.session.add(AgreementSignature(id=str(uuid.uuid4()), case_id=case.id, mediator_id=case.mediator_id,
                                       signer=signer, signer_id=principal.subject, text_version=text_version,
                                       signed_at=now))
    if {s.signer for s in signed} | {signer} >= set(signers(people)):
        cases.move(uow, case, "agreement_to_mediate_signed", actor=principal.subject, now=now)
        case.term_starts_on = deadlines.local_today(now, rs.time_zone)
        case.term_ends_on = case.term_starts_on + timedelta(days=rs.term_days)
        participants = [EventParticipant(participant_id=p.id, role=p.role, side=p.side, language=p.language,
                                         acts_for=p.represents_id) for p in people]
        participants.append(EventParticipant(participant_id=case.mediator_id, role="mediator", side=None,
                                             language=case.language))
        uow.publish(MediationAgreed(case_id=case.id, mediator_id=case.mediator_id, participants=participants,
                                    safeguards=list(case.safeguards or []), term_ends_on=case.term_ends_on,
                                    time_zone=rs.time_zone))
    await uow.commit()
    return await agreement_to_mediate(uow, case_id=case.id, principal=principal)


async def extend_term(uow: UnitOfWork, *, case_id: str, extension: Extension, principal: Principal,
                      personal_vault: personal.Vault) -> CaseView:
    """The mediator records an extension the parties agreed to, within the jurisdiction's limit."""
    case, relation = await cases.access(uow.session, case_id, principal)
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
                                  term_ends_on=case.term_ends_on, recorded_by=principal.subject,
                                  recorded_at=cases.utcnow()))
    uow.publish(MediationTermExtended(case_id=case.id, term_ends_on=case.term_ends_on, time_zone=rs.time_zone))
    await uow.commit()
    return cases.view(case, await cases.people(uow.session, case.id, personal_vault), principal, relation)


async def terminate(uow: UnitOfWork, *, case_id: str, termination: Termination, principal: Principal,
                    personal_vault: personal.Vault) -> CaseView:
    """A party may withdraw at any time (voluntariness); the mediator ends a futile mediation only
    with the parties' written consent, or records that no agreement was reached."""
    case, relation = await cases.access(uow.session, case_id, principal, to_act=True)
    if termination.reason == "withdrawn" and relation != "party":
        raise Forbidden("only a party withdraws")
    if termination.reason in ("futile", "no_agreement") and relation != "mediator":
        raise Forbidden("the assigned mediator ends a mediation")
    if termination.reason == "futile" and not termination.parties_written_consent:
        raise Problem(422, "written-consent-required", "ending a futile mediation needs the parties' written consent")
    await cases.close(uow, case, termination.reason, termination.reason, actor=principal.subject, reason=termination.reason)
    await uow.commit()
    return cases.view(case, await cases.people(uow.session, case.id, personal_vault), principal, relation)
