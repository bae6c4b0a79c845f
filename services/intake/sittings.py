"""The calendar of a mediation: sittings. The mediator proposes one or several slots in the case's
time zone; each party answers its availability per slot and may list dates it cannot attend
(HMCTS's "unavailable dates"); the mediator fixes the sitting at a slot, may move it and may cancel
it. A case may have several sittings, all within the term of mediation: a time outside it is
refused with the rule set's citation, because the term is the law's (Law No. 401-IV Art. 20) and a
sitting after it could not lead to a valid settlement.

Only the case's mediator proposes, fixes, moves and cancels; only the parties answer. Each step
publishes its event (``SittingProposed``, ``SittingFixed`` with the invitation's ``sequence``,
``SittingCancelled``): times only, so notifications can send the calendar invitation and move the
reminders without learning anything about the case.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import delete, select

from shared.auth import Principal
from shared.contracts.intake import SittingCancelled, SittingFixed, SittingProposed
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.uow import UnitOfWork

from . import cases, eligibility, states
from .models import Case, Sitting, SittingAnswer, SittingSlot, UnavailableDate
from .schemas import Input

Availability = Literal["available", "unavailable"]


def _plausible(when: datetime) -> datetime:
    """A sitting's time is this century's: far-off years would overflow the date arithmetic."""
    if not 2000 <= when.year <= 2199:
        raise ValueError("a time between the years 2000 and 2199")
    return when


When = Annotated[datetime, AfterValidator(_plausible)]
RUNNING = ("agreement_signed", "in_session")  # the statuses with a running term of mediation
MAX_SLOTS = 10
MAX_UNAVAILABLE_DATES = 120


# -- bodies --------------------------------------------------------------------------------------


class SittingProposal(Input):
    slots: list[When] = Field(min_length=1, max_length=MAX_SLOTS, description=(
        "start times; without an offset a time is read in the case's time zone"))
    duration_minutes: int = Field(120, ge=15, le=480)


class AvailabilityAnswer(Input):
    slots: dict[str, Availability] = Field(max_length=MAX_SLOTS, description="slot id -> available or unavailable")


class UnavailableDates(Input):
    dates: list[date] = Field(max_length=MAX_UNAVAILABLE_DATES, description="days in the case's time zone")


class SittingFix(Input):
    slot_id: str = Field(min_length=1, max_length=36)


class SittingMove(Input):
    starts_at: When = Field(description="without an offset it is read in the case's time zone")
    duration_minutes: int | None = Field(None, ge=15, le=480)


class SlotView(BaseModel):
    id: str
    starts_at: datetime
    ends_at: datetime
    answers: dict[str, Availability] = Field(description="per side; a party sees its own side's only")
    unavailable_sides: list[str] = Field(description="sides that listed this slot's day as unavailable (mediator only)")


class SittingView(BaseModel):
    id: str
    status: Literal["proposed", "fixed", "cancelled"]
    duration_minutes: int
    starts_at: datetime | None
    ends_at: datetime | None
    sequence: int
    slots: list[SlotView]


class Calendar(BaseModel):
    case_id: str
    time_zone: str
    term_starts_on: date | None
    term_ends_on: date | None
    term_citation: str = Field(description="in the reader's language")
    sittings: list[SittingView]
    next_sitting: SittingView | None = Field(description="the earliest fixed sitting that has not ended")
    unavailable_dates: dict[str, list[date]] = Field(description="per side; a party sees its own side's only")


# -- reading -------------------------------------------------------------------------------------


def _zone(case: Case) -> tuple[ZoneInfo, eligibility.RuleSet]:
    rs = eligibility.by_ref(case.rule_set)
    return ZoneInfo(rs.time_zone), rs


def _aware(when: datetime, zone: ZoneInfo) -> datetime:
    """A time the client gave without an offset is a wall-clock time in the case's time zone."""
    return when.replace(tzinfo=zone) if when.tzinfo is None else when


async def _dates(uow: UnitOfWork, case_id: str) -> dict[str, set[date]]:
    rows = (await uow.session.execute(select(UnavailableDate).where(UnavailableDate.case_id == case_id))).scalars()
    out: dict[str, set[date]] = {}
    for r in rows:
        out.setdefault(r.side, set()).add(r.on)
    return out


def _visible_sides(relation: str, principal: Principal) -> set[str] | None:
    """Whose answers and dates the caller sees: a party its own side's, the mediator everyone's."""
    return {principal.party_side} if relation == "party" else None


