"""Blind offers over real websockets: two parties settle a money term in shuttle mediation (never
in one channel), the mediator sees only the process, the figure becomes an accepted proposal, and
no amount is in any other side's frames, the mediator's, the events or the bus in clear. Hostile
input gets the documented codes."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from services.sessions import protocol
from services.sessions.models import BlindOfferProcess, SessionMessage
from services.sessions.offers import MAX_AMOUNT
from shared.config import Settings
from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client, token
from tests.services.sessions.test_bad_input import closed_with
from tests.services.sessions.test_lifecycle import outbox_events
from tests.support.waiting import eventually

# distinctive amounts (tiyn), so that finding one anywhere is a finding
ASK_1, BID_1 = 23_456_789, 12_345_678
ASK_2, BID_2 = 15_000_001, 16_000_003
FIGURE = (ASK_2 + BID_2) // 2
CLAIMANT_ONLY, RESPONDENT_ONLY = (ASK_1, ASK_2), (BID_1, BID_2)


@pytest.fixture
def settings(tmp_path, database_url):
    """The room on SQLite and on PostgreSQL (where the process row is also locked)."""
    return Settings(data_dir=tmp_path, dev_mode=True, log_format="json", database_url=database_url)


async def shuttle(room):
    """A live session in shuttle mode: each party in its own caucus, the mediator in the claimant's."""
    med = await Client.open(room.url(MEDIATOR))
    cla = await Client.open(room.url(CLAIMANT, side="claimant"))
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    await med.op({"type": "session.start"})
    await med.op({"type": "mode", "mode": "shuttle"})
    await med.op({"type": "caucus.open", "side": "respondent", "with_side": False})
    await med.op({"type": "caucus.open", "side": "claimant", "with_side": False})
    await med.op({"type": "admit", "participant_ids": [CLAIMANT]})
    await med.op({"type": "admit", "participant_ids": [RESPONDENT]})
    await cla.expect("location", location="caucus:claimant")
    await res.expect("location", location="caucus:respondent")
    return med, cla, res


async def told(client: Client, type_: str = "offers", **match) -> dict:
    """The first frame of ``type_`` ``client`` got (or gets) matching ``match``, not looked at
    before (a notice can arrive before the ack of the frame that caused it)."""
    seen = client.__dict__.setdefault("looked", set())
    for i, f in enumerate(client.frames):
        if i not in seen and f["type"] == type_ and all(f.get(k) == v for k, v in match.items()):
            seen.add(i)
            return f
    frame = await client.expect(type_, **match)
    seen.add(len(client.frames) - 1)
    return frame


async def status(client: Client) -> dict:
    await client.send({"type": "offers.status"})
    return await client.expect("offers")


def mentions(frames, amounts) -> list:
    text = json.dumps(frames, default=lambda v: v.decode() if isinstance(v, bytes) else str(v))
    return [a for a in amounts if str(a) in text]


async def test_two_parties_settle_a_money_term_by_blind_offers(room):
    med, cla, res = await shuttle(room)
    assert (await status(cla))["status"] == "none"
    proposed = await med.op({"type": "offers.propose", "currency": "KZT", "rule": "midpoint", "max_rounds": 3})
    pid = proposed["process_id"]
    assert (await told(cla, status="proposed"))["agreed"] == []
    await cla.op({"type": "offers.agree", "process_id": pid})
    await res.op({"type": "offers.agree", "process_id": pid})
    opened = await told(med, status="open")
    assert opened["round"] == 1 and opened["rounds_used"] == 0

    # round 1 misses: the first offer is news to its own side only
    assert (await cla.op({"type": "offers.submit", "process_id": pid, "round": 1, "amount": ASK_1}))["round"] == 1
    assert (await told(cla, offered=True))["my_offers"] == [ASK_1]
    await res.op({"type": "offers.submit", "process_id": pid, "round": 1, "amount": BID_1})
    for who in (med, cla, res):
        missed = await told(who, round=2)
        assert missed["status"] == "open" and missed["rounds_used"] == 1 and "figure" not in missed

    # round 2 crosses: the sides get the figure, the mediator only that it crossed
    await res.op({"type": "offers.submit", "process_id": pid, "round": 2, "amount": BID_2})
    await cla.op({"type": "offers.submit", "process_id": pid, "round": 2, "amount": ASK_2})
    assert (await told(cla, status="crossed"))["figure"] == FIGURE
    assert (await told(res, status="crossed"))["figure"] == FIGURE
    crossed = await told(med, status="crossed")
    assert crossed["rounds_used"] == 2 and "figure" not in crossed

    await cla.op({"type": "offers.confirm", "process_id": pid})
    await res.op({"type": "offers.confirm", "process_id": pid})
    settled = await told(med, status="settled")
    accepted = await told(cla, "proposal.accepted", proposal_id=settled["proposal_id"])
    assert accepted["channel"] == "caucus:claimant"
    await told(res, "proposal.accepted", proposal_id=settled["proposal_id"])
    async with httpx.AsyncClient(base_url=room.http) as http:
        r = await http.get(f"/rooms/{room.case_id}/proposals/{settled['proposal_id']}",
                           headers={"Authorization": f"Bearer {token(room.app, MEDIATOR, room.case_id)}"})
        assert r.status_code == 200 and r.json()["summary"] == "Payment of 155000.02 KZT"
    assert (await res.op({"type": "offers.submit", "process_id": pid, "round": 2, "amount": 1}))["code"] == "offers-ended"

    # nobody got an amount they may not know, and none is anywhere in clear
    for who in (med, cla, res):
        who.frames += await who.drain(0.5)
    assert mentions(med.frames, (*CLAIMANT_ONLY, *RESPONDENT_ONLY, FIGURE)) == []
    assert mentions(res.frames, CLAIMANT_ONLY) == [] and mentions(cla.frames, RESPONDENT_ONLY) == []
    events = await outbox_events(room.app)
    assert ("odr.proposal.accepted.v1" in {t for t, _ in events})
    assert mentions([p for _, p in events], (*CLAIMANT_ONLY, *RESPONDENT_ONLY, FIGURE, "155000")) == []
    async with room.app.state.runtime.session_factory() as db:
        row = (await db.execute(select(BlindOfferProcess))).scalar_one()
        assert row.status == "settled" and row.round == 2
        assert not any(str(a).encode() in row.ciphertext for a in (*CLAIMANT_ONLY, *RESPONDENT_ONLY, FIGURE))
        kinds = set((await db.execute(select(SessionMessage.kind))).scalars())
        assert not {k for k in kinds if k.startswith("offers")}  # notices are not transcript items

    records = []

    async def collect(batch):
        records.extend(batch)

    reader = room.app.state.runtime.bus.consumer(group="t-offers", topics=["odr.sessions", "odr.sessions.fanout"],
                                                 handler=collect, from_beginning=True)
    await reader.start()
    await eventually(lambda: any(r.topic == "odr.sessions" for r in records), message="bus records")
    await reader.stop()
    assert not any(str(a).encode() in r.value for r in records for a in (*CLAIMANT_ONLY, *RESPONDENT_ONLY, FIGURE))


