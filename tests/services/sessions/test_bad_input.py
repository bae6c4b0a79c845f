"""Bad input over real websockets: each gets a documented error frame or close code, and the
room keeps serving everyone else."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from services.sessions import protocol
from services.sessions.connection import Connection
from services.sessions.hub import Wire
from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client, agree, token


async def closed_with(ws, timeout: float = 10.0) -> int:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    return info.value.rcvd.code


async def live_room(room):
    med = await Client.open(room.url(MEDIATOR))
    cla = await Client.open(room.url(CLAIMANT, side="claimant"))
    await med.op({"type": "session.start"})
    await med.op({"type": "admit", "participant_ids": [CLAIMANT]})
    await cla.expect("location", location="joint")
    return med, cla


async def still_serving(med, cla, n: int) -> None:
    ack = await med.op({"type": "chat", "id": f"alive-{n}", "text": "still here?"})
    assert ack["type"] == "ack"
    assert (await cla.expect("chat", id=f"alive-{n}"))["text"] == "still here?"


async def test_authentication_and_scope_failures_close_with_documented_codes(room):
    base = f"{room.ws}/rooms/{room.case_id}/ws"
    async with connect(base) as ws:  # no token and no auth frame: 4001 after the timeout, or at once on junk
        await ws.send("not an auth frame")
        assert await closed_with(ws) == protocol.Close.UNAUTHORIZED
    async with connect(f"{base}?token=nonsense") as ws:
        assert await closed_with(ws) == protocol.Close.UNAUTHORIZED
    other_case = str(uuid.uuid4())
    async with connect(f"{base}?token={token(room.app, CLAIMANT, other_case)}") as ws:
        assert await closed_with(ws) == protocol.Close.FORBIDDEN
    async with connect(f"{base}?token={token(room.app, 'p-stranger', room.case_id)}") as ws:
        assert await closed_with(ws) == protocol.Close.FORBIDDEN
    async with connect(f"{base}?token={token(room.app, MEDIATOR, room.case_id, role='party')}") as ws:
        assert await closed_with(ws) == protocol.Close.FORBIDDEN
    async with connect(f"{base}?token={token(room.app, CLAIMANT, room.case_id, side='respondent')}") as ws:
        assert await closed_with(ws) == protocol.Close.FORBIDDEN
    not_agreed = str(uuid.uuid4())
    async with connect(f"{room.ws}/rooms/{not_agreed}/ws?token={token(room.app, CLAIMANT, not_agreed)}") as ws:
        assert await closed_with(ws) == protocol.Close.ROOM_NOT_OPEN
    async with connect(base, subprotocols=["chat.v9"]) as ws:
        assert await closed_with(ws) == protocol.Close.UNSUPPORTED_PROTOCOL
    # the token may come in a first auth frame instead of the URL, with the subprotocol
    async with connect(base, subprotocols=[protocol.PROTOCOL]) as ws:
        assert ws.subprotocol == protocol.PROTOCOL
        await ws.send(json.dumps({"type": "auth", "token": token(room.app, RESPONDENT, room.case_id)}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome" and welcome["participant_id"] == RESPONDENT


async def test_bad_frames_get_error_frames_and_the_room_goes_on(room):
    med, cla = await live_room(room)
    await cla.send("{not json")
    assert (await cla.expect("error"))["code"] == "malformed-json"
    await cla.send("[1, 2]")
    assert (await cla.expect("error"))["code"] == "malformed-json"
    await cla.send({"type": "teleport", "id": "t1"})
    assert (await cla.expect("error")) == {"type": "error", "code": "unknown-type",
                                           "detail": "this message type is not known", "ref": "t1"}
    await cla.send({"type": "chat", "id": "v2", "v": 2, "text": "hi"})
    assert (await cla.expect("error"))["code"] == "unsupported-version"
    await cla.send({"type": "chat", "id": "long", "text": "secret " * 1000})
    err = await cla.expect("error")
    assert err["code"] == "validation-error" and "secret" not in json.dumps(err)  # input never echoed
    # unauthorised channel operations
    for frame, code in [({"type": "caucus.open", "side": "claimant"}, "forbidden"),
                        ({"type": "move", "participant_id": MEDIATOR, "to": "waiting"}, "forbidden"),
                        ({"type": "admit", "participant_ids": [RESPONDENT]}, "forbidden"),
                        ({"type": "session.end"}, "forbidden"),
                        ({"type": "signal", "to": RESPONDENT, "kind": "offer"}, "not-in-channel"),
                        ({"type": "chat", "id": "x1", "channel": "caucus:respondent", "text": "hi"}, "not-in-channel")]:
        assert (await cla.op(frame))["code"] == code, frame
    await still_serving(med, cla, 1)


async def test_oversized_binary_and_flooding_connections_are_closed_alone(room):
    med, cla = await live_room(room)
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    await res.ws.send(json.dumps({"type": "chat", "id": "big", "text": "x" * (protocol.MAX_FRAME_BYTES + 10)}))
    assert await closed_with(res.ws) == protocol.Close.TOO_BIG
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    await res.ws.send(b"\x00\x01")
    assert await closed_with(res.ws) == protocol.Close.UNSUPPORTED_DATA
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    for i in range(protocol.RATE_BURST * 3):
        try:
            await res.ws.send(json.dumps({"type": "typing"}))
        except ConnectionClosed:
            break
    assert await closed_with(res.ws) == protocol.Close.RATE_LIMITED
    await still_serving(med, cla, 2)


class StuckSocket:
    """A websocket whose peer stopped reading: every send blocks."""

    def __init__(self) -> None:
        self.sent = 0

    async def send_text(self, text: str) -> None:
        self.sent += 1
        if self.sent > 3:
            await asyncio.Event().wait()


async def test_a_slow_client_is_cut_off_instead_of_slowing_the_room():
    conn = Connection(StuckSocket(), participant_id=CLAIMANT, case_id="c", session_id="s")
    conn.release()
    writer = asyncio.create_task(conn.writer())
    fast = []
    for seq in range(1, protocol.SEND_QUEUE_FRAMES + 10):
        wire = Wire("chat", "joint", seq, frozenset({CLAIMANT}), json.dumps({"seq": seq}), {})
        conn.deliver(wire)  # never blocks the hub, whatever the client does
        fast.append(seq)
        await asyncio.sleep(0)
    assert conn.close_code == protocol.Close.SLOW_CONSUMER
    assert conn.sent["joint"] < len(fast)  # what it did not get, it resumes after reconnecting
    writer.cancel()


async def test_after_a_disconnect_resume_replays_exactly_what_was_missed(room):
    med, cla = await live_room(room)
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    await med.op({"type": "admit", "participant_ids": [RESPONDENT]})
    await res.expect("location", location="joint")
    seen = res.seqs("joint")[-1]
    await res.close()
    missed = [(await med.op({"type": "chat", "id": f"gone-{i}", "text": f"m{i}"}))["seq"] for i in range(12)]
    # the claimant goes to a caucus for a while: what is said there the respondent must never get
    await med.op({"type": "caucus.open", "side": "claimant"})
    await cla.op({"type": "chat", "id": "private", "text": "only for the mediator"})
    await med.op({"type": "caucus.close", "side": "claimant"})
    back = await Client.open(room.url(RESPONDENT, side="respondent", extra=f"&resume=joint:{seen}"))
    resumed = await back.expect("resumed", channel="joint")
    got = back.seqs("joint")
    assert got == list(range(seen + 1, resumed["through"] + 1))  # every joint number, once, in order
    assert set(missed) <= set(got) and resumed["count"] == len(got)
    assert not any(f.get("channel") == "caucus:claimant" or "only for the mediator" in json.dumps(f)
                   for f in back.frames)
    # resending an already stored frame after the reconnect is acknowledged, not stored twice
    again = await med.op({"type": "chat", "id": "gone-0", "text": "m0"})
    assert again["duplicate"] is True and again["seq"] == missed[0]


async def test_resuming_the_other_sides_caucus_tells_nothing_about_it(room):
    med, cla = await live_room(room)
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    await med.op({"type": "admit", "participant_ids": [RESPONDENT]})
    await res.expect("location", location="joint")
    await med.op({"type": "caucus.open", "side": "claimant"})
    for i in range(7):
        await cla.op({"type": "chat", "id": f"secret-{i}", "text": "between us"})
    for after in (0, 3, 10_000):
        await res.send({"type": "resume", "channel": "caucus:claimant", "after": after})
        resumed = await res.expect("resumed", channel="caucus:claimant")
        assert (resumed["through"], resumed["count"], resumed["gap"]) == (after, 0, False), resumed
    assert not any("between us" in json.dumps(f) for f in res.frames)


async def test_deeply_nested_frames_get_an_error_frame_and_the_connection_stays(room):
    med, _ = await live_room(room)
    half = (protocol.MAX_FRAME_BYTES - 100) // 2
    for text in ("[" * half + "]" * half,
                 '{"type":"chat","id":"n","text":"x","v":' + "[" * (half - 40) + "]" * (half - 40) + "}"):
        await med.send(text)
        error = await med.expect("error")
        assert error["code"] in ("malformed-json", "validation-error", "unsupported-version"), error
    assert (await med.op({"type": "chat", "id": "after-nesting", "text": "still here"}))["type"] == "ack"


async def test_error_frames_replies_and_replays_count_against_the_send_queue():
    """A client that keeps asking (bad frames, resumes, pings) and never reads is cut off (4010)
    like one that does not keep up with the room: nothing it causes is queued without bound."""
    for send in (lambda c: c.error("malformed-json", "the frame is not JSON"),
                 lambda c: c.send_json({"type": "pong"}),
                 lambda c: c.send(json.dumps({"type": "resumed", "channel": "joint"}))):
        conn = Connection(StuckSocket(), participant_id=CLAIMANT, case_id="c", session_id="s")
        conn.release()
        writer = asyncio.create_task(conn.writer())
        for _ in range(protocol.SEND_QUEUE_FRAMES + 10):
            send(conn)
            await asyncio.sleep(0)
        assert conn.close_code == protocol.Close.SLOW_CONSUMER
        assert len(conn._out) <= protocol.SEND_QUEUE_FRAMES
        writer.cancel()
