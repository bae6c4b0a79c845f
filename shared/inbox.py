"""Idempotent consumers: each event id is recorded in the consumer's inbox table in the same
transaction as the consumer's own change, so a redelivered event finds its id and does nothing.

A batch from the bus is handled in one transaction for throughput; if any handler fails, the
batch is retried event by event so one poison event cannot hold back the others. An event that
keeps failing is parked in the inbox with status ``failed`` (ids and error type only) and an
operator can replay it; it never blocks the partition forever.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from .clock import utcnow
from .db import UTCDateTime
from .bus import Record
from .events import CloudEvent, Event, decode
from .observability import correlation_context

log = logging.getLogger("odr.inbox")

EventHandler = Callable[[AsyncSession, Event, CloudEvent], Awaitable[None]]


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("type", String(200), nullable=False),
        Column("status", String(20), nullable=False),
        Column("error", String(200), nullable=True),
        Column("handled_at", UTCDateTime, nullable=False),
    )


class IdempotentConsumer:
    """Turns bus records into typed events for ``handlers`` (by CloudEvents type), exactly once
    in effect. ``uow_factory`` gives a unit of work whose commit also publishes follow-up events."""

    def __init__(self, *, name: str, table: Table, uow_factory, handlers: dict[str, EventHandler],
                 max_attempts: int = 3) -> None:
        self.name = name
        self.table = table
        self.uow_factory = uow_factory
        self.handlers = handlers
        self.max_attempts = max_attempts
        self._attempts: dict[str, int] = {}

    @property
    def types(self) -> list[str]:
        return sorted(self.handlers)

    async def __call__(self, records: Sequence[Record]) -> None:
        events = [ce for ce in (self._parse(r) for r in records) if ce is not None]
        if not events:
            return
        try:
            async with self.uow_factory() as uow:
                await self._handle(uow, events)
                await uow.commit()
            self._forget(events)
            return
        except Exception:
            if len(events) == 1:
                await self._record_failure(events[0])
                return
        for ce in events:  # isolate the failing event
            try:
                async with self.uow_factory() as uow:
                    await self._handle(uow, [ce])
                    await uow.commit()
                self._forget([ce])
            except Exception:
                await self._record_failure(ce)

    def _parse(self, record: Record) -> CloudEvent | None:
        try:
            return CloudEvent.from_bytes(record.value)
        except ValueError:
            # Not ours to fix and never going to parse: skip it rather than block the partition.
            log.error("malformed record skipped", extra={"topic": record.topic, "partition": record.partition,
                                                        "offset": record.offset})
            return None

    def _forget(self, events: Sequence[CloudEvent]) -> None:
        if self._attempts:
            for ce in events:
                self._attempts.pop(ce.id, None)

    async def _handle(self, uow, events: Sequence[CloudEvent]) -> None:
        """Handle the events this consumer has not seen yet, in order, and record them in the
        inbox. One query finds the already-handled ones and one insert records the batch, so the
        cost per event is the handler's own work."""
        wanted = [ce for ce in events if ce.type in self.handlers]
        if not wanted:
            return
        session: AsyncSession = uow.session
        seen = set((await session.execute(
            select(self.table.c.event_id).where(self.table.c.consumer == self.name,
                                                self.table.c.event_id.in_({ce.id for ce in wanted}))
        )).scalars())
        now = utcnow()
        rows = []
        for ce in wanted:
            if ce.id in seen:
                continue
            seen.add(ce.id)  # the same event twice in one batch is handled once
            with correlation_context(event_id=ce.id, correlation_id=ce.correlationid):
                await self.handlers[ce.type](session, decode(ce), ce)
            rows.append({"consumer": self.name, "event_id": ce.id, "type": ce.type, "status": "handled",
                         "error": None, "handled_at": now})
        if rows:
            await session.execute(self.table.insert(), rows)

    async def _record_failure(self, ce: CloudEvent) -> None:
        attempts = self._attempts.get(ce.id, 0) + 1
        self._attempts[ce.id] = attempts
        log.warning("event handler failed", extra={"event_id": ce.id, "event_type": ce.type, "attempt": attempts})
        if attempts < self.max_attempts:
            raise RuntimeError(f"handler for {ce.type} failed (attempt {attempts})")
        self._attempts.pop(ce.id, None)
        async with self.uow_factory() as uow:
            await uow.session.execute(
                self.table.insert().values(consumer=self.name, event_id=ce.id, type=ce.type, status="failed",
                                           error="handler error", handled_at=utcnow())
            )
            await uow.commit()
        log.error("event parked after repeated failures", extra={"event_id": ce.id, "event_type": ce.type})
