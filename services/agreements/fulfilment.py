"""Fulfilment of executed agreements: obligations with due dates, parties reporting performance,
and overdue obligations announced with ``odr.obligation.overdue.v1`` (ids and the due date only).

"Overdue" counts calendar days in the jurisdiction's time zone (Kazakhstan: Asia/Almaty): an
obligation due on the 1st is overdue from the 2nd there, whatever the server's zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shared.auth import Principal
from shared.clock import utcnow
from shared.contracts.agreements import ObligationOverdue
from shared.problems import Conflict, Forbidden, NotFound
from shared.uow import UnitOfWork

from . import documents, service
from .context import Context
from .models import Agreement, Obligation
from .schemas import ObligationList, ObligationStatus

_ONE_DAY = timedelta(days=1)  # the query's coarse bound; the exact day is checked in the zone


def _view(o: Obligation) -> ObligationStatus:
    return ObligationStatus(obligation_id=o.obligation_id, obligor=o.obligor, obligee=o.obligee, due_on=o.due_on,
                            status=o.status, performed_at=o.performed_at, reported_by=o.reported_by)


async def list_obligations(uow: UnitOfWork, *, principal: Principal, agreement_id: str) -> ObligationList:
    await service.load(uow.session, agreement_id, principal)
    rows = (await uow.session.execute(select(Obligation).where(Obligation.agreement_id == agreement_id)
                                      .order_by(Obligation.due_on, Obligation.obligation_id))).scalars()
    return ObligationList(items=[_view(o) for o in rows])


async def report_performance(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str,
                             obligation_id: str) -> ObligationStatus:
    """A party (either side) or the mediator reports that an obligation was performed."""
    if principal.role not in ("party", "mediator"):
        raise Forbidden("only the parties and the mediator report performance")
    agreement = await service.load(uow.session, agreement_id, principal, lock=True)
    obligation = await uow.session.get(Obligation, (agreement.id, obligation_id))
    if obligation is None:
        raise NotFound("the obligation")
    if obligation.status == "performed":
        return _view(obligation)
    if agreement.status != "executed":
        raise Conflict("not-executed", "performance is tracked for executed agreements only")
    obligation.status, obligation.performed_at = "performed", utcnow()
    obligation.reported_by = principal.subject
    await service.record_audit(ctx, uow.session, agreement, "performance_reported", principal,
                               obligation_id=obligation_id)
    await uow.commit()
    return _view(obligation)


def today_in(jurisdiction: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(documents.jurisdiction(jurisdiction).time_zone)).date()


async def mark_overdue(uow: UnitOfWork, ctx: Context, *, now: datetime | None = None) -> int:
    """Every pending obligation whose due date has passed (in its jurisdiction's zone) becomes
    overdue, once, with an event and an audit entry."""
    now = now or utcnow()
    rows = (await uow.session.execute(
        select(Obligation, Agreement).join(Agreement, Agreement.id == Obligation.agreement_id)
        .where(Obligation.status == "pending", Obligation.due_on.is_not(None), Agreement.status == "executed",
               Obligation.due_on < now.date() + _ONE_DAY)
        .order_by(Obligation.due_on).limit(500)
    )).all()
    count = 0
    for obligation, agreement in rows:
        if obligation.due_on >= today_in(agreement.jurisdiction, now):
            continue
        obligation.status, obligation.overdue_at = "overdue", now
        uow.publish(ObligationOverdue(case_id=agreement.case_id, agreement_id=agreement.id,
                                      obligation_id=obligation.obligation_id, due_on=obligation.due_on))
        await service.record_audit(ctx, uow.session, agreement, "obligation_overdue", None,
                                   obligation_id=obligation.obligation_id)
        count += 1
    await uow.commit()
    return count
