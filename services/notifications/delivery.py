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
  deduplicate on Message-ID show it once). It covers the emails in flight at that moment (up to
  ``concurrency``, whose outcomes are committed together).

The claim is a conditional UPDATE, so several replicas can run this worker without sending a
delivery twice while its lease holds. And the lease holds as long as the send does: while a
round's sends are in flight the worker renews their leases every quarter lease (a send can outlast
the lease on a busy machine or a slow server; another replica would then send it again). A worker
that dies stops renewing, so its deliveries are retried a lease later. An outcome is recorded only
by the attempt that holds the delivery (same ``attempts``, still ``sending``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update

from shared.clock import utcnow
from shared.tasks import cancel_and_wait
from shared.workers import Worker, sleep_until

from . import calendar, links, service
from .channels.email import build_message, message_id_for
from .channels.failures import PermanentFailure, TransientFailure
from .channels.sms import compose
from .models import CaseEntry, Delivery, Notification, Preference
from .preferences import quiet_until

log = logging.getLogger("odr.notifications.delivery")



class DeliveryWorker(Worker):
    def __init__(self, notifier, *, batch_size: int = 100, concurrency: int = 8) -> None:
        self.notifier = notifier
        self.settings = notifier.nsettings
        self.batch_size = batch_size
        self.concurrency = concurrency
        self._random = random.Random()
        self.delivered = 0
        super().__init__("notifications-delivery", self._round, signal=notifier.signals["deliveries"],
                         backoff=lambda: self.settings.delivery_poll_seconds, logger=log)

    @property
    def session_factory(self):
        return self.notifier.runtime.session_factory

    def _due(self, now: datetime):
        return or_(and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
                   and_(Delivery.status == "sending", Delivery.lease_until < now))

    async def _round(self) -> float:
        done = await self.run_once()
        if done >= self.batch_size:
            return 0
        # Rest until the next retry or expired lease (new deliveries committed here wake us).
        return sleep_until(await self.next_due(), longest=self.settings.delivery_poll_seconds)

    async def next_due(self) -> datetime | None:
        """When the earliest delivery that is not due yet becomes due (see ``_due``)."""
        async with self.session_factory() as session:
            pending, leased = (await session.execute(select(
                select(func.min(Delivery.next_attempt_at)).where(Delivery.status == "pending").scalar_subquery(),
                select(func.min(Delivery.lease_until)).where(Delivery.status == "sending").scalar_subquery(),
            ))).one()
        return min((t for t in (pending, leased) if t is not None), default=None)

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many deliveries were attempted. The batch is
        claimed in one transaction (committed before anything is sent) and outcomes are recorded
        per group of concurrent sends, so the database cost per email is a fraction of a commit."""
        now = utcnow()
        async with self.session_factory() as session:
            ids = list((await session.execute(
                select(Delivery.id).where(self._due(now)).order_by(Delivery.next_attempt_at).limit(self.batch_size)
            )).scalars())
        if not ids:
            return 0
        claimed = await self._claim(ids)
        if not claimed:
            return 0
        in_flight = dict(claimed)
        renewal = asyncio.create_task(self._keep_leases(in_flight), name="notifications-delivery-leases")
        try:
            return await self._send_claimed(claimed, in_flight)
        finally:
            await cancel_and_wait(renewal)

    async def _send_claimed(self, claimed: dict[str, int], in_flight: dict[str, int]) -> int:
        async with self.session_factory() as session:
            rows = list((await session.execute(select(Delivery).where(Delivery.id.in_(claimed)))).scalars())
            notices = {n.id: n for n in (await session.execute(
                select(Notification).where(Notification.id.in_({d.notification_id for d in rows})))).scalars()}
            cases = {c.case_id: c for c in (await session.execute(
                select(CaseEntry).where(CaseEntry.case_id.in_({n.case_id for n in notices.values()})))).scalars()}
            prefs = {p.subject: p for p in (await session.execute(
                select(Preference).where(Preference.subject.in_({d.recipient for d in rows})))).scalars()}
            addresses = {d.id: await self._address(session, d, notices[d.notification_id]) for d in rows}
        # Sent `concurrency` at a time and each group's outcomes committed together: the emails a
        # crash can repeat are at most the ones in flight at that moment.
        for start in range(0, len(rows), self.concurrency):
            outcomes: dict[str, dict] = {}

            async def one(d: Delivery) -> None:
                n = notices[d.notification_id]
                case = cases.get(n.case_id)
                try:
                    outcomes[d.id] = await self._deliver(d, n, case.time_zone if case else self.settings.default_time_zone,
                                                         prefs.get(d.recipient), addresses[d.id],
                                                         reference=case.reference if case else None)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery crashed", extra={"delivery_id": d.id})
                    outcomes[d.id] = self._retry(d, "internal error")

            await asyncio.gather(*(one(d) for d in rows[start:start + self.concurrency]))
            await self._finish(outcomes, claimed)
            for delivery_id in outcomes:
                in_flight.pop(delivery_id, None)
        return len(rows)

    async def _address(self, session, d: Delivery, n: Notification) -> str | None:
        """Where a delivery goes: the address a one-time link was sent for, else the recipient's contact."""
        if links.is_link(n.params or {}):
            try:
                given = links.address(self.notifier, n.params, d.channel)
            except links.Unopenable:
                return None
            if given:
                return given
        return await service.contact_address(session, self.notifier, participant_id=d.recipient, channel=d.channel)

    async def _claim(self, ids: list[str]) -> dict[str, int]:
        """Mark the attempt of each still-due delivery before sending; returns those we got, with
        the attempt number that is ours."""
        now = utcnow()
        async with self.session_factory() as session:
            result = await session.execute(
                update(Delivery).where(Delivery.id.in_(ids), self._due(now))
                .values(status="sending", attempts=Delivery.attempts + 1,
                        lease_until=now + timedelta(seconds=self.settings.delivery_lease_seconds))
                .returning(Delivery.id, Delivery.attempts)
            )
            claimed = {delivery_id: attempts for delivery_id, attempts in result.all()}
            await session.commit()
            return claimed

    async def _keep_leases(self, in_flight: dict[str, int]) -> None:
        """Until cancelled: every quarter lease, extend the leases of the deliveries still in
        flight, as long as they are still ours."""
        lease = self.settings.delivery_lease_seconds
        while True:
            await asyncio.sleep(lease / 4)
            by_attempt: dict[int, list[str]] = {}
            for delivery_id, attempts in list(in_flight.items()):
                by_attempt.setdefault(attempts, []).append(delivery_id)
            try:
                async with self.session_factory() as session:
                    for attempts, ids in by_attempt.items():
                        await session.execute(update(Delivery).where(
                            Delivery.id.in_(ids), Delivery.status == "sending", Delivery.attempts == attempts
                        ).values(lease_until=utcnow() + timedelta(seconds=lease)))
                    await session.commit()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next renewal may succeed; until the lease ends nothing is lost
                log.warning("delivery leases not renewed", exc_info=True)

    async def _finish(self, outcomes: dict[str, dict], claimed: dict[str, int]) -> None:
        if not outcomes:
            return
        recorded = 0
        async with self.session_factory() as session:
            for delivery_id, values in outcomes.items():
                result = await session.execute(update(Delivery).where(
                    Delivery.id == delivery_id, Delivery.status == "sending", Delivery.attempts == claimed[delivery_id]
                ).values(lease_until=None, **values))
                if result.rowcount != 1:  # our lease ended and another attempt took it: that one records
                    log.warning("delivery outcome not recorded: the attempt lost its lease",
                                extra={"delivery_id": delivery_id})
                elif values.get("status") == "sent":
                    recorded += 1
            await session.commit()
        self.delivered += recorded

    def _retry(self, d: Delivery, error: str) -> dict:
        if d.attempts >= self.settings.delivery_max_attempts:
            log.warning("delivery gave up", extra={"delivery_id": d.id, "attempts": d.attempts})
            return {"status": "failed", "last_error": error}
        delay = self.settings.delivery_retry_base_seconds * 2 ** (d.attempts - 1)
        delay *= 1 + self._random.uniform(-0.2, 0.2)
        log.warning("delivery will be retried", extra={"delivery_id": d.id, "channel": d.channel,
                                                       "attempt": d.attempts, "error": error})
        return {"status": "pending", "last_error": error, "next_attempt_at": utcnow() + timedelta(seconds=delay)}

    async def _deliver(self, d: Delivery, n: Notification, time_zone: str, pref: Preference | None,
                       address: str | None, *, reference: str | None = None) -> dict:
        """Send one claimed delivery; returns the column values of its outcome."""
        now = utcnow()
        if not n.critical and pref is not None:
            resume = quiet_until(now, start=pref.quiet_start, end=pref.quiet_end, time_zone=time_zone)
            if resume is not None:  # held, not attempted
                log.info("delivery held for quiet hours", extra={"delivery_id": d.id})
                return {"status": "pending", "attempts": d.attempts - 1, "next_attempt_at": resume}
        if address is None:
            log.info("delivery undeliverable: no contact details", extra={"delivery_id": d.id, "channel": d.channel})
            return {"status": "undeliverable", "last_error": f"no {d.channel} contact details"}
        params = n.params or {}
        if links.is_link(params):  # the token is opened for this message only
            try:
                params = links.opened_params(self.notifier, params)
            except links.Unopenable:
                return {"status": "failed", "last_error": "the sealed link does not open"}
        rendered = self.notifier.renderer.render(kind=n.kind, language=n.language, case_id=n.case_id,
                                                 params=params, time_zone=time_zone, reference=reference)
        try:
            if d.channel == "email":
                invitation = None
                if calendar.wants_invitation(n.kind):
                    invitation = calendar.invitation(
                        kind=n.kind, params=n.params, time_zone=time_zone, summary=rendered.subject,
                        link=rendered.link, organizer=self.settings.mail_from, attendee=address,
                        language=rendered.language, domain=self.settings.message_id_domain)
                msg = build_message(rendered=rendered, to=address, sender=self.settings.mail_from,
                                    message_id=message_id_for(d.id, self.settings.message_id_domain),
                                    invitation=invitation)
                await self.notifier.email_transport().send(msg, recipient=d.recipient, language=rendered.language)
            elif d.channel == "sms":
                text = compose(words=rendered.subject, link=rendered.link, max_segments=self.settings.sms_max_segments)
                await self.notifier.sms.send(delivery_id=d.id, recipient=d.recipient, phone=address, text=text,
                                             attempt=d.attempts)
            else:
                raise PermanentFailure(f"unknown channel {d.channel}")
        except PermanentFailure as exc:
            log.warning("delivery failed permanently", extra={"delivery_id": d.id, "channel": d.channel,
                                                              "error": str(exc)[:200]})
            return {"status": "failed", "last_error": str(exc)[:200]}
        except Exception as exc:
            # Our own failure texts carry codes only; anything else may quote an address: type only.
            return self._retry(d, str(exc)[:200] if isinstance(exc, TransientFailure) else type(exc).__name__)
        log.info("delivered", extra={"delivery_id": d.id, "channel": d.channel, "attempt": d.attempts})
        return {"status": "sent", "sent_at": utcnow(), "last_error": None}

