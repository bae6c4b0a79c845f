"""Running ASGI apps in tests with their lifespan, over httpx."""

from __future__ import annotations

import asyncio
import contextlib

import httpx


@contextlib.asynccontextmanager
async def running(app):
    """Start the app's lifespan (migrations, relay, consumers), yield an HTTP client, stop it.

    The lifespan runs in a task of its own so that it starts and ends in the same task even when
    pytest-asyncio tears a fixture down from another task (lifespans may hold cancel scopes).
    """
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.router.lifespan_context(app):
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # raises the start-up error
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://odr.test") as client:
            yield client
    finally:
        stop.set()
        await task
