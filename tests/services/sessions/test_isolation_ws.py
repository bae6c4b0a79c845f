"""The isolation property end to end, over real websockets: a random schedule of admissions,
moves, caucuses, mode switches, chat and WebRTC signalling is played against the server and, in
step, against the pure room model as an oracle. Every participant must receive exactly the
sequenced items the model addresses to them and no signalling from outside their channel."""

from __future__ import annotations

import random

import pytest

from services.sessions.rooms import LOCATIONS, Member, RoomError, RoomState
from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client

MEMBERS = {MEDIATOR: Member(MEDIATOR, "mediator"), CLAIMANT: Member(CLAIMANT, "party", "claimant"),
           RESPONDENT: Member(RESPONDENT, "party", "respondent")}
PIDS = sorted(MEMBERS)


def draw(rng: random.Random, n: int) -> tuple[str, dict]:
    kind = rng.choice(["admit", "move", "move", "caucus.open", "caucus.close", "mode", "chat", "chat", "chat",
                       "signal", "signal"])
    if kind == "admit":
        return MEDIATOR, {"type": "admit", "participant_ids": [rng.choice(PIDS[1:])]}
    if kind == "move":
        return MEDIATOR, {"type": "move", "participant_id": rng.choice(PIDS), "to": rng.choice(LOCATIONS)}
    if kind in ("caucus.open", "caucus.close"):
        return MEDIATOR, {"type": kind, "side": rng.choice(["claimant", "respondent"])}
    if kind == "mode":
        return MEDIATOR, {"type": "mode", "mode": rng.choice(["joint", "shuttle"])}
    who = rng.choice(PIDS)
    if kind == "chat":
        return who, {"type": "chat", "id": f"m{n}", "text": f"said by {who} #{n}"}
    return who, {"type": "signal", "to": rng.choice(PIDS), "kind": "offer", "data": {"sdp": f"sdp-{n}"}}


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_schedules_over_websockets_match_the_model(room, seed, monkeypatch):
    from services.sessions import protocol
    monkeypatch.setattr(protocol, "RATE_BURST", 10_000)  # the schedule is played faster than people type
    rng = random.Random(seed)
    clients = {MEDIATOR: await Client.open(room.url(MEDIATOR)),
               CLAIMANT: await Client.open(room.url(CLAIMANT)),
               RESPONDENT: await Client.open(room.url(RESPONDENT))}
    oracle = RoomState(members=dict(MEMBERS))
    expected = {p: set() for p in PIDS}
    signals = {p: set() for p in PIDS}

    async def play(who, op, n):
        try:
            result = oracle.apply(who, dict(op))
            refused = None
        except RoomError as err:
            result, refused = None, err.code
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
        for item in (result.items if result else []):
            for pid in item.audience:
                if item.seq is not None:
                    expected[pid].add((item.channel, item.seq))
                elif item.kind == "signal":
                    signals[pid].add(item.body["data"]["sdp"])

    await play(MEDIATOR, {"type": "session.start"}, 0)
    for n in range(1, 45):
        who, op = draw(rng, n)
        await play(who, op, n)
    for pid, client in clients.items():
        await client.drain(0.4)
        got = {(f["channel"], f["seq"]) for f in client.frames if "seq" in f and f["type"] != "ack"}
        assert got == expected[pid], pid
        got_signals = {f["data"]["sdp"] for f in client.frames if f["type"] == "signal"}
        assert got_signals == signals[pid], pid
    for client in clients.values():
        await client.close()