async def test_hostile_offers_get_documented_codes(room):
    med, cla, res = await shuttle(room)
    # a token claiming the other side, and one of someone outside the room, never get in
    for url in (room.url(CLAIMANT, side="respondent"), room.url("p-stranger", side="claimant")):
        async with connect(url) as ws:
            assert await closed_with(ws) == protocol.Close.FORBIDDEN

    pid = (await cla.op({"type": "offers.propose", "max_rounds": 1}))["process_id"]
    assert (await med.op({"type": "offers.agree", "process_id": pid}))["code"] == "forbidden"
    assert (await res.op({"type": "offers.submit", "process_id": pid, "round": 1, "amount": 5}))["code"] == "offers-state"
    await res.op({"type": "offers.agree", "process_id": pid})
    for bad in (0, MAX_AMOUNT + 1, 10.5, "500", None):
        err = await res.op({"type": "offers.submit", "process_id": pid, "round": 1, "amount": bad, "id": "x"})
        assert err["code"] == "validation-error" and str(bad) not in err["detail"]
        assert all("input" not in e for e in err.get("errors", []))
    assert (await res.op({"type": "offers.submit", "process_id": "not-it", "round": 1, "amount": 5}))["code"] == "offers-none"
    assert (await res.op({"type": "offers.submit", "process_id": pid, "round": 2, "amount": 5}))["code"] == "offers-round"
    await res.op({"type": "offers.submit", "process_id": pid, "round": 1, "amount": 5_00})
    assert (await res.op({"type": "offers.submit", "process_id": pid, "round": 1, "amount": 6_00}))["code"] == "offers-made"
    await cla.op({"type": "offers.submit", "process_id": pid, "round": 1, "amount": 9_00})
    assert (await told(med, status="exhausted"))["rounds_used"] == 1
    assert (await cla.op({"type": "offers.confirm", "process_id": pid}))["code"] == "offers-ended"
    assert (await cla.op({"type": "offers.cancel", "process_id": pid}))["code"] == "offers-ended"

    # a flood of offers closes that connection alone (4008); the others go on
    for _ in range(protocol.RATE_BURST * 3):
        try:
            await res.ws.send(json.dumps({"type": "offers.status"}))
        except Exception:
            break
    assert await closed_with(res.ws) == protocol.Close.RATE_LIMITED
    assert (await status(cla))["status"] == "exhausted"


async def test_blind_offers_carry_over_to_the_next_session(room):
    med, cla, res = await shuttle(room)
    pid = (await res.op({"type": "offers.propose", "max_rounds": 2}))["process_id"]
    await cla.op({"type": "offers.agree", "process_id": pid})
    await cla.op({"type": "offers.submit", "process_id": pid, "round": 1, "amount": 7_00})
    await med.send({"type": "session.end"})  # answered by session.ended, then close code 4011
    for who in (med, cla, res):
        await who.expect("session.ended")
        assert await closed_with(who.ws) == protocol.Close.SESSION_ENDED
    med = await Client.open(room.url(MEDIATOR))
    cla = await Client.open(room.url(CLAIMANT, side="claimant"))
    # between sessions nothing is offered
    assert (await cla.op({"type": "offers.status"}))["code"] == "session-not-live"
    await med.op({"type": "session.start"})
    now = await status(cla)
    assert now["process_id"] == pid and now["status"] == "open" and now["offered"] is True and now["my_offers"] == [7_00]
