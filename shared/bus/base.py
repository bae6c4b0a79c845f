"""The event bus interface every backend implements.

Semantics (the bus contract suite in ``tests/shared/bus`` checks them against every backend):
topics with keys; records of one key are delivered in publish order; consumer groups keep a
committed offset per partition; delivery is at-least-once, so a consumer that dies before it
commits gets the records again. ``publish`` returns only once the records are durable.
"""

from __future__ import annotations

import abc
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field


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


class Consumer(abc.ABC):
    """A group member that hands record batches to a handler and commits after it returns.

    If the handler raises, nothing is committed and the same records are delivered again after a
    back-off, so an effect is only lost if the handler swallowed it.
    """

    def __init__(self, *, group: str, topics: Sequence[str], handler: BatchHandler) -> None:
        self.group = group
        self.topics = list(topics)
        self.handler = handler
        self.stats = ConsumerStats()

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...


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
    def consumer(self, *, group: str, topics: Sequence[str], handler: BatchHandler, from_beginning: bool = True) -> Consumer:
        """A consumer in ``group``; call ``start()`` on it to begin delivery."""

    @abc.abstractmethod
    async def check(self) -> None:
        """Raise if the bus cannot be reached (used by ``/readyz``)."""
