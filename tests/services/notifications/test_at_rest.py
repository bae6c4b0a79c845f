"""The notifications workers rest until work is committed in their process or something they
hold becomes due, not on a short poll: with the look for other replicas' rows an hour apart, a
reminder still fires when it falls due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.notifications.models import ScheduledJob
from services.notifications.scheduler import schedule
from shared.clock import utcnow
from tests.services.notifications.conftest import service
from tests.support.waiting import eventually


async def test_the_scheduler_sleeps_until_the_next_job_is_due(tmp_path):
    async with service(tmp_path, scheduler_poll_seconds=3600, delivery_poll_seconds=3600,
                       webhook_poll_seconds=3600) as svc:
        scheduler = svc.worker("Scheduler")
        rounds = 0
        run_once = scheduler.run_once

        async def counted(*args, **kwargs):
            nonlocal rounds
            rounds += 1
            return await run_once(*args, **kwargs)

        scheduler.run_once = counted
        async with svc.runtime.session_factory() as session:
            job = await schedule(session, svc.notifier, kind="test-at-rest", case_id="case-rest", ref="r",
                                 due_at=utcnow() + timedelta(seconds=1.5), params={})
            await session.commit()  # wakes the scheduler, which finds the job not yet due

        async def fired():
            async with svc.runtime.session_factory() as session:
                return (await session.execute(select(ScheduledJob.status).where(ScheduledJob.id == job.id))).scalar() == "done"

        await eventually(fired, timeout=60, message="the job fired at its due time")
        assert rounds <= 4  # woken by the commit, then at the due time: no polling in between
