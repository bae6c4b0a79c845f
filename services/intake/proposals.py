"""Choosing the mediator: a party or an administrator proposes one from the register, both parties
accept, and the mediator accepts with the impartiality declaration (Law No. 401-IV Art. 7) or
declines. An assigned mediator may recuse, or a party ask for a replacement; the case then goes
back to choosing. Who may be proposed at all is ``register.fit``.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, TokenService
from shared.contracts.intake import MediatorAssigned, MediatorProposed, MediatorRecused
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.revocation import Revocations
from shared.uow import UnitOfWork

from . import cases, personal, register, revocation, states
from .models import Mediator, MediatorProposal
from .schemas import CaseView, Input


class ProposalCreate(Input):
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


class MediatorDecision(Input):
    decision: Literal["accept", "decline"]
    impartiality_declaration: bool = Field(
        False, description="I know of nothing that prevents my impartiality and will disclose anything that arises")
    reason: str | None = Field(None, max_length=2000)


class MediatorAccepted(BaseModel):
    proposal: ProposalView
    access_token: str | None = Field(None, description="a fresh mediator token that includes this case")


class Recusal(Input):
    reason: str = Field(min_length=1, max_length=2000)


def _proposal_view(p: MediatorProposal) -> ProposalView:
    return ProposalView(id=p.id, case_id=p.case_id, mediator_id=p.mediator_id, status=p.status,
                        claimant_accepted=p.claimant_accepted_at is not None,
                        respondent_accepted=p.respondent_accepted_at is not None,
                        mediator_accepted=p.impartiality_declared_at is not None)


async def propose_mediator(uow: UnitOfWork, *, case_id: str, mediator_id: str, principal: Principal,
                           personal_vault: personal.Vault) -> ProposalView:
    """A party (whose proposal counts as their acceptance) or an administrator proposes a mediator."""
    case, relation = await cases.access(uow.session, case_id, principal, to_act=True)
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
    now = cases.utcnow()
    fit = await register.fit(uow.session, m, case, await cases.people(uow.session, case.id, personal_vault), now)
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
    case, relation = await cases.access(uow.session, case_id, principal, to_act=True)
    if relation != "party":
        raise Forbidden("only the parties accept or reject a proposed mediator")
    p = await _proposal(uow.session, case.id, proposal_id)
    if p.status != "open":
        raise Conflict("proposal-closed", f"the proposal is {p.status}")
    if accept:
        setattr(p, f"{principal.party_side}_accepted_at", cases.utcnow())
    else:
        p.status, p.reason = "rejected", f"rejected by the {principal.party_side}"
    await uow.commit()
    return _proposal_view(p)


async def mediator_decides(uow: UnitOfWork, *, case_id: str, proposal_id: str, decision: MediatorDecision,
                           principal: Principal, tokens: TokenService,
                           personal_vault: personal.Vault) -> tuple[ProposalView, str | None]:
    """The mediator accepts (declaring impartiality, Law No. 401-IV Art. 7) or declines. Accepting
    assigns the mediator; the answer carries a fresh token that includes the case."""
    if principal.role != "mediator":
        raise Forbidden("only the proposed mediator answers")
    case = await cases.load(uow.session, case_id)
    p = await _proposal(uow.session, case.id, proposal_id)
    if p.mediator_id != principal.subject:
        raise NotFound("the proposal")
    if p.status != "open":
        raise Conflict("proposal-closed", f"the proposal is {p.status}")
    now = cases.utcnow()
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
    fit = await register.fit(uow.session, m, case, await cases.people(uow.session, case.id, personal_vault), now)
    if not fit.ok:
        raise fit.problem
    cases.move(uow, case, "mediator_accepted", actor=principal.subject, now=now)
    case.mediator_id = m.id
    p.status, p.impartiality_declared_at = "accepted", now
    p.declaration_text = "impartiality declared"
    uow.publish(MediatorAssigned(case_id=case.id, mediator_id=m.id))
    await uow.commit()
    token = tokens.issue(subject=m.id, role="mediator", cases=await cases.assigned_cases(uow.session, m.id))
    return _proposal_view(p), token


async def case_proposals(uow: UnitOfWork, *, case_id: str, principal: Principal) -> list[ProposalView]:
    """The case's mediator proposals, newest first, with the mediator's name: how the other
    party finds the proposal waiting for their answer."""
    case, relation = await cases.access(uow.session, case_id, principal)
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


async def recuse(uow: UnitOfWork, *, case_id: str, reason: str, principal: Principal, tokens: TokenService,
                 revocations: Revocations | None, personal_vault: personal.Vault) -> CaseView:
    """The assigned mediator steps down, or a party asks for a replacement: the case goes back to
    choosing a mediator, and the agreement to mediate must be signed again with the new one. The
    mediator's tokens stop opening this case at once, on every service and in the room (their
    other cases stay); a refreshed token no longer lists it."""
    case, relation = await cases.access(uow.session, case_id, principal, to_act=True)
    if relation not in ("mediator", "party"):
        raise Forbidden("the assigned mediator recuses; a party may ask for a replacement")
    if case.mediator_id is None:
        raise Conflict("illegal-transition", "the case has no mediator", case_status=case.status)
    mediator_id = case.mediator_id
    cases.move(uow, case, "mediator_recused", actor=principal.subject, reason=reason)
    accepted = (await uow.session.execute(select(MediatorProposal).where(
        MediatorProposal.case_id == case.id, MediatorProposal.mediator_id == mediator_id,
        MediatorProposal.status == "accepted"))).scalars().all()
    for p in accepted:
        p.status, p.reason = "recused", reason
    case.mediator_id = None
    case.term_starts_on = case.term_ends_on = None
    uow.publish(MediatorRecused(case_id=case.id, mediator_id=mediator_id,
                                by="mediator" if relation == "mediator" else "party"))
    revocation.revoke(uow, revocations=revocations, tokens=tokens, subject=mediator_id, case_id=case.id,
                      reason="recused")
    await uow.commit()
    return cases.view(case, await cases.people(uow.session, case.id, personal_vault), principal, relation)
