"""Unit of work: one database transaction for a use case, holding both the state change and the
events it produces (as outbox rows), so neither can be committed without the other."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .clock import utcnow
from .events import CloudEvent, Event, envelope
from .observability import current_correlation_id


class UnitOfWork:
    def __init__(self, *, session_factory: async_sessionmaker, outbox: Table, source: str,
                 on_commit: Callable[[], None] | None = None) -> None:
        self._session_factory = session_factory
        self._outbox = outbox
        self._source = source
        self._on_commit = on_commit
        self._pending: list[CloudEvent] = []
        self._after_commit: list[Callable[[], None]] = []
        self.session: AsyncSession

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        self.session.info["uow"] = self
        await self.session.begin()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    def publish(self, evt: Event) -> CloudEvent:
        """Stage an event; it is written to the outbox with the transaction's other changes."""
        ce = envelope(evt, source=self._source, correlation_id=current_correlation_id())
        self._pending.append(ce)
        return ce

    async def commit(self) -> None:
        if self._pending:
            now = utcnow()
            await self.session.execute(
                self._outbox.insert(),
                [
                    {"event_id": ce.id, "topic": type_topic(ce.type), "key": ce.subject, "type": ce.type,
                     "payload": ce.to_bytes(), "created_at": now}
                    for ce in self._pending
                ],
            )
            self._pending.clear()
        await self.session.commit()
        if self._on_commit is not None:
            self._on_commit()
        after, self._after_commit = self._after_commit, []
        for fn in after:
            fn()

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the transaction has committed (e.g. apply in memory what it stored)."""
        self._after_commit.append(fn)

    async def rollback(self) -> None:
        self._pending.clear()
        self._after_commit.clear()
        await self.session.rollback()


def unit_of_work_of(session: AsyncSession) -> UnitOfWork:
    """The unit of work a session belongs to. Event handlers get the session; the events they
    cause go through its unit of work, so they commit with the handler's change and inbox row."""
    uow = session.info.get("uow")
    if uow is None:
        raise RuntimeError("this session was not opened by a UnitOfWork")
    return uow


def type_topic(event_type: str) -> str:
    from .events import registry

    cls = registry.get(event_type)
    if cls is None:
        raise LookupError(f"unknown event type {event_type}; register it with @event")
    return cls.topic
