"""A miniature service for pipeline tests: a unit of work with the outbox, the relay, and an
idempotent consumer whose effect is a row per handled event. Also runnable as a child process
(``python -m tests.support.pipeline``) that the crash tests ``kill -9``."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import ClassVar

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from shared.bus import EventBus
from shared.bus.embedded import EmbeddedBus
from shared.db import create_engine, create_session_factory
from shared.events import Event, event, registry
from shared.inbox import IdempotentConsumer
from shared.outbox import OutboxRelay
from shared.service import platform_tables
from shared.uow import UnitOfWork


class Ping(Event):
    """A test event: a numbered ping on a topic of the test's own."""

    type: ClassVar[str] = "odr.test.ping.v1"
    topic: ClassVar[str] = "odr.test"
    seq: int


def ping_type(name: str) -> type[Ping]:
    """A Ping event type on a topic of its own, so tests sharing one Kafka never see each other."""
    existing = registry.get(f"odr.test.{name}.v1")
    if existing is not None:
        return existing
    cls = type(f"Ping_{name.replace('-', '_')}", (Ping,), {"type": f"odr.test.{name}.v1", "topic": f"odr.test.{name}",
                                                          "__module__": __name__, "__doc__": Ping.__doc__})
    return event(cls)


def make_bus(spec: dict) -> EventBus:
    if spec["kind"] == "embedded":
        return EmbeddedBus(spec["path"], poll_seconds=0.01, session_timeout=2.0, heartbeat=0.2)
    from shared.bus.kafka import KafkaBus

    return KafkaBus(spec["bootstrap"], session_timeout_ms=6000, heartbeat_interval_ms=500)


class MiniService:
    def __init__(self, *, database_url: str, bus: EventBus, ping: type[Ping], fail_on: set[int] = frozenset(),
                 member: str = "main") -> None:
        self.metadata = MetaData()
        self.outbox, self.inbox = platform_tables(self.metadata)
        self.effects = Table("effects", self.metadata,
                             Column("id", Integer, primary_key=True, autoincrement=True),
                             Column("event_id", String(64), nullable=False),
                             Column("case_id", String(64), nullable=False),
                             Column("seq", Integer, nullable=False),
                             Column("member", String(64), nullable=False, default="main"))
        self.engine = create_engine(database_url)
        self.session_factory = create_session_factory(self.engine)
        self.bus = bus
        self.ping = ping
        self.fail_on = set(fail_on)
        self.relay = OutboxRelay(table=self.outbox, session_factory=self.session_factory, bus=bus, poll_seconds=0.02,
                                 retry_backoff=0.1)
        self.member = member  # which group member had the effect (tests of several members)
        self.consumer = None

    async def create_tables(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(self.metadata.create_all)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(session_factory=self.session_factory, outbox=self.outbox, source="/odr/test",
                          on_commit=self.relay.notify)

    async def commit_pings(self, case_id: str, seqs) -> None:
        async with self.uow() as uow:
            for seq in seqs:
                uow.publish(self.ping(case_id=case_id, seq=seq))
            await uow.commit()

    async def _record(self, session, evt, envelope) -> None:
        if evt.seq in self.fail_on:
            raise RuntimeError("poison")
        await session.execute(self.effects.insert().values(event_id=envelope.id, case_id=evt.case_id, seq=evt.seq,
                                                                member=self.member))

    async def start_consumer(self, group: str, **kwargs) -> None:
        handler = IdempotentConsumer(name=group, table=self.inbox, uow_factory=self.uow,
                                     handlers={self.ping.type: self._record}, **kwargs)
        self.consumer = self.bus.consumer(group=group, topics=[self.ping.topic], handler=handler)
        self.consumer.retry_backoff = 0.05
        await self.consumer.start()

    async def effect_rows(self) -> list:
        async with self.session_factory() as s:
            return (await s.execute(select(self.effects.c.case_id, self.effects.c.seq, self.effects.c.event_id)
                                    .order_by(self.effects.c.id))).all()

    async def unpublished(self) -> int:
        async with self.session_factory() as s:
            return (await s.execute(select(func.count()).select_from(self.outbox)
                                    .where(self.outbox.c.published_at.is_(None)))).scalar_one()

    async def close(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
        await self.relay.stop()
        await self.engine.dispose()


async def _child(config: dict) -> None:
    """Commit events, then hang inside the relay at the configured point until killed; or, with
    ``"consume": GROUP``, be one member of that consumer group until killed."""
    bus = make_bus(config["bus"])
    await bus.start()
    if "consume" in config:
        svc = MiniService(database_url=config["database_url"], bus=bus, ping=ping_type(config["ping"]),
                          member=config["member"])
        await svc.start_consumer(config["consume"])
        print("CONSUMING", flush=True)
        await asyncio.sleep(3600)
        return
    real_publish = bus.publish

    async def publish_then_hang(messages):
        if config["crash"] == "before-publish":
            print("PUBLISHING", flush=True)
        else:
            await real_publish(messages)
            print("PUBLISHED", flush=True)
        await asyncio.sleep(3600)

    bus.publish = publish_then_hang
    svc = MiniService(database_url=config["database_url"], bus=bus, ping=ping_type(config["ping"]))
    await svc.create_tables()
    for i in range(config["cases"]):
        await svc.commit_pings(f"case-{i}", range(config["per_case"]))
    print("COMMITTED", flush=True)
    await svc.relay.start()
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(_child(json.loads(sys.argv[1])))
