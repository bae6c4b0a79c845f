"""The Kafka backend (aiokafka): the distributed engine for production.

The producer is idempotent with ``acks=all``; ``publish`` waits for every record's acknowledgement.
Consumers never auto-commit: offsets are committed only after the handler returned, i.e. after the
consumer's inbox transaction committed, so a crash in between means redelivery, never loss.

A service that starts while the brokers are unreachable (a broker restart, a rolling upgrade)
waits for them (``start_timeout``) instead of failing its start-up: the outbox keeps what it
commits meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from .base import BatchHandler, Consumer, EventBus, Message, Record

log = logging.getLogger("odr.bus.kafka")


async def _started(make: Callable[[], AIOKafkaProducer | AIOKafkaConsumer], *, timeout: float, what: str):
    """A started client from ``make``, retrying while no broker can be reached (up to ``timeout``
    seconds). Each try gets a fresh client: a client whose start failed is closed, not reused."""
    deadline = time.monotonic() + timeout
    delay = 0.5
    while True:
        client = make()
        try:
            await client.start()
            return client
        except KafkaConnectionError as exc:
            try:
                await client.stop()
            except Exception:  # noqa: BLE001 - it never started; nothing to release
                pass
            if time.monotonic() + delay > deadline:
                raise
            log.warning("kafka unreachable, retrying", extra={"client": what, "error": str(exc), "retry_in_s": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


class KafkaBus(EventBus):
    name = "kafka"

    def __init__(self, bootstrap: str, *, client_id: str = "odr", session_timeout_ms: int = 10000,
                 heartbeat_interval_ms: int = 1000, linger_ms: int = 2, fetch_max_wait_ms: int = 500,
                 start_timeout: float = 120.0) -> None:
        self.bootstrap = bootstrap
        self.start_timeout = start_timeout
        self.client_id = client_id
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.linger_ms = linger_ms
        # How long a fetch waits for data. Real brokers answer as soon as records arrive; the
        # librdkafka mock cluster holds every fetch this long, so tests may lower it.
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = await _started(lambda: AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.client_id}-producer",
            enable_idempotence=True,
            acks="all",
            linger_ms=self.linger_ms,
        ), timeout=self.start_timeout, what="producer")

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        assert self._producer is not None, "KafkaBus.start() was not called"
        # Queue everything first (the producer batches and keeps per-partition order), then wait
        # for all acknowledgements.
        futures = [await self._producer.send(m.topic, key=m.key.encode(), value=m.value) for m in messages]
        await asyncio.gather(*futures)

    async def check(self) -> None:
        assert self._producer is not None, "KafkaBus.start() was not called"
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-health")
        await admin.start()
        try:
            await admin.describe_cluster()
        finally:
            await admin.close()

    def consumer(self, *, group: str, topics: Sequence[str], handler: BatchHandler, from_beginning: bool = True,
                 longest_wait: float | None = None) -> Consumer:
        # A fetch returns as soon as the broker has records: no look to bound (``longest_wait``).
        return KafkaConsumer(self, group=group, topics=topics, handler=handler, from_beginning=from_beginning)


class KafkaConsumer(Consumer):
    def __init__(self, bus: KafkaBus, *, group: str, topics: Sequence[str], handler: BatchHandler,
                 from_beginning: bool = True, batch_size: int = 500, retry_backoff: float = 0.5) -> None:
        super().__init__(group=group, topics=topics, handler=handler, retry_backoff=retry_backoff)
        self.bus = bus
        self.from_beginning = from_beginning
        self.batch_size = batch_size
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def assignment(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs this member holds now; empty until it has joined."""
        if self._consumer is None:
            return []
        return sorted((tp.topic, tp.partition) for tp in self._consumer.assignment())

    async def start(self) -> None:
        self._consumer = await _started(lambda: AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bus.bootstrap,
            client_id=f"{self.bus.client_id}-{self.group}",
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if self.from_beginning else "latest",
            session_timeout_ms=self.bus.session_timeout_ms,
            heartbeat_interval_ms=self.bus.heartbeat_interval_ms,
            isolation_level="read_committed",
            fetch_max_wait_ms=self.bus.fetch_max_wait_ms,
        ), timeout=self.bus.start_timeout, what=f"consumer {self.group}")
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _fetch(self) -> tuple[list[Record], float]:
        # getmany itself waits (up to 200 ms) for records, so an empty fetch looks again at once.
        fetched = await self._consumer.getmany(timeout_ms=200, max_records=self.batch_size)
        return [Record(m.topic, m.partition, m.offset, (m.key or b"").decode(), m.value)
                for msgs in fetched.values() for m in msgs], 0

    async def _commit(self, batch: Sequence[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for r in batch:
            tp = TopicPartition(r.topic, r.partition)
            offsets[tp] = max(offsets.get(tp, 0), r.offset + 1)
        await self._consumer.commit(offsets)

    async def _rewind(self, batch: Sequence[Record]) -> None:
        first: dict[TopicPartition, int] = {}
        for r in batch:
            tp = TopicPartition(r.topic, r.partition)
            first[tp] = min(first.get(tp, r.offset), r.offset)
        for tp, offset in first.items():
            self._consumer.seek(tp, offset)


__all__ = ["KafkaBus", "KafkaConsumer", "TopicPartition"]
