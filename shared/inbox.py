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
from datetime import datetime, timezone

from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

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
        events = [CloudEvent.from_bytes(r.value) for r in records]
        try:
            async with self.uow_factory() as uow:
                for ce in events:
                    await self._handle(uow, ce)
                await uow.commit()
            return
        except Exception:
            if len(events) == 1:
                await self._record_failure(events[0])
                return
        for ce in events:  # isolate the failing event
            try:
                async with self.uow_factory() as uow:
                    await self._handle(uow, ce)
                    await uow.commit()
            except Exception:
                await self._record_failure(ce)

    async def _handle(self, uow, ce: CloudEvent) -> None:
        handler = self.handlers.get(ce.type)
        if handler is None:
            return
        session: AsyncSession = uow.session
        seen = await session.execute(
            select(self.table.c.event_id).where(self.table.c.consumer == self.name, self.table.c.event_id == ce.id)
        )
        if seen.first() is not None:
            return
        evt = decode(ce)
        with correlation_context(event_id=ce.id, correlation_id=ce.correlationid):
            await handler(session, evt, ce)
        await session.execute(
            self.table.insert().values(consumer=self.name, event_id=ce.id, type=ce.type, status="handled",
                                       error=None, handled_at=datetime.now(timezone.utc))
        )

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
                                           error="handler error", handled_at=datetime.now(timezone.utc))
            )
            await uow.commit()
        log.error("event parked after repeated failures", extra={"event_id": ce.id, "event_type": ce.type})
