"""Legal deadlines: an invited side's answer window (silence past it is a refusal, Law No. 401-IV
Art. 20(6)), the same window for each co-party of a side whose first party agreed, and the term of
mediation. Both count calendar days in the case's time zone, and both
are enforced by a sweep that runs without a request (the app's background loop), as well as by
the use cases that meet a passed deadline first.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.uow import UnitOfWork

from . import cases, eligibility
from .models import AccessLink, Case, Consent, Participant


def answer_deadline(now: datetime, *, days: int, time_zone: str) -> datetime:
    """End of the last calendar day of the answer window in the case's time zone (the day of the
    invitation does not count): Kazakhstan, 10 calendar days (Law No. 401-IV Art. 20(6))."""
    tz = ZoneInfo(time_zone)
    last_day = now.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=tz).astimezone(timezone.utc)


def local_today(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


async def co_parties_answer_by(session: AsyncSession, case: Case,
                               people: list[Participant] | None = None) -> dict[str, datetime]:
    """Per side: when its co-parties' window to agree to mediate closes, for each side whose first
    party has agreed and on which a party has not answered yet. Each co-party is proposed mediation
    when its side's first party agrees (by filing, or by answering the invitation: ``reach.welcome``
    sends the co-parties their own links then), so the rule set's answer window runs from that day,
    as the invitation's does from its own: silence past it is a refusal (Art. 20(6))."""
    if case.status not in ("filed", "awaiting_consent"):
        return {}
    rs = eligibility.by_ref(case.rule_set)
    people = people if people is not None else await cases.participants(session, case.id)
    answers = list((await session.execute(select(Consent).where(Consent.case_id == case.id)
                                          .order_by(Consent.recorded_at))).scalars())
    answered = {a.participant_id for a in answers}
    out: dict[str, datetime] = {}
    for side in cases.SIDES:
        first = next((a for a in answers if a.side == side), None)
        if first is None or first.decision != "consented":
            continue
        if all(p.id in answered for p in people if p.side == side and p.role == "party"):
            continue
        out[side] = answer_deadline(first.recorded_at, days=rs.answer_window_days, time_zone=rs.time_zone)
    return out


async def expire_invitations(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Silence is a refusal: cases whose invitation window passed unanswered close as declined, and
    so do cases in which a co-party let its own window pass (``co_parties_answer_by``): every party
    must agree, so the rule set's answer to a side that does not answer is the case's answer to a
    party that does not."""
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
    # Co-parties: a co-party's window closes no sooner than (window - 1) days after the filing.
    window = min(rs.answer_window_days for versions in eligibility.load_rule_sets().values()
                 for rs in versions.values())
    waiting = (await uow.session.execute(select(Case).where(
        Case.status == "awaiting_consent", Case.filed_at <= now - timedelta(days=window - 1)))).scalars().all()
    for case in waiting:
        if case.status != "awaiting_consent":
            continue  # closed above
        due = await co_parties_answer_by(uow.session, case)
        if any(by < now for by in due.values()):
            await cases.close(uow, case, "answer_window_passed", "declined", actor="scheduler",
                              reason="a co-party did not answer in the window", now=now)
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
