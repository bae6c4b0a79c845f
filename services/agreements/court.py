"""The court API's use cases (``/court/v1``). A court client's token carries its ``court``; it sees
only cases that court referred (``CaseRef.court_id``) and, of those, only executed agreements.
Another court's agreement is a 404, the same as one that does not exist. Prosecutors and
investigators who refer criminal cases are clients of the same API (their ``court`` names the body);
the signed item of a criminal case carries the article its reconciliation enables (``legal_effect``).

Webhooks: courts register endpoints with the notifications service
(``/notifications/court/v1/webhooks``), which delivers ``odr.agreement.signed.v1``,
``approved`` and ``rejected`` (they carry ``court_id``) with Standard Webhooks signatures; the
feed here is the pull side of the same events.
"""

from __future__ import annotations

from sqlalchemy import select

from shared.auth import Principal
from shared.clock import utcnow
from shared.contracts.agreements import AgreementApproved, AgreementRejected, AgreementSigned
from shared.problems import Conflict, NotFound, Problem
from shared.uow import UnitOfWork

from . import feed, service
from .context import Context
from .models import Agreement, CaseRef, CourtAcknowledgement, SealRecord
from .schemas import Acknowledgement, CourtDecisionIn, CourtDecisionView, Feed, FeedItem, SealedDocument

MAX_CURSOR = 10**15


