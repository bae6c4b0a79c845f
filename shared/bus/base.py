"""The event bus interface every backend implements.

Semantics (the bus contract suite in ``tests/shared/bus`` checks them against every backend):
topics with keys; records of one key are delivered in publish order; consumer groups keep a
committed offset per partition; delivery is at-least-once, so a consumer that dies before it
commits gets the records again. ``publish`` returns only once the records are durable.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from ..workers import Worker

log = logging.getLogger("odr.bus")


@dataclass(frozen=True, slots=True)
class Message:
    """A record to publish."""

    topic: str
    key: str
    value: bytes


@dataclass(frozen=True, slots=True)
class Record:
    """A record as delivered to a consumer."""

    topic: str
    partition: int
    offset: int
    key: str
    value: bytes


BatchHandler = Callable[[Sequence[Record]], Awaitable[None]]

DEFAULT_PARTITIONS = 4


def partition_for(key: str, partitions: int = DEFAULT_PARTITIONS) -> int:
    return zlib.crc32(key.encode()) % partitions


@dataclass
class ConsumerStats:
    delivered: int = 0
    committed_batches: int = 0
    failed_batches: int = 0
    extra: dict = field(default_factory=dict)


class Consumer(Worker, abc.ABC):
    """A group member that hands record batches to a handler and commits after it returns.

    If the handler raises, nothing is committed and the same records are delivered again after a
    back-off (``retry_backoff`` seconds), so an effect is only lost if the handler swallowed it.
    The delivery loop is this class's (a ``Worker``); a backend supplies fetching, committing and
    rewinding, and its ``start()``/``stop()`` join and leave the group around ``super()``'s.
    """

    def __init__(self, *, group: str, topics: Sequence[str], handler: BatchHandler, retry_backoff: float = 0.5) -> None:
        self.group = group
        self.topics = list(topics)
        self.handler = handler
        self.stats = ConsumerStats()
        self.retry_backoff = retry_backoff
        super().__init__(f"consumer-{group}", self._round, backoff=lambda: self.retry_backoff,
                         logger=log, context={"group": group})

    @abc.abstractmethod
    async def _fetch(self) -> tuple[list[Record], float | None]:
        """The next batch (possibly empty) and, when it is empty, how long to sleep before
        looking again (see ``shared.workers.Step``)."""

    @abc.abstractmethod
    async def _commit(self, batch: Sequence[Record]) -> None:
        """Commit the group's offsets past ``batch``."""

    @abc.abstractmethod
    async def _rewind(self, batch: Sequence[Record]) -> None:
        """After a failed batch: deliver it again from the committed offsets."""

    async def _round(self) -> float | None:
        batch, idle = await self._fetch()
        if not batch:
            return idle
        try:
            await self.handler(batch)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.stats.failed_batches += 1
            await self._rewind(batch)
            raise  # the worker logs it and backs off before the redelivery
        await self._commit(batch)
        self.stats.delivered += len(batch)
        self.stats.committed_batches += 1
        return 0


class EventBus(abc.ABC):
    name: str

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, messages: Sequence[Message]) -> None:
        """Append messages; returns once they are durable on the bus."""

    @abc.abstractmethod
    def consumer(self, *, group: str, topics: Sequence[str], handler: BatchHandler, from_beginning: bool = True,
                 longest_wait: float | None = None) -> Consumer:
        """A consumer in ``group``; call ``start()`` on it to begin delivery. ``longest_wait``
        bounds how late it may learn of a record another process published, for a consumer whose
        lateness matters more than a quiet machine (a bus that pushes records ignores it)."""

    @abc.abstractmethod
    async def check(self) -> None:
        """Raise if the bus cannot be reached (used by ``/readyz``)."""
