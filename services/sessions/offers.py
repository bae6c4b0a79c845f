"""Blind offers for a money term, in the manner of Smartsettle's blind bidding.

Each side privately states the amount it would accept: the claimant the least it would take (its
*ask*), the respondent the most it would pay (its *bid*). The platform says only whether the two
cross and, when they do, the settlement figure by the rule both sides agreed before the first
round. A crossed figure becomes a proposal; once both sides confirm it, it is an accepted proposal
like any other (``odr.proposal.accepted.v1``, content through the REST route) and can seed the
agreement draft.

The process is a small state machine (``step``), pure and synchronous like ``rooms.py``, so the
property tests drive it directly::

    proposed --both sides agree--> open --round crosses--> crossed --both confirm--> settled
                                     |  \\--round misses, rounds left: next round (still open)
                                     \\----round misses, none left--> exhausted
    proposed | open | crossed --either side or the mediator--> cancelled

Rules (agreed in the proposal, fixed afterwards):

* ``midpoint``: the offers cross when ask <= bid; the figure is (ask + bid) / 2, rounded down
  to the minor unit.
* ``midpoint-band``: as ``midpoint``, and the offers also count as crossed when the gap is at
  most ``band_percent`` of the ask (bid >= ask * (100 - band) / 100), Cybersettle's well-known
  variant; the figure is again the midpoint (so it may be above the bid: both sides agreed to
  that beforehand).

What each person learns, and why nothing more:

* The mediator learns the process state only: its terms, which sides agreed or confirmed, the
  round, how many rounds were used, and whether it is open, crossed, settled, exhausted or
  cancelled. Never an amount, not even the figure before both sides confirmed it (after that it
  is an accepted proposal, readable like any other, because it is now an agreed term).
* A side learns the same, its own offers, whether its side has offered in the current round, and
  the figure once crossed. It does not learn the other side's amounts, nor whether the other side
  has offered in the current round (that would say who moves and when), nor by how much a round
  missed. A round is resolved the moment the second offer arrives, and only then does anyone but
  the offering side hear anything.
* "Not crossed" therefore tells each side exactly what any crossing test must: the other side's
  figure is on the far side of its own (for the claimant: the bid was below its ask, by an
  unknown amount). Nothing tells how far, or whether the other side moved between rounds.
* "Crossed" reveals the figure. Under the midpoint rule each side can work out the other's last
  offer from the figure and its own; that is inherent in splitting the difference and is why the
  figure is shown only to the sides, and only once the deal is made.

Who receives a notice is decided here too: every ``offers`` frame is addressed to people (no
channel), built per viewer by ``view``. Amounts are stored only sealed (``shared.crypto.Vault``
under the sessions KEK, bound to the case and process), outliving the session's transcript key as
a record of the rounds.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from shared import crypto

from .models import BlindOfferProcess
from .rooms import CHANNELS, DomainEvent, Item, Member, Result, RoomError, RoomState

SIDES = ("claimant", "respondent")
ACTING_ROLES = ("party", "representative")  # who speaks for a side in the offers
CURRENCIES = ("KZT", "KGS", "RUB", "USD", "EUR")  # each with two minor digits
RULES = ("midpoint", "midpoint-band")
MAX_AMOUNT = 10**12  # minor units (10 000 000 000.00 of the currency)
MAX_ROUNDS = 10  # the most rounds the sides may agree to
MAX_BAND_PERCENT = 20
MAX_PROCESSES = 5  # blind-offer processes per case (a new one needs both sides' agreement again)
ENDED = ("settled", "exhausted", "cancelled")
OP_TYPES = ("offers.propose", "offers.agree", "offers.submit", "offers.confirm", "offers.cancel", "offers.status")


# -- the rule ----------------------------------------------------------------------------------


def crosses(*, rule: str, band_percent: int, ask: int, bid: int) -> bool:
    """Whether an ask and a bid settle under ``rule`` (integer arithmetic only)."""
    if ask <= bid:
        return True
    return rule == "midpoint-band" and (ask - bid) * 100 <= band_percent * ask


def figure(*, ask: int, bid: int) -> int:
    """The midpoint, rounded down to the minor unit."""
    return (ask + bid) // 2


def settlement(*, rule: str, band_percent: int, ask: int, bid: int) -> int | None:
    """The settlement figure, or None when the offers do not cross."""
    return figure(ask=ask, bid=bid) if crosses(rule=rule, band_percent=band_percent, ask=ask, bid=bid) else None


# -- the state machine -------------------------------------------------------------------------


@dataclass
class Process:
    """What the process is; nothing here is secret from the people in the room. ``offered`` (the
    sides that offered in the current round) is told only to each side about itself."""

    id: str
    status: str  # proposed | open | crossed | settled | exhausted | cancelled
    currency: str
    rule: str
    band_percent: int
    max_rounds: int
    proposed_by: str  # claimant | respondent | mediator
    round: int = 0
    agreed: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)
    proposal_id: str | None = None

    @property
    def rounds_used(self) -> int:
        if self.status in ("proposed",) or self.round == 0:
            return 0
        return self.round if self.status in ("crossed", "settled", "exhausted") else self.round - 1


@dataclass
class Hidden:
    """The sealed part: every offer per round (index = round - 1) and the figure."""

    rounds: list[dict[str, int]] = field(default_factory=list)
    figure: int | None = None

    def to_bytes(self) -> bytes:
        return json.dumps({"rounds": self.rounds, "figure": self.figure}).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Hidden":
        data = json.loads(raw)
        return cls(rounds=[dict(r) for r in data.get("rounds", [])], figure=data.get("figure"))


@dataclass
class Step:
    process: Process | None
    hidden: Hidden
    notices: list[Item] = field(default_factory=list)
    reply: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None  # crossed: the proposal's content, to store sealed
    settled: bool = False  # both sides confirmed: the proposal is accepted


def acting(members: dict[str, Member], side: str) -> tuple[str, ...]:
    return tuple(sorted(pid for pid, m in members.items() if m.side == side and m.role in ACTING_ROLES))


def mediators(members: dict[str, Member]) -> tuple[str, ...]:
    return tuple(sorted(pid for pid, m in members.items() if m.is_mediator))


def side_of(member: Member) -> str | None:
    """The side ``member`` speaks for in the offers, if any."""
    return member.side if member.side in SIDES and member.role in ACTING_ROLES and not member.is_mediator else None


def view(process: Process | None, hidden: Hidden | None, viewer: Member) -> dict[str, Any]:
    """The ``offers`` frame for ``viewer``. The process state for everyone; a side's own offers,
    whether it offered this round and the figure once crossed only for that side."""
    if process is None:
        return {"type": "offers", "status": "none"}
    p = process
    out: dict[str, Any] = {
        "type": "offers", "process_id": p.id, "status": p.status, "currency": p.currency, "rule": p.rule,
        "band_percent": p.band_percent, "max_rounds": p.max_rounds, "proposed_by": p.proposed_by,
        "round": p.round, "rounds_used": p.rounds_used, "agreed": sorted(p.agreed), "confirmed": sorted(p.confirmed),
    }
    if p.proposal_id is not None and p.status == "settled":
        out["proposal_id"] = p.proposal_id
    side = side_of(viewer)
    if side is not None:
        h = hidden or Hidden()
        out["offered"] = side in p.offered
        out["my_offers"] = [r[side] for r in h.rounds if side in r]
        if p.status in ("crossed", "settled") and h.figure is not None:
            out["figure"] = h.figure
    return out


def _notices(process: Process, hidden: Hidden, members: dict[str, Member],
             sides: tuple[str, ...] = SIDES, *, mediator: bool = True) -> list[Item]:
    """One ``offers`` frame per person told: the acting members of ``sides`` and the mediator."""
    people = [pid for s in sides for pid in acting(members, s)] + (list(mediators(members)) if mediator else [])
    return [Item(kind="offers", audience=(pid,), body={k: v for k, v in view(process, hidden, members[pid]).items()
                                                       if k != "type"})
            for pid in people]


def step(process: Process | None, hidden: Hidden | None, *, members: dict[str, Member], actor: str,
         op: dict[str, Any], processes: int, new_id: str | None = None) -> Step:
    """Apply one ``offers.*`` operation of ``actor`` to the case's latest process (None if none);
    ``processes``: how many the case has had. Raises ``RoomError`` (nothing changed) if refused.
    The arguments are not changed: the returned step holds the new state."""
    member = members.get(actor)
    if member is None:
        raise RoomError("forbidden", "you are not a participant of this room")
    kind = op["type"]
    hidden = Hidden(rounds=[dict(r) for r in (hidden.rounds if hidden else [])], figure=hidden.figure if hidden else None)
    p = replace(process, agreed=list(process.agreed), confirmed=list(process.confirmed),
                offered=list(process.offered)) if process is not None else None
    side = side_of(member)
    ack = {"type": "ack", "op": kind}

    if kind == "offers.status":
        return Step(process, hidden, reply=view(process, hidden, member))

    if kind == "offers.propose":
        if side is None and not member.is_mediator:
            raise RoomError("forbidden", "only a party, its representative or the mediator proposes blind offers")
        if p is not None and p.status not in ENDED:
            raise RoomError("offers-state", "a blind-offer process is already under way")
        if processes >= MAX_PROCESSES:
            raise RoomError("offers-limit", f"a case may have at most {MAX_PROCESSES} blind-offer processes")
        rule, currency, rounds = op.get("rule", "midpoint"), op.get("currency", "KZT"), op.get("max_rounds", 3)
        band = (op.get("band_percent") or 0) if rule == "midpoint-band" else 0
        if (rule not in RULES or currency not in CURRENCIES or not isinstance(rounds, int)
                or not 1 <= rounds <= MAX_ROUNDS or not isinstance(band, int)
                or not (1 if rule == "midpoint-band" else 0) <= band <= MAX_BAND_PERCENT):
            raise RoomError("validation-error", "the rule, currency, band or number of rounds is not valid")
        p = Process(id=new_id or uuid.uuid4().hex, status="proposed", currency=currency, rule=rule,
                    band_percent=band, max_rounds=rounds,
                    proposed_by="mediator" if member.is_mediator else side,
                    agreed=[side] if side else [])
        hidden = Hidden()
        return Step(p, hidden, notices=_notices(p, hidden, members), reply={**ack, "process_id": p.id})

    if p is None or op.get("process_id") != p.id:
        raise RoomError("offers-none", "no such blind-offer process in this case")
    if kind != "offers.cancel" and side is None:
        raise RoomError("forbidden", "only a party or its representative acts for a side in blind offers")
    if p.status in ENDED:
        raise RoomError("offers-ended", "this blind-offer process has ended")

    if kind == "offers.cancel":
        if side is None and not member.is_mediator:
            raise RoomError("forbidden", "only a side or the mediator ends blind offers")
        p.status = "cancelled"
        p.offered = []
        return Step(p, hidden, notices=_notices(p, hidden, members), reply=ack)

    if kind == "offers.agree":
        if p.status != "proposed":
            raise RoomError("offers-state", "the blind offers are not waiting for agreement")
        if side in p.agreed:
            return Step(process, hidden, reply={**ack, "duplicate": True})
        p.agreed.append(side)
        if set(p.agreed) >= set(SIDES):
            p.status, p.round = "open", 1
        return Step(p, hidden, notices=_notices(p, hidden, members), reply=ack)

    if kind == "offers.submit":
        if p.status != "open":
            raise RoomError("offers-state", "offers are made only while the process is open")
        if op.get("round") != p.round:
            raise RoomError("offers-round", "this is not the current round")
        amount = op.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_AMOUNT:
            raise RoomError("validation-error", "the amount is out of range")
        while len(hidden.rounds) < p.round:
            hidden.rounds.append({})
        current = hidden.rounds[p.round - 1]
        if side in current:
            if current[side] == amount:
                return Step(process, hidden, reply={**ack, "round": p.round, "duplicate": True})
            raise RoomError("offers-made", "your side has already made its offer for this round")
        current[side] = amount
        p.offered.append(side)
        if set(current) < set(SIDES):  # the first offer of the round: only its own side hears of it
            return Step(p, hidden, notices=_notices(p, hidden, members, (side,), mediator=False),
                        reply={**ack, "round": p.round})
        fig = settlement(rule=p.rule, band_percent=p.band_percent, ask=current["claimant"], bid=current["respondent"])
        resolved, p.offered = p.round, []
        proposal = None
        if fig is not None:
            p.status, hidden.figure = "crossed", fig
            p.proposal_id = uuid.uuid5(uuid.NAMESPACE_URL, f"odr:offers:{p.id}").hex
            proposal = {"proposal_id": p.proposal_id, "author": f"offers:{p.id}",
                        **proposal_text(figure=fig, currency=p.currency, rule=p.rule, round_=p.round)}
        elif p.round >= p.max_rounds:
            p.status = "exhausted"
        else:
            p.round += 1
        return Step(p, hidden, notices=_notices(p, hidden, members), reply={**ack, "round": resolved},
                    proposal=proposal)

    if kind == "offers.confirm":
        if p.status != "crossed":
            raise RoomError("offers-state", "there is no crossed figure to confirm")
        if side in p.confirmed:
            return Step(process, hidden, reply={**ack, "duplicate": True})
        p.confirmed.append(side)
        settled = set(p.confirmed) >= set(SIDES)
        if settled:
            p.status = "settled"
        return Step(p, hidden, notices=_notices(p, hidden, members), reply=ack, settled=settled)

    raise RoomError("unknown-type", "this message type is not known")


def money(amount: int, currency: str) -> str:
    """``15000050`` KZT -> ``150000.50 KZT`` (every supported currency has two minor digits)."""
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def proposal_text(*, figure: int, currency: str, rule: str, round_: int) -> dict[str, Any]:
    """The proposal a crossed figure becomes (the drafter words the agreement from it)."""
    return {"summary": f"Payment of {money(figure, currency)}",
            "terms": [f"The respondent pays the claimant {money(figure, currency)}.",
                      f"Settled by blind offers ({rule}, round {round_})."]}


# -- storage and the room ------------------------------------------------------------------------


def offers_aad(case_id: str, process_id: str) -> bytes:
    return crypto.aad("offers", case_id, process_id)


def _load(row: BlindOfferProcess, vault: crypto.Vault) -> tuple[Process, Hidden]:
    process = Process(id=row.id, status=row.status, currency=row.currency, rule=row.rule,
                      band_percent=row.band_percent, max_rounds=row.max_rounds, proposed_by=row.proposed_by,
                      round=row.round, agreed=list(row.agreed or []), confirmed=list(row.confirmed or []),
                      offered=list(row.offered or []), proposal_id=row.proposal_id)
    return process, Hidden.from_bytes(vault.open(row, aad=offers_aad(row.case_id, row.id)))


def _store(row: BlindOfferProcess, process: Process, hidden: Hidden, vault: crypto.Vault, now: datetime) -> None:
    row.status, row.round, row.proposal_id = process.status, process.round, process.proposal_id
    row.agreed, row.confirmed, row.offered = list(process.agreed), list(process.confirmed), list(process.offered)
    row.sealed = vault.seal(hidden.to_bytes(), aad=offers_aad(row.case_id, row.id))
    row.updated_at = now
    if process.status in ENDED and row.ended_at is None:
        row.ended_at = now


async def latest(db, case_id: str, *, lock: bool = False) -> BlindOfferProcess | None:
    q = (select(BlindOfferProcess).where(BlindOfferProcess.case_id == case_id)
         .order_by(BlindOfferProcess.number.desc()).limit(1))
    if lock and db.bind.dialect.name == "postgresql":
        q = q.with_for_update()
    return (await db.execute(q)).scalar()


async def apply(db, *, vault: crypto.Vault, state: RoomState, case_id: str, session_id: str, actor: str,
                op: dict[str, Any], now: datetime) -> Result:
    """Run one ``offers.*`` frame in the sequencer's transaction (the room's session row is
    locked, so one frame of a case at a time): load the case's latest process, ``step`` it,
    store it sealed, and turn the step into the room's ``Result``. Offers need a live session."""
    if state.status != "live":
        raise RoomError("session-not-live", "the session has not started or has ended")
    row = await latest(db, case_id, lock=True)
    process, hidden = _load(row, vault) if row is not None else (None, None)
    count = row.number if row is not None else 0  # processes so far: the latest is number `count`
    result = step(process, hidden, members=state.members, actor=actor, op=op, processes=count)
    if result.process is None or result.process is process:
        return Result(items=result.notices, reply=result.reply)
    p = result.process
    if row is None or row.id != p.id:
        row = BlindOfferProcess(id=p.id, case_id=case_id, number=count + 1, session_id=session_id, currency=p.currency, rule=p.rule,
                                band_percent=p.band_percent, max_rounds=p.max_rounds, proposed_by=p.proposed_by,
                                created_at=now)
        db.add(row)
    _store(row, p, result.hidden, vault, now)
    items = list(result.notices)
    events = []
    if result.settled:
        events.append(DomainEvent("proposal_accepted", {"proposal_id": p.proposal_id}))
        for ch in CHANNELS:
            if state.in_channel(ch):
                items.append(state._sequenced(ch, "proposal.accepted", {"proposal_id": p.proposal_id}))
    await db.flush()
    return Result(items=items, events=events, reply=result.reply, proposal=result.proposal)