async def _view(uow: UnitOfWork, sitting: Sitting, *, zone: ZoneInfo, dates: dict[str, set[date]],
                sides: set[str] | None) -> SittingView:
    slots = list((await uow.session.execute(select(SittingSlot).where(SittingSlot.sitting_id == sitting.id)
                                            .order_by(SittingSlot.position))).scalars())
    answers = list((await uow.session.execute(select(SittingAnswer).where(
        SittingAnswer.sitting_id == sitting.id))).scalars())
    length = timedelta(minutes=sitting.duration_minutes)
    views = []
    for slot in slots:
        day = slot.starts_at.astimezone(zone).date()
        views.append(SlotView(
            id=slot.id, starts_at=slot.starts_at, ends_at=slot.starts_at + length,
            answers={a.side: a.availability for a in answers if a.slot_id == slot.id and (sides is None or a.side in sides)},
            unavailable_sides=[] if sides is not None else sorted(s for s, days in dates.items() if day in days)))
    return SittingView(id=sitting.id, status=sitting.status, duration_minutes=sitting.duration_minutes,
                       starts_at=sitting.starts_at, ends_at=sitting.starts_at + length if sitting.starts_at else None,
                       sequence=sitting.sequence, slots=views)


async def _access(uow: UnitOfWork, case_id: str, principal: Principal) -> tuple[Case, str]:
    case, relation = await cases.access(uow.session, case_id, principal)
    if relation not in ("party", "mediator", "admin"):
        raise Forbidden("the parties and the case's mediator see its sittings")
    return case, relation


async def _language(uow: UnitOfWork, case: Case, principal: Principal) -> str:
    """The caller's language: a party's own, else the case's (the rule's citation is told in it)."""
    return cases.viewer_language(case, await cases.participants(uow.session, case.id), principal)


async def calendar(uow: UnitOfWork, *, case_id: str, principal: Principal) -> Calendar:
    case, relation = await _access(uow, case_id, principal)
    zone, rs = _zone(case)
    sides = _visible_sides(relation, principal)
    dates = await _dates(uow, case.id)
    rows = (await uow.session.execute(select(Sitting).where(Sitting.case_id == case.id)
                                      .order_by(Sitting.created_at, Sitting.id))).scalars().all()
    views = [await _view(uow, s, zone=zone, dates=dates, sides=sides) for s in rows]
    now = cases.utcnow()
    upcoming = sorted((v for v in views if v.status == "fixed" and v.ends_at > now), key=lambda v: v.starts_at)
    return Calendar(case_id=case.id, time_zone=rs.time_zone, term_starts_on=case.term_starts_on,
                    term_ends_on=case.term_ends_on, term_citation=rs.term_citation.get(await _language(uow, case, principal)), sittings=views,
                    next_sitting=upcoming[0] if upcoming else None,
                    unavailable_dates={s: sorted(d) for s, d in dates.items() if sides is None or s in sides})


# -- the mediator's steps ------------------------------------------------------------------------


async def _mediators_case(uow: UnitOfWork, case_id: str, principal: Principal) -> Case:
    case, relation = await cases.access(uow.session, case_id, principal)
    if relation != "mediator":
        raise Forbidden("only the case's mediator schedules its sittings")
    if case.status not in RUNNING:
        raise Conflict("no-running-term", f"a case that is {case.status} has no running term of mediation",
                       case_status=case.status,
                       citation=eligibility.by_ref(case.rule_set).term_citation.get(await _language(uow, case, principal)))
    return case


def _within_term(case: Case, starts_at: datetime, ends_at: datetime, *, zone: ZoneInfo,
                 rs: eligibility.RuleSet, lang: str) -> None:
    """Refuse a time in the past or outside the term of mediation (with its extensions), counted in
    calendar days of the case's time zone, with the rule's citation in ``lang`` (only the mediator
    schedules, and a mediator reads the case's language, as ``cases.viewer_language`` says)."""
    if starts_at <= cases.utcnow():
        raise Problem(422, "sitting-in-the-past", "a sitting must start in the future", starts_at=starts_at.isoformat())
    first, last = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    if first < case.term_starts_on or last > case.term_ends_on:
        raise Problem(422, "sitting-outside-term",
                      f"a sitting must take place within the term of mediation, {case.term_starts_on.isoformat()} to "
                      f"{case.term_ends_on.isoformat()} ({rs.time_zone})",
                      citation=rs.term_citation.get(lang), term_starts_on=case.term_starts_on.isoformat(),
                      term_ends_on=case.term_ends_on.isoformat(), time_zone=rs.time_zone,
                      starts_at=starts_at.isoformat())


async def _mediators_sitting(uow: UnitOfWork, case_id: str, sitting_id: str,
                             principal: Principal) -> tuple[Case, Sitting]:
    case = await _mediators_case(uow, case_id, principal)
    sitting = await uow.session.get(Sitting, sitting_id)
    if sitting is None or sitting.case_id != case.id:
        raise NotFound("the sitting")
    return case, sitting


