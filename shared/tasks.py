"""Background task helpers shared by the relay and the bus consumers."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Stop a background loop and wait until it has really stopped, so that nothing it owns
    (a connection, a half-handled batch) is touched after ``stop()`` returns."""
    if task is None or task.done():
        return
    # Cancel again while it runs on: a cancellation can be swallowed (asyncio.wait_for on 3.11,
    # a library's own except clause), and one lost cancellation must not hang a shutdown.
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
