"""Reminders from a durable scheduler: due jobs are rows in ``scheduled_jobs``, polled by a
background task. A job is claimed by a conditional UPDATE (pending -> done, for its current
generation) in the same transaction that queues its notices, so it fires exactly once across
restarts and replicas: a crash before the commit leaves it pending, after it leaves it done.

Jobs:
- ``session_reminder``: 24 h and 1 h before a session (``SessionScheduled``); a rescheduled
  session moves its reminders and bumps their generation, so they fire again for the new time.
- ``sitting_reminder``: the same 24 h and 1 h before a sitting intake fixed (``SittingFixed``); a
  moved sitting moves them, a cancelled one (``SittingCancelled``) cancels them.
- ``answer_window``: before an invitation's answer window closes (``RespondentInvited.answer_by``);
  cancelled when that participant answers.
- ``signature_pending``: some time after signatures were requested, to the signers who have not
  signed yet (``odr.agreement.signature_added.v1`` / ``signature_withdrawn.v1`` keep the list).
- ``obligation_due``: days before an executed agreement's obligation falls due, to the owing side
  (``AgreementSigned.obligations``); cancelled if it is reported overdue first.
Closing a case cancels all its pending jobs, except that a settled case keeps its obligation
reminders: the agreement's obligations fall due after the case closed.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import utcnow
from shared.workers import Worker

from . import service
from .models import ScheduledJob

log = logging.getLogger("odr.notifications.scheduler")



async def schedule(session: AsyncSession, notifier, *, kind: str, case_id: str, ref: str, due_at: datetime,
                   params: dict) -> ScheduledJob | None:
    """Create or move a job. Jobs already due are not created (a reminder after the fact is noise)."""
    now = utcnow()
    await session.flush()
    job = (await session.execute(select(ScheduledJob).where(
        ScheduledJob.kind == kind, ScheduledJob.case_id == case_id, ScheduledJob.ref == ref))).scalar_one_or_none()
    if due_at <= now:
        if job is not None and job.status == "pending":
            job.status = "cancelled"
        return None
    if job is None:
        job = ScheduledJob(id=str(uuid.uuid4()), kind=kind, case_id=case_id, ref=ref, due_at=due_at, status="pending",
                           generation=1, params=params, created_at=now)
        session.add(job)
    elif job.due_at != due_at or job.status != "pending" or job.params != params:
        job.generation += 1
        job.due_at, job.params, job.status, job.fired_at = due_at, params, "pending", None
    notifier.after_commit(session, "scheduler")
    return job


async def adjust_signers(session: AsyncSession, *, case_id: str, ref: str, remove: str | None = None,
                         add: str | None = None) -> None:
    """Keep a pending signature reminder for those who have not signed: a signature takes its slot
    off the list (the last one cancels the reminder), a withdrawal puts it back."""
    job = (await session.execute(select(ScheduledJob).where(
        ScheduledJob.kind == "signature_pending", ScheduledJob.case_id == case_id, ScheduledJob.ref == ref,
        ScheduledJob.status == "pending"))).scalar_one_or_none()
    if job is None:
        return
    slots = [s for s in job.params.get("signer_ids", []) if s != remove]
    if add and add not in slots:
        slots.append(add)
    job.params = {**job.params, "signer_ids": slots}  # a new dict: JSON columns see reassignment only
    if not slots:
        job.status = "cancelled"


async def cancel(session: AsyncSession, *, case_id: str, kind: str | None = None, ref_prefix: str | None = None,
                 keep: tuple[str, ...] = ()) -> None:
    """Cancel a case's pending jobs (of ``kind``, under ``ref_prefix``), other than the kinds in ``keep``."""
    q = update(ScheduledJob).where(ScheduledJob.case_id == case_id, ScheduledJob.status == "pending")
    if keep:
        q = q.where(ScheduledJob.kind.not_in(keep))
    if kind is not None:
        q = q.where(ScheduledJob.kind == kind)
    if ref_prefix is not None:
        q = q.where(ScheduledJob.ref.startswith(ref_prefix, autoescape=True))
    await session.execute(q.values(status="cancelled"))


# A job's kind: the notice it sends and the params that notice carries (who receives it is the
# catalog's, read against the job's params).
NOTICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "session_reminder": ("session_reminder", ("session_id", "starts_at", "lead")),
    "sitting_reminder": ("sitting_reminder", ("sitting_id", "starts_at", "lead")),
    "answer_window": ("answer_window_closing", ("answer_by",)),
    "signature_pending": ("signature_pending", ("agreement_id", "version")),
    "obligation_due": ("obligation_due", ("agreement_id", "obligation_id", "due_on")),
}


async def fire(session: AsyncSession, notifier, job: ScheduledJob) -> None:
    """Queue the notices of a due job (inside the claiming transaction)."""
    if job.kind not in NOTICES:
        log.error("unknown job kind", extra={"job_id": job.id, "kind": job.kind})
        return
    kind, carried = NOTICES[job.kind]
    p = job.params
    await service.tell(session, notifier, source_id=f"job:{job.id}:{job.generation}", case_id=job.case_id, kind=kind,
                       facts=p, params={name: p[name] for name in carried})


class Scheduler(Worker):
    def __init__(self, notifier, *, batch_size: int = 100) -> None:
        self.notifier = notifier
        self.batch_size = batch_size
        self.fired = 0
        super().__init__("notifications-scheduler", self._round, signal=notifier.signals["scheduler"],
                         backoff=self._poll_seconds, logger=log)

    def _poll_seconds(self) -> float:
        return self.notifier.nsettings.scheduler_poll_seconds

    async def _round(self) -> float:
        await self.run_once()
        return self._poll_seconds()

    async def run_once(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        session_factory = self.notifier.runtime.session_factory
        async with session_factory() as session:
            due = list((await session.execute(select(ScheduledJob.id, ScheduledJob.generation).where(
                ScheduledJob.status == "pending", ScheduledJob.due_at <= now)
                .order_by(ScheduledJob.due_at).limit(self.batch_size))).all())
        fired = 0
        for job_id, generation in due:
            async with session_factory() as session:
                async with session.begin():
                    claimed = await session.execute(update(ScheduledJob).where(
                        ScheduledJob.id == job_id, ScheduledJob.generation == generation,
                        ScheduledJob.status == "pending").values(status="done", fired_at=now))
                    if claimed.rowcount != 1:
                        continue
                    job = await session.get(ScheduledJob, job_id)
                    await fire(session, self.notifier, job)
            fired += 1
            log.info("reminder fired", extra={"job_id": job_id, "kind": job.kind, "case_id": job.case_id})
        self.fired += fired
        return fired

