"""Transactional outbox: events are rows in the service's own database, committed with the change
that caused them, and a relay publishes them to the bus in commit order.

The relay survives restarts because the outbox is the source of truth: a row stays unpublished
until the bus acknowledged it. A crash between publish and marking means the row is published
again, which consumers absorb through their inbox (at-least-once, exactly-once effect).
On PostgreSQL the relay locks the rows it publishes (``FOR UPDATE``), so several replicas of a
service never interleave their publishes and per-key order holds.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, delete, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from .clock import utcnow
from .db import UTCDateTime
from .bus import EventBus, Message
from .workers import Worker

log = logging.getLogger("odr.outbox")


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("published_at", UTCDateTime, nullable=True, index=True),
    )


class OutboxRelay(Worker):
    """Publishes committed outbox rows in id order. Wake it with ``notify()`` after a commit in this
    process (the unit of work does); rows nobody here was told about (another process committed
    them, or this one stopped before publishing) are found every ``poll_seconds``, a long
    interval, so an idle service rests. The bus may be down: then the rows stay in the outbox and
    a round after the back-off publishes them.

    After a rest the relay lingers ``linger_seconds`` before it reads: commits arriving together
    (a busy service commits many small transactions) then share one round (one select, one
    publish, one update) instead of each paying for its own. While rows keep coming in full
    batches it does not linger."""

    def __init__(self, *, table: Table, session_factory: async_sessionmaker, bus: EventBus,
                 batch_size: int = 500, poll_seconds: float = 5.0, linger_seconds: float = 0.005,
                 keep_published: timedelta = timedelta(days=1), retry_backoff: float = 1.0) -> None:
        self.table = table
        self.session_factory = session_factory
        self.bus = bus
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.linger_seconds = linger_seconds
        self.keep_published = keep_published
        self.retry_backoff = retry_backoff
        self.published = 0
        self._rounds = 0
        self._rested = True  # the last round emptied the outbox: the next one follows a rest
        super().__init__("outbox-relay", self._round, backoff=lambda: self.retry_backoff, logger=log)

    def notify(self) -> None:
        """A commit in this process added rows: publish them now."""
        self.wake()

    async def publish_pending(self) -> int:
        """One round: publish up to ``batch_size`` unpublished rows; returns how many."""
        t = self.table
        async with self.session_factory() as session, session.begin():
            rows = (
                await session.execute(
                    select(t.c.id, t.c.topic, t.c.key, t.c.payload)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self.batch_size)
                    .with_for_update()
                )
            ).all()
            if not rows:
                return 0
            await self.bus.publish([Message(r.topic, r.key, r.payload) for r in rows])
            await session.execute(
                update(t).where(t.c.id.in_([r.id for r in rows])).values(published_at=utcnow())
            )
        self.published += len(rows)
        return len(rows)

    async def purge_published(self) -> None:
        cutoff = utcnow() - self.keep_published
        async with self.session_factory() as session, session.begin():
            await session.execute(delete(self.table).where(self.table.c.published_at < cutoff))

    async def _round(self) -> float:
        if self._rested and self.linger_seconds > 0:
            await asyncio.sleep(self.linger_seconds)
        count = await self.publish_pending()
        self._rested = count < self.batch_size
        self._rounds += 1
        if self._rounds % 10000 == 0:
            await self.purge_published()
        return 0 if count == self.batch_size else self.poll_seconds
