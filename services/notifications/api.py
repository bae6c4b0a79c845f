"""Notifications routes: the in-app feed and its live stream, contact details, preferences,
court webhook endpoints (``/court/v1/webhooks``) and, in dev mode, the local mailbox."""

from __future__ import annotations

from collections.abc import AsyncIterable

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy import select

from shared.auth import Principal, Unauthorized, bearer_token, current_principal
from shared.deps import service_context, unit_of_work
from shared.params import PositiveInt
from shared.problems import NotFound
from shared.uow import UnitOfWork

from . import service, webhooks
from .context import Notifier
from .models import MailboxMessage
from .schemas import (ContactIn, ContactView, Feed, PreferencesIn, PreferencesView, RotateSecretIn, SecretRotated,
                      WebhookEndpointCreated, WebhookEndpointIn, WebhookEndpointView, WebhookMessages,
                      WebhookMessageView)

router = APIRouter()


# -- in-app --------------------------------------------------------------------------------------


@router.get("/feed", response_model=Feed, tags=["in-app"])
async def feed(request: Request, limit: int = Query(50, ge=1, le=200), principal: Principal = Depends(current_principal),
               uow: UnitOfWork = Depends(unit_of_work), n: Notifier = Depends(service_context)) -> Feed:
    """The caller's in-app notifications, newest first: a title in their language, a link and a status."""
    return await service.feed(uow, n, principal=principal, limit=limit, base_url=n.link_base(request))


async def _stream_principal(request: Request, access_token: str | None = Query(
        None, description="For browsers' EventSource, which cannot send headers; prefer the Authorization header."),
        bearer: str | None = Depends(bearer_token)) -> Principal:
    token = bearer or access_token
    if not token:
        raise Unauthorized()
    return request.app.state.runtime.tokens.verify(token)


@router.get("/feed/stream", response_class=EventSourceResponse, tags=["in-app"])
async def feed_stream(request: Request, principal: Principal = Depends(_stream_principal),
                      last_event_id: str | None = Header(None),
                      n: Notifier = Depends(service_context)) -> AsyncIterable[ServerSentEvent]:
    """Live push (server-sent events): each new notice as a `notification` event whose id is the
    notice id. Reconnect with `Last-Event-ID` to resume without gaps. The stream ends when the
    token is revoked (sign-out, a disabled account)."""
    factory = request.app.state.runtime.session_factory
    async with factory() as session:
        cursor = await service.feed_cursor(session, principal=principal, last_event_id=last_event_id)
    signal = n.signals["feed"]
    revocations = request.app.state.runtime.tokens.revocations
    while not await request.is_disconnected():
        if revocations is not None:
            principal = revocations.screen(principal)
            if principal is None:
                return  # the token was revoked since the stream opened: it ends
        async with factory() as session:
            items = await service.feed_since(session, n, principal=principal, after=cursor,
                                             base_url=n.link_base(request))
        for item in items:
            yield ServerSentEvent(data=item.model_dump(mode="json"), event="notification", id=item.id)
            cursor = (item.created_at, item.id)
        if not items:
            await signal.wait(n.nsettings.feed_poll_seconds)


@router.post("/feed/{notification_id}/read", status_code=204, tags=["in-app"])
async def mark_read(notification_id: str, principal: Principal = Depends(current_principal),
                    uow: UnitOfWork = Depends(unit_of_work)) -> Response:
    await service.mark_read(uow, principal=principal, notification_id=notification_id)
    return Response(status_code=204)


# -- contacts and preferences --------------------------------------------------------------------


@router.put("/contacts/{participant_id}", response_model=ContactView, tags=["contacts"])
async def put_contact(participant_id: str, body: ContactIn, principal: Principal = Depends(current_principal),
                      uow: UnitOfWork = Depends(unit_of_work), n: Notifier = Depends(service_context)) -> ContactView:
    """Set a participant's email/phone (the participant themself, or an administrator). Stored
    sealed; answers are masked."""
    return await service.put_contact(uow, n, principal=principal, participant_id=participant_id, body=body)


@router.get("/contacts/{participant_id}", response_model=ContactView, tags=["contacts"])
async def get_contact(participant_id: str, principal: Principal = Depends(current_principal),
                      uow: UnitOfWork = Depends(unit_of_work), n: Notifier = Depends(service_context)) -> ContactView:
    return await service.get_contact(uow, n, principal=principal, participant_id=participant_id)


@router.delete("/contacts/{participant_id}", status_code=204, tags=["contacts"])
async def delete_contact(participant_id: str, principal: Principal = Depends(current_principal),
                         uow: UnitOfWork = Depends(unit_of_work)) -> Response:
    await service.delete_contact(uow, principal=principal, participant_id=participant_id)
    return Response(status_code=204)


@router.get("/preferences", response_model=PreferencesView, tags=["preferences"])
async def get_preferences(principal: Principal = Depends(current_principal),
                          uow: UnitOfWork = Depends(unit_of_work)) -> PreferencesView:
    return await service.get_preferences(uow, principal=principal)


@router.put("/preferences", response_model=PreferencesView, tags=["preferences"])
async def put_preferences(body: PreferencesIn, principal: Principal = Depends(current_principal),
                          uow: UnitOfWork = Depends(unit_of_work)) -> PreferencesView:
    """Channels, language and quiet hours (HH:MM in the case's time zone). Critical notices
    (deadlines, court decisions, session reminders) are not held by quiet hours."""
    return await service.put_preferences(uow, principal=principal, body=body)


# -- court webhooks ------------------------------------------------------------------------------

COURT = ["court webhooks"]


