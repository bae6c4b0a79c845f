"""Background task helpers shared by the relay and the bus consumers."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Stop a background loop and wait until it has really stopped, so that nothing it owns
    (a connection, a half-handled batch) is touched after ``stop()`` returns."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
