"""Legal deadlines: an invited side's answer window (silence past it is a refusal, Law No. 401-IV
Art. 20(6)) and the term of mediation. Both count calendar days in the case's time zone, and both
are enforced by a sweep that runs without a request (the app's background loop), as well as by
the use cases that meet a passed deadline first.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shared.uow import UnitOfWork

from . import cases, eligibility
from .models import AccessLink, Case


def answer_deadline(now: datetime, *, days: int, time_zone: str) -> datetime:
    """End of the last calendar day of the answer window in the case's time zone (the day of the
    invitation does not count): Kazakhstan, 10 calendar days (Law No. 401-IV Art. 20(6))."""
    tz = ZoneInfo(time_zone)
    last_day = now.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=tz).astimezone(timezone.utc)


def local_today(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


async def expire_invitations(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Silence is a refusal: cases whose invitation window passed unanswered close as declined."""
    now = now or cases.utcnow()
    # An IN over the links rather than a DISTINCT join: PostgreSQL cannot compare the case's JSON
    # columns for DISTINCT.
    lapsed = select(AccessLink.case_id).where(
        AccessLink.purpose == "invitation", AccessLink.used_at.is_(None), AccessLink.expires_at <= now)
    rows = (await uow.session.execute(
        select(Case).where(Case.status == "awaiting_consent", Case.id.in_(lapsed)))).scalars().all()
    closed = 0
    for case in rows:
        pending = (await uow.session.execute(select(AccessLink).where(
            AccessLink.case_id == case.id, AccessLink.purpose == "invitation", AccessLink.used_at.is_(None),
            AccessLink.expires_at > now))).first()
        if pending is not None:
            continue  # a newer invitation is still open
        await cases.close(uow, case, "answer_window_passed", "declined", actor="scheduler", reason="no answer in the window",
                    now=now)
        closed += 1
    await uow.commit()
    return closed


async def expire_terms(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Cases whose term of mediation (with extensions) ended close as term expired."""
    now = now or cases.utcnow()
    rows = (await uow.session.execute(select(Case).where(
        Case.status.in_(["agreement_signed", "in_session"]), Case.term_ends_on.is_not(None)))).scalars().all()
    closed = 0
    for case in rows:
        if local_today(now, eligibility.by_ref(case.rule_set).time_zone) > case.term_ends_on:
            await cases.close(uow, case, "term_expired", "term_expired", actor="scheduler", now=now)
            closed += 1
    await uow.commit()
    return closed
