"""The email/SMS delivery worker: the ``deliveries`` table is its outbox.

For each due delivery the worker first *claims* it in its own committed transaction (status
``sending``, one more attempt, a lease), and only then talks to the mail server, using a
Message-ID derived from the delivery id. Then it records the outcome. So:

- kill -9 before the claim commits: the row is still ``pending`` and is sent later. Nothing lost.
- kill -9 after the claim, before the server accepted: the lease expires and the row is sent
  again, with the same Message-ID. Nothing lost, nothing duplicated (the first never arrived).
- kill -9 after the server accepted (250) but before ``sent`` was recorded: the row is sent
  again, with the same Message-ID. This is the honest at-least-once window: one duplicate is
  possible, recognisable by its Message-ID (our mailbox stores it once; receiving systems that
  deduplicate on Message-ID show it once). It is as wide as one SMTP reply plus one commit.

The claim is a conditional UPDATE, so several replicas can run this worker without sending a
delivery twice while its lease holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update

from shared.tasks import cancel_and_wait

from . import service
from .channels.email import PermanentFailure, TransientFailure, build_message, message_id_for
from .models import CaseEntry, Delivery, Notification, Preference
from .preferences import quiet_until

log = logging.getLogger("odr.notifications.delivery")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class DeliveryWorker:
    def __init__(self, notifier, *, batch_size: int = 100, concurrency: int = 8) -> None:
        self.notifier = notifier
        self.settings = notifier.nsettings
        self.batch_size = batch_size
        self.concurrency = concurrency
        self._task: asyncio.Task | None = None
        self._random = random.Random()
        self.delivered = 0

    @property
    def session_factory(self):
        return self.notifier.runtime.session_factory

    def _due(self, now: datetime):
        return or_(and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
                   and_(Delivery.status == "sending", Delivery.lease_until < now))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="notifications-delivery")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _loop(self) -> None:
        signal = self.notifier.signals["deliveries"]
        while True:
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery round failed")
                done = 0
            if done < self.batch_size:
                await signal.wait(self.settings.delivery_poll_seconds)

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many deliveries were attempted."""
        now = _now()
        async with self.session_factory() as session:
            ids = list((await session.execute(
                select(Delivery.id).where(self._due(now)).order_by(Delivery.next_attempt_at).limit(self.batch_size)
            )).scalars())
        if not ids:
            return 0
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(delivery_id: str) -> None:
            async with semaphore:
                try:
                    await self.deliver(delivery_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery crashed", extra={"delivery_id": delivery_id})

        await asyncio.gather(*(one(i) for i in ids))
        return len(ids)

    async def _claim(self, delivery_id: str) -> bool:
        now = _now()
        async with self.session_factory() as session:
            result = await session.execute(
                update(Delivery).where(Delivery.id == delivery_id, self._due(now))
                .values(status="sending", attempts=Delivery.attempts + 1,
                        lease_until=now + timedelta(seconds=self.settings.delivery_lease_seconds))
            )
            await session.commit()
            return result.rowcount == 1

    async def _finish(self, delivery_id: str, **values) -> None:
        async with self.session_factory() as session:
            await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(lease_until=None, **values))
            await session.commit()

    async def deliver(self, delivery_id: str) -> None:
        if not await self._claim(delivery_id):
            return  # another worker has it
        async with self.session_factory() as session:
            d = await session.get(Delivery, delivery_id)
            n = await session.get(Notification, d.notification_id)
            case = await session.get(CaseEntry, n.case_id)
            pref = await session.get(Preference, d.recipient)
            address = await service.contact_address(session, self.notifier, participant_id=d.recipient, channel=d.channel)
        time_zone = case.time_zone if case else self.settings.default_time_zone
        now = _now()
        if not n.critical and pref is not None:
            resume = quiet_until(now, start=pref.quiet_start, end=pref.quiet_end, time_zone=time_zone)
            if resume is not None:  # held, not attempted
                await self._finish(delivery_id, status="pending", attempts=d.attempts - 1, next_attempt_at=resume)
                log.info("delivery held for quiet hours", extra={"delivery_id": delivery_id})
                return
        if address is None:
            await self._finish(delivery_id, status="undeliverable", last_error=f"no {d.channel} contact details")
            log.info("delivery undeliverable: no contact details", extra={"delivery_id": delivery_id,
                                                                          "channel": d.channel})
            return
        rendered = self.notifier.renderer.render(kind=n.kind, language=n.language, case_id=n.case_id,
                                                 params=n.params or {}, time_zone=time_zone)
        try:
            if d.channel == "email":
                msg = build_message(rendered=rendered, to=address, sender=self.settings.mail_from,
                                    message_id=message_id_for(d.id, self.settings.message_id_domain))
                await self.notifier.email_transport().send(msg, recipient=d.recipient, language=rendered.language)
            elif d.channel == "sms":
                await self.notifier.sms.send(delivery_id=d.id, recipient=d.recipient, phone=address, text=rendered.short)
            else:
                raise PermanentFailure(f"unknown channel {d.channel}")
        except PermanentFailure as exc:
            await self._finish(delivery_id, status="failed", last_error=str(exc)[:200])
            log.warning("delivery failed permanently", extra={"delivery_id": delivery_id, "channel": d.channel,
                                                              "error": str(exc)[:200]})
            return
        except Exception as exc:
            # Our own failure texts carry codes only; anything else may quote an address: type only.
            error = str(exc)[:200] if isinstance(exc, TransientFailure) else type(exc).__name__
            if d.attempts >= self.settings.delivery_max_attempts:
                await self._finish(delivery_id, status="failed", last_error=error)
                log.warning("delivery gave up", extra={"delivery_id": delivery_id, "attempts": d.attempts})
                return
            delay = self.settings.delivery_retry_base_seconds * 2 ** (d.attempts - 1)
            delay *= 1 + self._random.uniform(-0.2, 0.2)
            await self._finish(delivery_id, status="pending", last_error=error,
                               next_attempt_at=_now() + timedelta(seconds=delay))
            log.warning("delivery will be retried", extra={"delivery_id": delivery_id, "channel": d.channel,
                                                           "attempt": d.attempts, "error": error})
            return
        await self._finish(delivery_id, status="sent", sent_at=_now(), last_error=None)
        self.delivered += 1
        log.info("delivered", extra={"delivery_id": delivery_id, "channel": d.channel, "attempt": d.attempts})


@contextlib.asynccontextmanager
async def running_worker(worker):
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
