"""The isolation property extended to documents, end to end: a random schedule of admissions,
moves, caucuses, mode switches and chat over websockets, with documents uploaded over HTTP by
whoever is drawn and carried into the joint channel by the mediator, is played against the server
and, in step, against the pure room model as the oracle (a share is the model's ``document``
item). Every upload and share must be accepted or refused as the model says; at the end each
participant can download exactly the documents of the items the model addressed to them (404 for
every other one, which is also what a document of the other side's caucus answers) and was told
of exactly those."""

from __future__ import annotations

import random

import pytest

from services.sessions.rooms import JOINT, RoomError, RoomState
from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client
from tests.services.sessions.test_documents import get, post, upload
from tests.services.sessions.test_isolation_ws import MEMBERS, PIDS, draw
from tests.support import files


@pytest.mark.parametrize("seed", [5, 6, 12])  # seeds whose schedules share into the joint channel
async def test_documents_reach_exactly_the_channel_members_of_the_moment(docroom, seed, monkeypatch):
    from services.sessions import protocol
    monkeypatch.setattr(protocol, "RATE_BURST", 10_000)
    r = docroom
    rng = random.Random(seed)
    clients = {p: await Client.open(f"{r.ws}/rooms/{r.case_id}/ws?token={t}") for p, t in r.tokens.items()}
    oracle = RoomState(members=dict(MEMBERS))
    visible: dict[str, set[str]] = {}  # document id -> who was told of it
    origin: dict[str, str] = {}  # document id -> the channel it was uploaded in
    told: dict[str, set[str]] = {p: set() for p in PIDS}
    content = files.pdf("evidence")

    async def play_ws(who, op, n):
        try:
            oracle.apply(who, dict(op))
            refused = None
        except RoomError as err:
            refused = err.code
        client = clients[who]
        await client.send(op)
        marker = f"sync-{n}"
        await client.send({"type": "proposal.accept", "id": marker, "proposal_id": "no-such"})
        errors = []
        while True:
            frame = await client.recv()
            if frame["type"] == "error" and frame.get("ref") == marker:
                break
            if frame["type"] == "error":
                errors.append(frame["code"])
        assert (errors[0] if errors else None) == refused, (op, errors, refused)

    async def play_upload(who, n):
        try:
            result = oracle.apply(who, {"type": "document", "id": f"x{n}", "document_id": f"d{n}"})
        except RoomError as err:
            result, refused = None, err.code
        got = await upload(r, who, content, f"evidence-{n}.pdf")
        if result is None:
            assert got.status_code == 409 and got.json()["type"].endswith("/" + refused), (who, got.text, refused)
            return
        assert got.status_code == 201, got.text
        doc = got.json()["id"]
        visible[doc] = set(result.items[0].audience)
        origin[doc] = result.items[0].channel
        for pid in visible[doc]:
            told[pid].add((result.items[0].channel, doc))

    async def play_share(doc):
        got = await post(r, MEDIATOR, f"/documents/{doc}/share")
        if MEDIATOR not in visible[doc]:
            assert got.status_code == 404, got.text
            return
        try:
            result = oracle.apply(MEDIATOR, {"type": "document", "id": f"s-{doc}", "channel": JOINT,
                                             "document_id": doc})
        except RoomError as err:
            assert got.status_code == 409 and got.json()["type"].endswith("/" + err.code), (got.text, err.code)
            return
        assert got.status_code == 200, got.text
        item = result.items[0]
        visible[doc] |= set(item.audience)
        for pid in item.audience:
            told[pid].add((JOINT, doc))
        origin[doc] = "shared"  # share once (a second share is acknowledged again, not re-sequenced)

    await play_ws(MEDIATOR, {"type": "session.start"}, 0)
    for n in range(1, 50):
        roll = rng.random()
        if roll < 0.25:
            await play_upload(rng.choice(PIDS), n)
        elif roll < 0.4 and [d for d, o in origin.items() if o.startswith("caucus:")]:
            if rng.random() < 0.5:  # the mediator usually goes to the joint channel to share
                await play_ws(MEDIATOR, {"type": "move", "participant_id": MEDIATOR, "to": JOINT}, n)
            await play_share(rng.choice(sorted(d for d, o in origin.items() if o.startswith("caucus:"))))
        else:
            who, op = draw(rng, n)
            await play_ws(who, op, n)

    assert visible, "the schedule shared no document"
    assert "shared" in origin.values(), "the schedule carried no document into the joint channel"
    assert any({CLAIMANT, RESPONDENT} - a for a in visible.values()), "no document was kept from a side"
    for pid in PIDS:
        for doc, audience in visible.items():
            got = await get(r, pid, f"/documents/{doc}/content")
            if pid in audience:
                assert got.status_code == 200 and got.content == content, (pid, doc)
            else:
                assert got.status_code == 404, (pid, doc, got.status_code)
        listed = {d["id"] for d in (await get(r, pid, "/documents")).json()["items"]}
        assert listed == {d for d, a in visible.items() if pid in a}, pid
        await clients[pid].drain(0.4)
        frames = {(f["channel"], f["document_id"]) for f in clients[pid].frames if f["type"] == "document"}
        assert frames == told[pid], pid
    for client in clients.values():
        await client.close()
