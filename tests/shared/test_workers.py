"""The background-worker primitive: rounds run when woken or due, a wake during a round is not
lost, a failed round backs off, and stop() waits for the loop to end."""

from __future__ import annotations

import asyncio

from shared.workers import Worker
from tests.support.waiting import eventually


async def test_a_worker_sleeps_until_woken_and_keeps_a_wake_that_came_during_a_round():
    rounds = 0
    release = asyncio.Event()

    async def step():
        nonlocal rounds
        rounds += 1
        if rounds == 2:
            await release.wait()  # woken while this round runs
        return None  # nothing is due: only a wake brings work

    async with Worker("test", step) as worker:
        await eventually(lambda: rounds == 1, message="first round")
        await asyncio.sleep(0.1)
        assert rounds == 1  # asleep, not polling
        worker.wake()
        await eventually(lambda: rounds == 2, message="woken")
        worker.wake()
        release.set()
        await eventually(lambda: rounds == 3, message="the wake during the round")


async def test_a_worker_runs_again_when_due_and_at_once_when_there_is_more():
    rounds = 0

    async def step():
        nonlocal rounds
        rounds += 1
        return 0 if rounds < 3 else 0.05

    async with Worker("test", step):
        await eventually(lambda: rounds >= 5, message="due rounds")


async def test_a_failed_round_is_logged_and_retried_after_the_back_off_not_at_a_wake(caplog):
    rounds = 0

    async def step():
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise RuntimeError("dependency down")
        return None

    async with Worker("flaky", step, backoff=0.3) as worker:
        await eventually(lambda: worker.last_error == "RuntimeError", message="failure recorded")
        worker.wake()
        await asyncio.sleep(0.1)
        assert rounds == 1  # still backing off
        await eventually(lambda: rounds == 2, message="retried")
        assert worker.last_error is None
    assert any("flaky" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_stop_returns_once_the_loop_has_stopped():
    running = asyncio.Event()

    async def step():
        running.set()
        await asyncio.sleep(3600)

    worker = Worker("test", step)
    await worker.start()
    await running.wait()
    task = worker._task
    await worker.stop()
    assert task.done()