@router.post("/court/v1/webhooks", response_model=WebhookEndpointCreated, status_code=201, tags=COURT)
async def create_webhook(body: WebhookEndpointIn, principal: Principal = Depends(current_principal),
                         uow: UnitOfWork = Depends(unit_of_work),
                         n: Notifier = Depends(service_context)) -> WebhookEndpointCreated:
    """Register an endpoint for this court's events (Standard Webhooks v1). The `whsec_` secret is
    shown only in this answer."""
    return await webhooks.create_endpoint(uow, n, principal=principal, body=body)


@router.get("/court/v1/webhooks", response_model=list[WebhookEndpointView], tags=COURT)
async def list_webhooks(principal: Principal = Depends(current_principal),
                        uow: UnitOfWork = Depends(unit_of_work)) -> list[WebhookEndpointView]:
    return await webhooks.list_endpoints(uow, principal=principal)


@router.get("/court/v1/webhooks/{endpoint_id}", response_model=WebhookEndpointView, tags=COURT)
async def get_webhook(endpoint_id: str, principal: Principal = Depends(current_principal),
                      uow: UnitOfWork = Depends(unit_of_work)) -> WebhookEndpointView:
    return await webhooks.get_endpoint(uow, principal=principal, endpoint_id=endpoint_id)


@router.delete("/court/v1/webhooks/{endpoint_id}", status_code=204, tags=COURT)
async def delete_webhook(endpoint_id: str, principal: Principal = Depends(current_principal),
                         uow: UnitOfWork = Depends(unit_of_work)) -> Response:
    await webhooks.delete_endpoint(uow, principal=principal, endpoint_id=endpoint_id)
    return Response(status_code=204)


@router.post("/court/v1/webhooks/{endpoint_id}/rotate-secret", response_model=SecretRotated, tags=COURT)
async def rotate_webhook_secret(endpoint_id: str, body: RotateSecretIn | None = None,
                                principal: Principal = Depends(current_principal),
                                uow: UnitOfWork = Depends(unit_of_work),
                                n: Notifier = Depends(service_context)) -> SecretRotated:
    """A new secret; the old one keeps signing (a second `v1,` signature) until the grace period ends."""
    return await webhooks.rotate_secret(uow, n, principal=principal, endpoint_id=endpoint_id,
                                        body=body or RotateSecretIn())


@router.post("/court/v1/webhooks/{endpoint_id}/enable", response_model=WebhookEndpointView, tags=COURT)
async def enable_webhook(endpoint_id: str, principal: Principal = Depends(current_principal),
                         uow: UnitOfWork = Depends(unit_of_work),
                         n: Notifier = Depends(service_context)) -> WebhookEndpointView:
    """Re-enable an endpoint disabled by a `410 Gone`; its pending messages resume."""
    return await webhooks.enable_endpoint(uow, n, principal=principal, endpoint_id=endpoint_id)


@router.get("/court/v1/webhooks/{endpoint_id}/messages", response_model=WebhookMessages, tags=COURT)
async def webhook_messages(endpoint_id: str, limit: int = Query(50, ge=1, le=200),
                           principal: Principal = Depends(current_principal),
                           uow: UnitOfWork = Depends(unit_of_work)) -> WebhookMessages:
    """The delivery log: messages, newest first, each with every attempt."""
    return await webhooks.messages(uow, principal=principal, endpoint_id=endpoint_id, limit=limit)


@router.post("/court/v1/webhooks/{endpoint_id}/messages/{message_id}/redeliver", response_model=WebhookMessageView,
             status_code=202, tags=COURT)
async def redeliver_webhook(endpoint_id: str, message_id: str, principal: Principal = Depends(current_principal),
                            uow: UnitOfWork = Depends(unit_of_work),
                            n: Notifier = Depends(service_context)) -> WebhookMessageView:
    """Send a message again now, with the same `webhook-id`."""
    return await webhooks.redeliver(uow, n, principal=principal, endpoint_id=endpoint_id, message_id=message_id)


# -- the local mailbox (dev) ---------------------------------------------------------------------


def _mailbox_on(n) -> None:
    if not n.mailbox_enabled:
        raise NotFound("the local mailbox (dev mode with email transport `mailbox` only)")


@router.get("/mailbox", response_class=HTMLResponse, include_in_schema=False)
async def mailbox(uow: UnitOfWork = Depends(unit_of_work), n: Notifier = Depends(service_context)) -> HTMLResponse:
    _mailbox_on(n)
    rows = (await uow.session.execute(select(MailboxMessage).order_by(MailboxMessage.id.desc()).limit(200))).scalars().all()
    return HTMLResponse(n.renderer.html_template("mailbox_list.html.j2").render(messages=rows))


@router.get("/mailbox.json", include_in_schema=False)
async def mailbox_json(uow: UnitOfWork = Depends(unit_of_work), n: Notifier = Depends(service_context)) -> dict:
    _mailbox_on(n)
    rows = (await uow.session.execute(select(MailboxMessage).order_by(MailboxMessage.id))).scalars().all()
    return {"items": [{"id": m.id, "message_id": m.message_id, "recipient": m.recipient, "to": m.to_address,
                       "subject": m.subject, "language": m.language, "text": m.text_body,
                       "received_at": m.received_at.isoformat()} for m in rows]}


@router.get("/mailbox/{message_id}", response_class=HTMLResponse, include_in_schema=False)
async def mailbox_message(message_id: PositiveInt, uow: UnitOfWork = Depends(unit_of_work),
                          n: Notifier = Depends(service_context)) -> HTMLResponse:
    _mailbox_on(n)
    m = await uow.session.get(MailboxMessage, message_id)
    if m is None:
        raise NotFound("the message")
    return HTMLResponse(n.renderer.html_template("mailbox_message.html.j2").render(m=m))
