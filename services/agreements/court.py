"""The court API's use cases (``/court/v1``). A court client's token carries its ``court``; it sees
only cases that court referred (``CaseRef.court_id``) and, of those, only executed agreements.
Another court's agreement is a 404, the same as one that does not exist.

Webhooks: a court registers endpoints here; the notifications service delivers to them with
Standard Webhooks signatures. It learns of endpoints from ``odr.court.webhook.registered.v1`` /
``.removed.v1`` and of what to deliver from ``odr.agreement.signed.v1`` / ``approved`` /
``rejected`` (which carry ``court_id``); it reads the signing secret from
``GET /admin/court-webhooks/{id}`` with an admin token, since secrets never travel in events.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from shared.auth import Principal
from shared.contracts.agreements import (AgreementApproved, AgreementRejected, CourtWebhookRegistered,
                                         CourtWebhookRemoved)
from shared.problems import Conflict, NotFound, Problem
from shared.uow import UnitOfWork

from . import feed, service
from .context import Context
from .models import Agreement, CaseRef, CourtAcknowledgement, CourtWebhook, SealRecord
from .schemas import (Acknowledgement, CourtDecisionIn, CourtDecisionView, Feed, FeedItem, SealedDocument,
                      WebhookCreate, WebhookCreated, WebhookList, WebhookView)
from .vault import webhook_aad

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
    return Feed(items=[FeedItem(cursor=str(i.seq), type=i.type, case_id=i.case_id, agreement_id=i.agreement_id,
                                version=i.version, document_hash=i.document_hash, occurred_at=i.occurred_at)
                       for i in items],
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
        agreement = await service.load(session, agreement_id, _as_admin(principal), lock=True)
    return agreement


def _as_admin(principal: Principal) -> Principal:
    """Access was checked against the court already; ``service.load`` only re-reads under lock."""
    return Principal(subject=principal.subject, role="admin", token_id=principal.token_id)


async def _audit(ctx: Context, uow: UnitOfWork, agreement: Agreement, action: str, principal: Principal, **details):
    await service._audit(ctx, uow.session, agreement, action, principal, **details)


async def get_agreement(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> SealedDocument:
    agreement = await _court_agreement(uow, principal, agreement_id)
    out = await service.sealed_document(uow.session, ctx, agreement)
    await _audit(ctx, uow, agreement, "viewed", principal, what="sealed-document", court_id=principal.court)
    await uow.commit()
    return out


async def get_pdf(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> bytes:
    agreement = await _court_agreement(uow, principal, agreement_id)
    out = await service.pdf_bytes(uow.session, ctx, agreement)
    await _audit(ctx, uow, agreement, "viewed", principal, what="pdf", court_id=principal.court)
    await uow.commit()
    return out


async def acknowledge(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> Acknowledgement:
    """The court confirms it received the executed agreement. Idempotent."""
    agreement = await _court_agreement(uow, principal, agreement_id)
    record = await uow.session.get(SealRecord, agreement.id)
    ack = await uow.session.get(CourtAcknowledgement, (agreement.id, principal.court))
    if ack is None:
        ack = CourtAcknowledgement(agreement_id=agreement.id, court_id=principal.court, version=record.version,
                                   acknowledged_by=principal.subject, acknowledged_at=datetime.now(timezone.utc))
        uow.session.add(ack)
        await _audit(ctx, uow, agreement, "acknowledged_by_court", principal, court_id=principal.court)
        await uow.commit()
    return Acknowledgement(agreement_id=agreement.id, version=ack.version, acknowledged_at=ack.acknowledged_at)


async def decide(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str,
                 body: CourtDecisionIn) -> CourtDecisionView:
    """The court approves (Civil Procedure Code Art. 24 for KZ) or rejects the agreement. Once."""
    agreement = await _court_agreement(uow, principal, agreement_id, lock=True)
    if agreement.court_decision is not None:
        if agreement.court_decision == body.decision:
            return CourtDecisionView(agreement_id=agreement.id, decision=agreement.court_decision,
                                     reference=agreement.court_reference, decided_at=agreement.court_decided_at)
        raise Conflict("already-decided", f"the court already recorded '{agreement.court_decision}'")
    now = datetime.now(timezone.utc)
    agreement.court_decision, agreement.court_reference, agreement.court_decided_at = body.decision, body.reference, now
    evt_cls = AgreementApproved if body.decision == "approved" else AgreementRejected
    uow.publish(evt_cls(case_id=agreement.case_id, agreement_id=agreement.id, court_id=principal.court))
    record = await uow.session.get(SealRecord, agreement.id)
    await feed.append(uow.session, court_id=principal.court, type=evt_cls.type, case_id=agreement.case_id,
                      agreement_id=agreement.id, version=record.version, document_hash=record.document_hash, at=now)
    await _audit(ctx, uow, agreement, body.decision, principal, court_id=principal.court, reference=body.reference)
    await uow.commit()
    return CourtDecisionView(agreement_id=agreement.id, decision=body.decision, reference=body.reference, decided_at=now)


# -- webhooks -------------------------------------------------------------------------------------


def _check_url(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    local = host == "localhost"
    try:
        local = local or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if parts.scheme != "https" and not local:
        raise Problem(422, "insecure-webhook-url", "webhook URLs must use https (http only for localhost)")
    if parts.username or parts.password:
        raise Problem(422, "invalid-webhook-url", "webhook URLs must not carry credentials")


def _view(w: CourtWebhook) -> WebhookView:
    return WebhookView(id=w.id, court_id=w.court_id, url=w.url, event_types=w.event_types, created_at=w.created_at)


async def create_webhook(uow: UnitOfWork, ctx: Context, *, principal: Principal, body: WebhookCreate) -> WebhookCreated:
    url = str(body.url)
    _check_url(url)
    existing = (await uow.session.execute(select(CourtWebhook).where(
        CourtWebhook.court_id == principal.court, CourtWebhook.url == url))).scalar_one_or_none()
    if existing is not None:
        raise Conflict("webhook-exists", "this URL is already registered; delete it first to get a new secret",
                       webhook_id=existing.id)
    webhook_id = str(uuid.uuid4())
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    webhook = CourtWebhook(id=webhook_id, court_id=principal.court, url=url, event_types=list(body.event_types),
                           created_by=principal.subject, created_at=datetime.now(timezone.utc),
                           **ctx.vault.seal(secret.encode(), aad=webhook_aad(webhook_id)))
    uow.session.add(webhook)
    uow.publish(CourtWebhookRegistered(case_id=f"court:{principal.court}", webhook_id=webhook_id,
                                       court_id=principal.court, url=url, event_types=webhook.event_types))
    await uow.commit()
    return WebhookCreated(**_view(webhook).model_dump(), secret=secret)


async def list_webhooks(uow: UnitOfWork, *, principal: Principal) -> WebhookList:
    rows = (await uow.session.execute(select(CourtWebhook).where(CourtWebhook.court_id == principal.court)
                                      .order_by(CourtWebhook.created_at))).scalars()
    return WebhookList(items=[_view(w) for w in rows])


async def delete_webhook(uow: UnitOfWork, *, principal: Principal, webhook_id: str) -> None:
    webhook = await uow.session.get(CourtWebhook, webhook_id)
    if webhook is None or webhook.court_id != principal.court:
        raise NotFound("the webhook")
    await uow.session.delete(webhook)
    uow.publish(CourtWebhookRemoved(case_id=f"court:{webhook.court_id}", webhook_id=webhook.id,
                                    court_id=webhook.court_id))
    await uow.commit()


async def webhook_secret(uow: UnitOfWork, ctx: Context, *, webhook_id: str) -> WebhookCreated:
    """For the delivering service (admin token): the endpoint with its signing secret."""
    webhook = await uow.session.get(CourtWebhook, webhook_id)
    if webhook is None:
        raise NotFound("the webhook")
    secret = ctx.vault.open(webhook, aad=webhook_aad(webhook.id), what=f"webhook {webhook.id} secret").decode()
    return WebhookCreated(**_view(webhook).model_dump(), secret=secret)
