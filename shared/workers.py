"""Background workers, one way: a loop that does a round of work, then sleeps until it is woken
(work was committed in this process) or due (its next deadline, or the interval at which it looks
for work committed elsewhere), and backs off after a failed round.

The outbox relay, the bus consumers and every service's background work (delivery, webhooks,
reminders, deadline sweeps, maintenance) run on ``Worker``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from . import clock
from .tasks import cancel_and_wait

log = logging.getLogger("odr.workers")

# One round of work; returns how long the worker may sleep before it is due again: 0 means more
# work is waiting now, None means only a wake-up brings new work.
Step = Callable[[], Awaitable[float | None]]


class Signal:
    """Wakes everything that waits on it, once per ``fire()``. A waiter that takes its ``ticket()``
    before a round of work and waits on it afterwards also sees the fires in between."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def ticket(self) -> asyncio.Event:
        return self._event

    async def wait(self, timeout: float | None, ticket: asyncio.Event | None = None) -> None:
        """Until the signal fires (since ``ticket`` was taken) or ``timeout`` seconds pass."""
        event = ticket if ticket is not None else self._event
        if timeout is None:
            await event.wait()
            return
        # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that arrives as the
        # event is set, and a worker whose stop() was lost that way never stops.
        waiter = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            waiter.cancel()


class Worker:
    """Runs ``step`` in a background task from ``start()`` to ``stop()`` (or as an ``async with``
    block). ``wake()``, or a fire of the ``signal`` it was given, ends its sleep early.

    If a round raises, the error is logged and the worker sleeps ``backoff`` seconds (a number, or
    a function read at each failure) before the next one; a wake-up does not cut that short, so a
    failing dependency is not retried at the rate work arrives.
    """

    def __init__(self, name: str, step: Step, *, backoff: float | Callable[[], float] = 1.0,
                 signal: Signal | None = None, logger: logging.Logger = log, context: dict | None = None) -> None:
        self.name = name
        self.step = step
        self.signal = signal or Signal()
        self.last_error: str | None = None
        self._backoff = backoff
        self._log = logger
        self._context = {"worker": name, **(context or {})}
        self._task: asyncio.Task | None = None
        self._unlisten: Callable[[], None] | None = None

    def wake(self) -> None:
        self.signal.fire()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)
        # A moved platform clock (dev mode, tests) may have made work due: look at once.
        self._unlisten = clock.on_change(self.wake)

    async def stop(self) -> None:
        """Returns once the loop has really stopped (see ``cancel_and_wait``)."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        await cancel_and_wait(self._task)
        self._task = None

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def backoff(self) -> float:
        return self._backoff() if callable(self._backoff) else self._backoff

    async def _run(self) -> None:
        while True:
            ticket = self.signal.ticket()  # taken before the round: a wake during it is not lost
            try:
                due_in = await self.step()
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = type(exc).__name__
                self._log.exception("%s: round failed; retrying after a back-off", self.name, extra=self._context)
                await asyncio.sleep(self.backoff())
                continue
            if due_in is None or due_in > 0:
                await self.signal.wait(due_in, ticket)
