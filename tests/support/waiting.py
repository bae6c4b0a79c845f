"""Waiting for asynchronous effects without sleeping a fixed time."""

from __future__ import annotations

import asyncio
import time


async def eventually(predicate, *, timeout: float = 20.0, interval: float = 0.02, message: str = "condition"):
    """Poll ``predicate`` (sync or async) until it is truthy; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)
