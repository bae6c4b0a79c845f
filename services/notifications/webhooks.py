"""Court webhooks (Standard Webhooks v1): endpoint registration and secret rotation, one message
per (event, endpoint), and the worker that delivers them with retries.

- A message's id is its ``webhook-id`` on every attempt, automatic or manual, so a court can
  deduplicate. The body is fixed when the message is created, so every attempt is byte-identical;
  only ``webhook-timestamp`` and the signature are fresh per attempt.
- Retries follow the configured schedule (the spec's 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by
  default) with +-jitter; after the last one the message is ``failed``.
- ``410 Gone`` disables the endpoint: no further attempts to it until the court re-enables it.
- Every attempt is logged in ``webhook_attempts`` (outcome, status code, duration; no bodies).
- The body carries ids, statuses and a link: never agreement terms.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.clock import utcnow
from shared.events import CloudEvent
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.uow import UnitOfWork
from shared.workers import Worker

from .catalog import link_for
from .channels import webhooks as wire
from .channels.outbound import BlockedAddress, PublicAddressTransport
from .models import CaseEntry, WebhookAttempt, WebhookEndpoint, WebhookMessage, WebhookSecret
from .schemas import (RotateSecretIn, SecretRotated, WebhookAttemptView, WebhookEndpointCreated, WebhookEndpointIn,
                      WebhookEndpointView, WebhookMessages, WebhookMessageView)
from .storage import insert_ignore, stable_id

log = logging.getLogger("odr.notifications.webhooks")

# CloudEvents types a court may subscribe to (and the notice kind whose link the body carries).
COURT_EVENTS = {
    "odr.case.filed.v1": "case_filed",
    "odr.agreement.signed.v1": "agreement_signed",
    "odr.agreement.approved.v1": "court_decision",
    "odr.agreement.rejected.v1": "court_decision",
}



# -- registration --------------------------------------------------------------------------------


def _court_of(principal: Principal) -> str:
    if principal.role != "court" or not principal.court:
        raise Forbidden("this needs a court token")
    return principal.court


def _endpoint_view(e: WebhookEndpoint) -> WebhookEndpointView:
    return WebhookEndpointView(id=e.id, court_id=e.court_id, url=e.url, event_types=e.event_types or [],
                               status=e.status, disabled_reason=e.disabled_reason, created_at=e.created_at)


def _validated(notifier, body: WebhookEndpointIn) -> tuple[str, list[str]]:
    try:
        url = wire.check_url(body.url, allow_insecure=notifier.allow_private_webhooks)
    except wire.BadUrl as exc:
        log.info("webhook endpoint refused", extra={"reason": str(exc)})
        raise Problem(422, "bad-webhook-url", str(exc)) from None
    unknown = sorted(set(body.event_types) - set(COURT_EVENTS))
    if unknown:
        raise Problem(422, "unknown-event-type", "unknown event types; see `known`", unknown=unknown,
                      known=sorted(COURT_EVENTS))
    return url, sorted(set(body.event_types))


async def _add_secret(session: AsyncSession, notifier, endpoint_id: str) -> str:
    secret = wire.new_secret()
    sid = str(uuid.uuid4())
    session.add(WebhookSecret(id=sid, endpoint_id=endpoint_id, created_at=utcnow(), expires_at=None,
                              sealed=notifier.sealer.seal(secret, aad=f"webhook:{endpoint_id}:{sid}")))
    return secret


async def create_endpoint(uow: UnitOfWork, notifier, *, principal: Principal, body: WebhookEndpointIn) -> WebhookEndpointCreated:
    court = _court_of(principal)
    url, types = _validated(notifier, body)
    now = utcnow()
    endpoint = WebhookEndpoint(id="ep_" + uuid.uuid4().hex, court_id=court, url=url, event_types=types,
                               status="active", created_at=now, updated_at=now)
    uow.session.add(endpoint)
    secret = await _add_secret(uow.session, notifier, endpoint.id)
    await uow.commit()
    log.info("webhook endpoint registered", extra={"endpoint_id": endpoint.id, "court_id": court})
    return WebhookEndpointCreated(**_endpoint_view(endpoint).model_dump(), secret=secret)


async def _own_endpoint(session: AsyncSession, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    court = _court_of(principal)
    e = await session.get(WebhookEndpoint, endpoint_id)
    if e is None or e.court_id != court or e.status == "deleted":
        raise NotFound("the webhook endpoint")
    return e


async def list_endpoints(uow: UnitOfWork, *, principal: Principal) -> list[WebhookEndpointView]:
    court = _court_of(principal)
    rows = (await uow.session.execute(select(WebhookEndpoint).where(
        WebhookEndpoint.court_id == court, WebhookEndpoint.status != "deleted").order_by(WebhookEndpoint.created_at))).scalars()
    return [_endpoint_view(e) for e in rows]


async def get_endpoint(uow: UnitOfWork, *, principal: Principal, endpoint_id: str) -> WebhookEndpointView:
    return _endpoint_view(await _own_endpoint(uow.session, principal, endpoint_id))


async def rotate_secret(uow: UnitOfWork, notifier, *, principal: Principal, endpoint_id: str,
                        body: RotateSecretIn) -> SecretRotated:
    e = await _own_endpoint(uow.session, principal, endpoint_id)
    now = utcnow()
    grace = body.grace_seconds if body.grace_seconds is not None else notifier.nsettings.webhook_secret_grace_seconds
    expires = now + timedelta(seconds=grace)
    await uow.session.execute(update(WebhookSecret).where(
        WebhookSecret.endpoint_id == e.id, or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > expires)
    ).values(expires_at=expires))
    secret = await _add_secret(uow.session, notifier, e.id)
    e.updated_at = now
    await uow.commit()
    log.info("webhook secret rotated", extra={"endpoint_id": e.id})
    return SecretRotated(secret=secret, previous_expires_at=expires)


async def delete_endpoint(uow: UnitOfWork, *, principal: Principal, endpoint_id: str) -> None:
    e = await _own_endpoint(uow.session, principal, endpoint_id)
    e.status, e.updated_at = "deleted", utcnow()
    await uow.session.execute(update(WebhookMessage).where(
        WebhookMessage.endpoint_id == e.id, WebhookMessage.status.in_(["pending", "redeliver"])).values(status="abandoned"))
    await uow.commit()


async def enable_endpoint(uow: UnitOfWork, notifier, *, principal: Principal, endpoint_id: str) -> WebhookEndpointView:
    e = await _own_endpoint(uow.session, principal, endpoint_id)
    e.status, e.disabled_reason, e.updated_at = "active", None, utcnow()
    notifier.after_commit(uow.session, "webhooks")
    await uow.commit()
    return _endpoint_view(e)


async def messages(uow: UnitOfWork, *, principal: Principal, endpoint_id: str, limit: int = 50) -> WebhookMessages:
    e = await _own_endpoint(uow.session, principal, endpoint_id)
    rows = list((await uow.session.execute(select(WebhookMessage).where(WebhookMessage.endpoint_id == e.id)
                                           .order_by(WebhookMessage.created_at.desc()).limit(limit))).scalars())
    attempts: dict[str, list[WebhookAttemptView]] = {}
    if rows:
        for a in (await uow.session.execute(select(WebhookAttempt).where(
                WebhookAttempt.message_id.in_([m.id for m in rows])).order_by(WebhookAttempt.id))).scalars():
            attempts.setdefault(a.message_id, []).append(WebhookAttemptView(
                attempt=a.attempt, attempted_at=a.attempted_at, outcome=a.outcome, status_code=a.status_code,
                duration_ms=a.duration_ms, error=a.error, trigger=a.trigger))
    return WebhookMessages(items=[WebhookMessageView(
        id=m.id, event_type=m.event_type, status=m.status, attempts=m.attempts,
        next_attempt_at=m.next_attempt_at if m.status in ("pending", "redeliver") else None,
        created_at=m.created_at, delivered_at=m.delivered_at, log=attempts.get(m.id, [])) for m in rows])


async def redeliver(uow: UnitOfWork, notifier, *, principal: Principal, endpoint_id: str, message_id: str) -> WebhookMessageView:
    e = await _own_endpoint(uow.session, principal, endpoint_id)
    if e.status != "active":
        raise Conflict("endpoint-disabled", "the endpoint is disabled; enable it before redelivering")
    m = await uow.session.get(WebhookMessage, message_id)
    if m is None or m.endpoint_id != e.id:
        raise NotFound("the webhook message")
    if m.status == "sending":
        raise Conflict("delivery-in-progress", "an attempt is in progress; try again shortly")
    m.status, m.next_attempt_at = "redeliver", utcnow()
    notifier.after_commit(uow.session, "webhooks")
    await uow.commit()
    return WebhookMessageView(id=m.id, event_type=m.event_type, status=m.status, attempts=m.attempts,
                              next_attempt_at=m.next_attempt_at, created_at=m.created_at, delivered_at=m.delivered_at)


# -- messages from events ------------------------------------------------------------------------


async def enqueue(session: AsyncSession, notifier, *, court_id: str | None, envelope: CloudEvent, data: dict) -> int:
    """One message per endpoint of ``court_id`` that wants this event type. A disabled endpoint
    (410) still collects its messages; they wait, unattempted, until the court enables it again."""
    if not court_id or envelope.type not in COURT_EVENTS:
        return 0
    endpoints = [e for e in (await session.execute(select(WebhookEndpoint).where(
        WebhookEndpoint.court_id == court_id, WebhookEndpoint.status.in_(["active", "disabled"])))).scalars()
        if not e.event_types or envelope.type in e.event_types]
    if not endpoints:
        return 0
    link = link_for(COURT_EVENTS[envelope.type], notifier.renderer.base_url, {**data, "case_id": envelope.subject})
    case = await session.get(CaseEntry, envelope.subject)
    body = json.dumps({"type": envelope.type, "timestamp": envelope.time.isoformat(),
                       "data": {**data, "case_id": envelope.subject, "case_reference": case.reference if case else None,
                                "event_id": envelope.id, "link": link}},
                      separators=(",", ":"), sort_keys=True)
    now = utcnow()
    rows = [{"id": "msg_" + stable_id(envelope.id, e.id).replace("-", ""), "endpoint_id": e.id, "court_id": court_id,
             "source_event_id": envelope.id, "event_type": envelope.type, "payload": body, "status": "pending",
             "attempts": 0, "next_attempt_at": now, "lease_until": None, "created_at": now, "delivered_at": None}
            for e in endpoints]
    await session.flush()
    created = await insert_ignore(session, WebhookMessage.__table__, rows, conflict=["source_event_id", "endpoint_id"])
    notifier.after_commit(session, "webhooks")
    return created


# -- the worker ----------------------------------------------------------------------------------


class WebhookWorker(Worker):
    def __init__(self, notifier, *, batch_size: int = 100, client: httpx.AsyncClient | None = None,
                 rng: random.Random | None = None) -> None:
        self.notifier = notifier
        self.settings = notifier.nsettings
        self.batch_size = batch_size
        self._client = client
        self._own_client = client is None
        self.transport: PublicAddressTransport | None = None  # our own client's (tests give it a resolver)
        self._random = rng or random.Random()
        super().__init__("notifications-webhooks", self._round, signal=notifier.signals["webhooks"],
                         backoff=lambda: self.settings.webhook_poll_seconds, logger=log)
        self.first_attempt_latencies: list[float] = []  # seconds from message creation (benchmarks)

    @property
    def session_factory(self):
        return self.notifier.runtime.session_factory

    def _due(self, now: datetime):
        return or_(and_(WebhookMessage.status.in_(["pending", "redeliver"]), WebhookMessage.next_attempt_at <= now),
                   and_(WebhookMessage.status == "sending", WebhookMessage.lease_until < now))

    async def start(self) -> None:
        if self._client is None:
            # Every request resolved and checked, connected to the checked address; no redirects.
            self.transport = PublicAddressTransport(allow_private=self.notifier.allow_private_webhooks)
            self._client = httpx.AsyncClient(transport=self.transport, timeout=self.settings.webhook_timeout_seconds,
                                             follow_redirects=False, trust_env=False)
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _round(self) -> float:
        done = await self.run_once()
        return 0 if done >= self.batch_size else self.settings.webhook_poll_seconds

    async def run_once(self) -> int:
        now = utcnow()
        async with self.session_factory() as session:
            ids = list((await session.execute(
                select(WebhookMessage.id).join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
                .where(self._due(now), WebhookEndpoint.status == "active")
                .order_by(WebhookMessage.next_attempt_at).limit(self.batch_size))).scalars())
        if not ids:
            return 0
        semaphore = asyncio.Semaphore(self.settings.webhook_concurrency)

        async def one(message_id: str) -> None:
            async with semaphore:
                try:
                    await self.attempt(message_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook attempt crashed", extra={"message_id": message_id})

        await asyncio.gather(*(one(i) for i in ids))
        return len(ids)

    async def _claim(self, message_id: str) -> str | None:
        """Mark the attempt before making it; returns the trigger, or None if someone else has it."""
        now = utcnow()
        async with self.session_factory() as session:
            m = await session.get(WebhookMessage, message_id)
            if m is None:
                return None
            trigger = "manual" if m.status == "redeliver" else "automatic"
            lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds + 30)
            result = await session.execute(update(WebhookMessage).where(
                WebhookMessage.id == message_id, WebhookMessage.status == m.status, self._due(now)
            ).values(status="sending", attempts=WebhookMessage.attempts + 1, lease_until=lease))
            await session.commit()
            return trigger if result.rowcount == 1 else None

    async def attempt(self, message_id: str) -> None:
        trigger = await self._claim(message_id)
        if trigger is None:
            return
        now = utcnow()
        async with self.session_factory() as session:
            m = await session.get(WebhookMessage, message_id)
            e = await session.get(WebhookEndpoint, m.endpoint_id)
            secrets_ = [self.notifier.sealer.open(s.sealed, aad=f"webhook:{e.id}:{s.id}") for s in (await session.execute(
                select(WebhookSecret).where(WebhookSecret.endpoint_id == e.id,
                                            or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now))
                .order_by(WebhookSecret.created_at.desc()))).scalars()]
        if m.attempts == 1 and trigger == "automatic":
            self.first_attempt_latencies.append((now - m.created_at).total_seconds())
        body = m.payload.encode()
        headers = wire.headers(secrets_=secrets_, msg_id=m.id, timestamp=int(time.time()), body=body)
        started = time.perf_counter()
        status_code, outcome, error = None, "delivered", None
        try:
            # The whole attempt within the timeout (httpx's applies per read or write), so the
            # lease (timeout + 30 s) always outlasts it and no other worker repeats it meanwhile.
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                response = await self._client.post(e.url, content=body, headers=headers)
            status_code = response.status_code
            if response.status_code == 410:
                outcome = "gone"
            elif not 200 <= response.status_code < 300:
                outcome, error = "http_error", f"HTTP {response.status_code}"
        except BlockedAddress:
            outcome, error = "blocked_address", "the host is not a public address"
            log.warning("webhook refused: the endpoint's host is not a public address",
                        extra={"message_id": m.id, "endpoint_id": e.id})
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            outcome, error = "bad_url", type(exc).__name__
        except httpx.HTTPError as exc:
            outcome, error = "network_error", type(exc).__name__
        except TimeoutError:
            outcome, error = "network_error", "Timeout"
        duration_ms = int((time.perf_counter() - started) * 1000)
        await self._record(m, e, trigger=trigger, outcome=outcome, status_code=status_code, error=error,
                           duration_ms=duration_ms)

    def _next_delay(self, attempts_done: int) -> float | None:
        schedule = self.settings.webhook_retry_schedule
        if attempts_done >= len(schedule):
            return None
        delay = schedule[attempts_done]
        return max(0.0, delay * (1 + self._random.uniform(-self.settings.webhook_jitter, self.settings.webhook_jitter)))

    async def _record(self, m: WebhookMessage, e: WebhookEndpoint, *, trigger: str, outcome: str,
                      status_code: int | None, error: str | None, duration_ms: int) -> None:
        now = utcnow()
        extra = {"message_id": m.id, "endpoint_id": e.id, "attempt": m.attempts, "outcome": outcome,
                 "status_code": status_code, "trigger": trigger}
        async with self.session_factory() as session:
            session.add(WebhookAttempt(message_id=m.id, endpoint_id=e.id, attempt=m.attempts, attempted_at=now,
                                       outcome=outcome, status_code=status_code, duration_ms=duration_ms, error=error,
                                       trigger=trigger))
            values: dict = {"lease_until": None}
            if outcome == "delivered":
                values.update(status="delivered", delivered_at=now)
                log.info("webhook delivered", extra=extra)
            elif outcome == "gone":
                values.update(status="failed")
                await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == e.id).values(
                    status="disabled", disabled_reason=f"410 Gone on message {m.id}", updated_at=now))
                log.warning("webhook endpoint answered 410 Gone: disabled", extra=extra)
            else:
                delay = self._next_delay(m.attempts)
                if delay is None:
                    values.update(status="failed")
                    log.warning("webhook attempts exhausted", extra={**extra, "error": error})
                else:
                    values.update(status="pending", next_attempt_at=now + timedelta(seconds=delay))
                    log.warning("webhook attempt failed; will retry", extra={**extra, "error": error,
                                                                             "retry_in_s": round(delay, 3)})
            await session.execute(update(WebhookMessage).where(WebhookMessage.id == m.id).values(**values))
            await session.commit()