async def _refuse_unavailable(uow: UnitOfWork, case: Case, sitting: Sitting, starts_at: datetime, *,
                              zone: ZoneInfo, slot_id: str | None = None) -> None:
    """A party's word that it cannot attend binds the mediator: a time on a day a side listed, or
    a slot a side answered unavailable, is refused (propose other times instead)."""
    day = starts_at.astimezone(zone).date()
    sides = {s for s, days in (await _dates(uow, case.id)).items() if day in days}
    if slot_id is not None:
        sides |= set((await uow.session.execute(select(SittingAnswer.side).where(
            SittingAnswer.slot_id == slot_id, SittingAnswer.availability == "unavailable"))).scalars())
    if sides:
        raise Conflict("party-unavailable", "a party cannot attend at that time", sides=sorted(sides),
                       date=day.isoformat())


def _fixed_event(case: Case, sitting: Sitting, rs: eligibility.RuleSet) -> SittingFixed:
    return SittingFixed(case_id=case.id, sitting_id=sitting.id, starts_at=sitting.starts_at,
                        ends_at=sitting.starts_at + timedelta(minutes=sitting.duration_minutes),
                        sequence=sitting.sequence, time_zone=rs.time_zone)


async def propose(uow: UnitOfWork, *, case_id: str, proposal: SittingProposal, principal: Principal) -> SittingView:
    case = await _mediators_case(uow, case_id, principal)
    zone, rs = _zone(case)
    starts = sorted({_aware(s, zone) for s in proposal.slots})
    length = timedelta(minutes=proposal.duration_minutes)
    for s in starts:
        _within_term(case, s, s + length, zone=zone, rs=rs, lang=case.language)
    now = cases.utcnow()
    sitting = Sitting(id=str(uuid.uuid4()), case_id=case.id, status="proposed", duration_minutes=proposal.duration_minutes,
                      starts_at=None, sequence=0, proposed_by=principal.subject, created_at=now, updated_at=now)
    uow.session.add(sitting)
    for i, s in enumerate(starts):
        uow.session.add(SittingSlot(id=str(uuid.uuid4()), sitting_id=sitting.id, position=i, starts_at=s))
    uow.publish(SittingProposed(case_id=case.id, sitting_id=sitting.id, slots=starts, time_zone=rs.time_zone))
    await uow.commit()
    return await _view(uow, sitting, zone=zone, dates=await _dates(uow, case.id), sides=None)


async def fix(uow: UnitOfWork, *, case_id: str, sitting_id: str, fix: SittingFix, principal: Principal) -> SittingView:
    case, sitting = await _mediators_sitting(uow, case_id, sitting_id, principal)
    if sitting.status != "proposed":
        raise Conflict("sitting-not-proposed", f"the sitting is {sitting.status}; move it instead",
                       sitting_status=sitting.status)
    slot = await uow.session.get(SittingSlot, fix.slot_id)
    if slot is None or slot.sitting_id != sitting.id:
        raise NotFound("the slot")
    zone, rs = _zone(case)
    _within_term(case, slot.starts_at, slot.starts_at + timedelta(minutes=sitting.duration_minutes), zone=zone,
                 rs=rs, lang=case.language)
    await _refuse_unavailable(uow, case, sitting, slot.starts_at, zone=zone, slot_id=slot.id)
    sitting.status, sitting.starts_at, sitting.updated_at = "fixed", slot.starts_at, cases.utcnow()
    uow.publish(_fixed_event(case, sitting, rs))
    await uow.commit()
    return await _view(uow, sitting, zone=zone, dates=await _dates(uow, case.id), sides=None)


async def move(uow: UnitOfWork, *, case_id: str, sitting_id: str, move: SittingMove,
               principal: Principal) -> SittingView:
    """A fixed sitting moves to another time: the invitation's sequence goes up, so every calendar
    replaces the old time, and the reminders move with it."""
    case, sitting = await _mediators_sitting(uow, case_id, sitting_id, principal)
    if sitting.status != "fixed":
        raise Conflict("sitting-not-fixed", f"the sitting is {sitting.status}", sitting_status=sitting.status)
    zone, rs = _zone(case)
    starts_at = _aware(move.starts_at, zone)
    duration = move.duration_minutes or sitting.duration_minutes
    _within_term(case, starts_at, starts_at + timedelta(minutes=duration), zone=zone, rs=rs, lang=case.language)
    await _refuse_unavailable(uow, case, sitting, starts_at, zone=zone)
    sitting.starts_at, sitting.duration_minutes = starts_at, duration
    sitting.sequence += 1
    sitting.updated_at = cases.utcnow()
    uow.publish(_fixed_event(case, sitting, rs))
    await uow.commit()
    return await _view(uow, sitting, zone=zone, dates=await _dates(uow, case.id), sides=None)


