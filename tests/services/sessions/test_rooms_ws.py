"""A mediator and two parties over real websockets: waiting room, admission, joint chat, caucus
isolation, shuttle, proposals, resume after a reconnect, the mediator-only balance."""

from __future__ import annotations

import httpx

from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client


async def start(room):
    med = await Client.open(room.url(MEDIATOR))
    cla = await Client.open(room.url(CLAIMANT, side="claimant"))
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    assert cla.welcome["location"] == "waiting" and "locations" not in cla.welcome
    assert (await med.op({"type": "session.start"}))["type"] == "ack"
    assert (await med.op({"type": "admit", "participant_ids": [CLAIMANT, RESPONDENT]}))["type"] == "ack"
    await cla.expect("location", location="joint")
    await res.expect("location", location="joint")
    return med, cla, res


async def test_joint_session_caucus_isolation_and_shuttle(room):
    med, cla, res = await start(room)
    ack = await cla.op({"type": "chat", "id": "c1", "text": "hello all"})
    assert ack["type"] == "ack" and ack["channel"] == "joint" and not ack["duplicate"]
    got = await res.expect("chat")
    assert got["text"] == "hello all" and got["from"] == CLAIMANT and got["seq"] == ack["seq"]

    # a party may not open a caucus or move anyone
    refused = await res.op({"type": "caucus.open", "side": "respondent"})
    assert refused == {"type": "error", "code": "forbidden", "detail": "only the mediator may do this"}
    assert (await res.op({"type": "move", "participant_id": CLAIMANT, "to": "waiting"}))["code"] == "forbidden"

    await med.op({"type": "caucus.open", "side": "claimant"})
    await cla.expect("location", location="caucus:claimant")
    secret = await cla.op({"type": "chat", "id": "c2", "text": "my bottom line is 500"})
    assert secret["channel"] == "caucus:claimant"
    assert (await med.expect("chat", channel="caucus:claimant"))["text"] == "my bottom line is 500"
    # the mediator may not put the respondent into the claimant's caucus
    bad = await med.op({"type": "move", "participant_id": RESPONDENT, "to": "caucus:claimant"})
    assert bad["code"] == "invalid-target"
    # shuttle: the mediator moves to the respondent's caucus
    await med.op({"type": "caucus.open", "side": "respondent"})
    await res.expect("location", location="caucus:respondent")
    await res.op({"type": "chat", "id": "r1", "text": "we could pay 300"})
    assert (await med.expect("chat", channel="caucus:respondent"))["text"] == "we could pay 300"
    # a party cannot speak into another channel than their own
    assert (await cla.op({"type": "chat", "id": "c3", "channel": "joint", "text": "x"}))["code"] == "not-in-channel"

    await med.op({"type": "caucus.close", "side": "claimant"})
    await med.op({"type": "caucus.close", "side": "respondent"})
    await cla.expect("location", location="joint")
    await res.expect("location", location="joint")
    await res.drain(0.3)
    assert not any("bottom line" in str(f) for f in res.frames)
    assert not any("pay 300" in str(f) for f in cla.frames)
    for c in (med, cla, res):
        await c.close()


async def test_proposals_resume_balance_and_idempotent_resend(room):
    med, cla, res = await start(room)
    ack = await cla.op({"type": "proposal", "id": "p1", "summary": "Pay 400 by March", "terms": ["400 KZT", "by 1 March"]})
    prop = await res.expect("proposal")
    assert prop["summary"] == "Pay 400 by March" and prop["seq"] == ack["seq"]
    # resending the same client id stores nothing new
    again = await cla.op({"type": "proposal", "id": "p1", "summary": "Pay 400 by March"})
    assert again["duplicate"] and again["seq"] == ack["seq"]

    # the respondent drops off; messages go on; on reconnect it gets exactly what it missed
    last = res.seqs("joint")[-1]
    await res.close()
    sent = []
    for i in range(5):
        sent.append((await cla.op({"type": "chat", "id": f"m{i}", "text": f"while you were away {i}"}))["seq"])
    res = await Client.open(room.url(RESPONDENT, side="respondent", extra=f"&resume=joint:{last}"))
    resumed = await res.expect("resumed", channel="joint")
    replayed = [f for f in res.frames if f.get("channel") == "joint" and "seq" in f]
    assert [f["seq"] for f in replayed] == list(range(last + 1, resumed["through"] + 1))
    assert set(sent) <= {f["seq"] for f in replayed} and resumed["gap"] is False
    # a position beyond the history is a detected gap
    await res.send({"type": "resume", "channel": "joint", "after": 10_000})
    assert (await res.expect("resumed"))["gap"] is True

    accepted = await res.op({"type": "proposal.accept", "id": "a1", "proposal_id": prop["proposal_id"]})
    assert accepted["type"] == "ack"
    done = await cla.expect("proposal.accepted")
    assert done["proposal_id"] == prop["proposal_id"]
    async with httpx.AsyncClient(base_url=room.http) as http:
        from tests.services.sessions.conftest import token
        r = await http.get(f"/rooms/{room.case_id}/proposals/{prop['proposal_id']}",
                           headers={"Authorization": f"Bearer {token(room.app, RESPONDENT, room.case_id)}"})
        assert r.status_code == 200 and r.json()["terms"] == ["400 KZT", "by 1 March"]
        r = await http.get(f"/rooms/{room.case_id}/balance",
                           headers={"Authorization": f"Bearer {token(room.app, CLAIMANT, room.case_id)}"})
        assert r.status_code == 403
        r = await http.get(f"/rooms/{room.case_id}/balance",
                           headers={"Authorization": f"Bearer {token(room.app, MEDIATOR, room.case_id)}"})
        assert r.status_code == 200 and r.json()["by_side"]["claimant"]["messages"] >= 6

    bal = await med.op({"type": "balance"})
    assert bal["type"] == "balance" and bal["shares"]["messages"]["claimant"] > 0.5
    assert (await cla.op({"type": "balance"}))["code"] == "forbidden"
    for c in (med, cla, res):
        await c.close()