def parse_cursor(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isdigit() or int(after) > MAX_CURSOR:
        raise Problem(422, "invalid-cursor", "`after` must be a cursor returned by this feed")
    return int(after)


async def read_feed(uow: UnitOfWork, *, principal: Principal, after: str | None, limit: int) -> Feed:
    position = parse_cursor(after)
    items = await feed.read(uow.session, court_id=principal.court, after=position, limit=limit)
    cases = {c.case_id: c for c in (await uow.session.execute(
        select(CaseRef).where(CaseRef.case_id.in_({i.case_id for i in items})))).scalars()}
    out = []
    for i in items:
        signatures = legal_effect = None
        if i.type == AgreementSigned.type and i.version is not None:  # the signatures travel with the event
            signatures = await service.signature_summaries(uow.session, agreement_id=i.agreement_id, version=i.version)
            # a criminal case: the body learns which article the reconciliation enables (Art. 68)
            legal_effect = cases[i.case_id].legal_effect if i.case_id in cases else None
        case = cases.get(i.case_id)
        out.append(FeedItem(cursor=str(i.seq), type=i.type, case_id=i.case_id, case_reference=case and case.reference,
                            agreement_id=i.agreement_id,
                            version=i.version, document_hash=i.document_hash, occurred_at=i.occurred_at,
                            signatures=signatures, legal_effect=legal_effect))
    return Feed(items=out,
                next_cursor=str(items[-1].seq if items else position))


async def _court_agreement(uow: UnitOfWork, principal: Principal, agreement_id: str, *, lock: bool = False) -> Agreement:
    session = uow.session
    agreement = await session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound("the agreement")
    case = await session.get(CaseRef, agreement.case_id)
    if not principal.court or case.court_id != principal.court or agreement.executed_at is None:
        raise NotFound("the agreement")
    if lock:
        agreement = await service.lock_agreement(session, agreement_id)
    return agreement


async def get_agreement(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> SealedDocument:
    agreement = await _court_agreement(uow, principal, agreement_id)
    out = await service.sealed_document(uow.session, ctx, agreement)
    await service.record_audit(ctx, uow.session, agreement, "viewed", principal, what="sealed-document",
                               court_id=principal.court)
    await uow.commit()
    return out


async def get_pdf(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> bytes:
    agreement = await _court_agreement(uow, principal, agreement_id)
    out = await service.pdf_bytes(uow.session, ctx, agreement)
    await service.record_audit(ctx, uow.session, agreement, "viewed", principal, what="pdf", court_id=principal.court)
    await uow.commit()
    return out


async def acknowledge(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> Acknowledgement:
    """The court confirms it received the executed agreement. Idempotent."""
    agreement = await _court_agreement(uow, principal, agreement_id)
    record = await uow.session.get(SealRecord, agreement.id)
    ack = await uow.session.get(CourtAcknowledgement, (agreement.id, principal.court))
    if ack is None:
        ack = CourtAcknowledgement(agreement_id=agreement.id, court_id=principal.court, version=record.version,
                                   acknowledged_by=principal.subject, acknowledged_at=utcnow())
        uow.session.add(ack)
        await service.record_audit(ctx, uow.session, agreement, "acknowledged_by_court", principal,
                                   court_id=principal.court)
        await uow.commit()
    return Acknowledgement(agreement_id=agreement.id, version=ack.version, acknowledged_at=ack.acknowledged_at)


# Why a prosecutor or an investigator is refused the decision route, in the languages its clerks
# may read (a body's client has no language of its own).
NOT_APPROVED_BY_BODY = {
    "en": "A prosecutor or an investigator does not approve or reject a mediation agreement: when the victim and the "
          "suspect are reconciled, it decides in its own criminal proceedings whether to terminate the criminal case "
          "(in Kazakhstan, release from criminal liability under Criminal Code Art. 68). The signed agreement is for "
          "that decision; nothing is recorded here.",
    "ru": "Прокурор или следователь не утверждает и не отклоняет соглашение о медиации: при примирении потерпевшего "
          "и подозреваемого он в своём уголовном производстве решает, прекратить ли уголовное дело (в Казахстане — "
          "освобождение от уголовной ответственности по статье 68 УК). Подписанное соглашение нужно для этого "
          "решения; здесь ничего не записывается.",
    "kk": "Прокурор немесе тергеуші медиация туралы келісімді бекітпейді де, қабылдамай да қоймайды: жәбірленуші мен "
          "күдікті татуласқанда ол өзінің қылмыстық іс жүргізуінде қылмыстық істі тоқтату туралы шешеді "
          "(Қазақстанда — ҚК 68-бабы бойынша қылмыстық жауаптылықтан босату). Қол қойылған келісім сол шешім үшін "
          "керек; мұнда ештеңе жазылмайды.",
    "ky": "Прокурор же тергөөчү медиация жөнүндө келишимди бекитпейт жана четке какпайт: жабырлануучу менен шектүү "
          "элдешкенде ал өзүнүн кылмыш-жазык өндүрүшүндө кылмыш ишин токтотуу жөнүндө чечет. Кол коюлган келишим "
          "ошол чечим үчүн керек; бул жерде эч нерсе жазылбайт.",
}


async def decide(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str,
                 body: CourtDecisionIn) -> CourtDecisionView:
    """The court approves (Civil Procedure Code Art. 24 for KZ) or rejects the agreement. Once.

    Only a court: approving a settlement is a court's act in civil procedure. A prosecutor or an
    investigator (who refer criminal cases only) makes no such decision; under the Criminal
    Procedure Code's logic it terminates the criminal case itself when the victim and the suspect
    are reconciled (KZ Criminal Code Art. 68), in its own proceedings, with the signed agreement
    as the ground. So rather than record an "approval by the court" that no court gave, the route
    refuses them (409 ``not-a-court-decision``) and says why in kk/ru/en/ky."""
    agreement = await _court_agreement(uow, principal, agreement_id, lock=True)
    case = await uow.session.get(CaseRef, agreement.case_id)
    if case.referred_by in ("prosecutor", "investigator"):
        raise Conflict("not-a-court-decision",
                       f"a {case.referred_by} does not approve or reject a mediation agreement; it decides in its "
                       "own proceedings whether to terminate the criminal case on the parties' reconciliation",
                       referred_by=case.referred_by, explanation=NOT_APPROVED_BY_BODY)
    if agreement.court_decision is not None:
        if agreement.court_decision == body.decision:
            return CourtDecisionView(agreement_id=agreement.id, decision=agreement.court_decision,
                                     reference=agreement.court_reference, decided_at=agreement.court_decided_at)
        raise Conflict("already-decided", f"the court already recorded '{agreement.court_decision}'")
    now = utcnow()
    agreement.court_decision, agreement.court_reference, agreement.court_decided_at = body.decision, body.reference, now
    evt_cls = AgreementApproved if body.decision == "approved" else AgreementRejected
    uow.publish(evt_cls(case_id=agreement.case_id, agreement_id=agreement.id, court_id=principal.court))
    record = await uow.session.get(SealRecord, agreement.id)
    await feed.append(uow.session, court_id=principal.court, type=evt_cls.type, case_id=agreement.case_id,
                      agreement_id=agreement.id, version=record.version, document_hash=record.document_hash, at=now)
    await service.record_audit(ctx, uow.session, agreement, body.decision, principal, court_id=principal.court,
                               reference=body.reference)
    await uow.commit()
    return CourtDecisionView(agreement_id=agreement.id, decision=body.decision, reference=body.reference, decided_at=now)