def _cancel(sink, case: Case, sitting: Sitting, *, now: datetime) -> None:
    """A cancelled fixed sitting withdraws its invitation (one more sequence) and its reminders; a
    merely proposed one just stops asking for answers (it has no invitation nor reminders)."""
    was_fixed = sitting.status == "fixed"
    sitting.status, sitting.updated_at = "cancelled", now
    if was_fixed:
        sitting.sequence += 1
        sink.publish(SittingCancelled(case_id=case.id, sitting_id=sitting.id, starts_at=sitting.starts_at,
                                      ends_at=sitting.starts_at + timedelta(minutes=sitting.duration_minutes),
                                      sequence=sitting.sequence, time_zone=_zone(case)[1].time_zone))


async def cancel(uow: UnitOfWork, *, case_id: str, sitting_id: str, principal: Principal) -> SittingView:
    case, sitting = await _mediators_sitting(uow, case_id, sitting_id, principal)
    if sitting.status == "cancelled":
        raise Conflict("sitting-cancelled", "the sitting is already cancelled", sitting_status=sitting.status)
    _cancel(uow, case, sitting, now=cases.utcnow())
    await uow.commit()
    return await _view(uow, sitting, zone=_zone(case)[0], dates=await _dates(uow, case.id), sides=None)


async def cancel_all(sink, case: Case, *, now: datetime) -> None:
    """A case that closes (settled, withdrawn, ended, term expired...) has no more sittings: each
    proposed or fixed one is cancelled as the mediator would, so the parties' calendars receive
    the CANCEL and the reminders stop, instead of inviting people to a mediation that is over.
    Called by ``cases.close`` in the closing transaction."""
    for sitting in (await sink.session.execute(select(Sitting).where(
            Sitting.case_id == case.id, Sitting.status.in_(("proposed", "fixed")))
            .order_by(Sitting.created_at, Sitting.id))).scalars():
        _cancel(sink, case, sitting, now=now)


# -- the parties' answers ------------------------------------------------------------------------


async def _party(uow: UnitOfWork, case_id: str, principal: Principal) -> Case:
    case, relation = await cases.access(uow.session, case_id, principal, to_act=True)
    if relation != "party":
        raise Forbidden("only the parties answer their availability")
    if case.status in states.TERMINAL:
        raise Conflict("case-closed", f"a case that is {case.status} has no sittings to answer", case_status=case.status)
    return case


async def answer(uow: UnitOfWork, *, case_id: str, sitting_id: str, answer: AvailabilityAnswer,
                 principal: Principal) -> SittingView:
    case = await _party(uow, case_id, principal)
    sitting = await uow.session.get(Sitting, sitting_id)
    if sitting is None or sitting.case_id != case.id:
        raise NotFound("the sitting")
    if sitting.status != "proposed":
        raise Conflict("sitting-not-proposed", f"the sitting is {sitting.status}; its time is no longer open",
                       sitting_status=sitting.status)
    slots = set((await uow.session.execute(select(SittingSlot.id).where(SittingSlot.sitting_id == sitting.id))).scalars())
    unknown = set(answer.slots) - slots
    if unknown:
        raise Problem(422, "unknown-slot", "answer the slots of this sitting", slots=sorted(unknown))
    side, now = principal.party_side, cases.utcnow()
    for slot_id, availability in answer.slots.items():
        row = (await uow.session.execute(select(SittingAnswer).where(
            SittingAnswer.slot_id == slot_id, SittingAnswer.side == side))).scalar_one_or_none()
        if row is None:
            uow.session.add(SittingAnswer(id=str(uuid.uuid4()), sitting_id=sitting.id, slot_id=slot_id, side=side,
                                          availability=availability, answered_by=principal.subject, answered_at=now))
        else:
            row.availability, row.answered_by, row.answered_at = availability, principal.subject, now
    await uow.commit()
    zone, _ = _zone(case)
    return await _view(uow, sitting, zone=zone, dates=await _dates(uow, case.id), sides={side})


async def set_unavailable_dates(uow: UnitOfWork, *, case_id: str, dates: UnavailableDates,
                                principal: Principal) -> list[date]:
    """The side's dates it cannot attend, replacing its earlier list."""
    case = await _party(uow, case_id, principal)
    side, now = principal.party_side, cases.utcnow()
    await uow.session.execute(delete(UnavailableDate).where(UnavailableDate.case_id == case.id,
                                                            UnavailableDate.side == side))
    chosen = sorted(set(dates.dates))
    for day in chosen:
        uow.session.add(UnavailableDate(case_id=case.id, side=side, on=day, recorded_by=principal.subject,
                                        recorded_at=now))
    await uow.commit()
    return chosen
