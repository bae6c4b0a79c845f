"""A hostile participant fuzzes the room over a real websocket: random JSON of any depth, frames of
the protocol's types with fields of the wrong types, junk text, binary, oversized frames, floods,
and a reader that stops reading. Every answer is a frame of the protocol or a documented close
code (never 1011), what the server keeps queued for a connection stays within its bound, no
connection outlives its socket, and the mediator and the other party are served throughout.

The fuzzer is seeded (``random.Random``) and a failure names its seed; which frames reach the server
before a close depends on timing, so a replay is close to, not exactly, the failing run."""

from __future__ import annotations

import asyncio
import json
import random
import string

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from services.sessions import protocol
from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client
from tests.services.sessions.test_bad_input import still_serving
from tests.support.waiting import eventually

SEEDS = (1, 2, 3)
FRAMES_PER_SEED = 240
TYPES = ["auth", "resume", "chat", "proposal", "proposal.present", "proposal.accept", "document", "typing",
         "speaking", "signal", "media", "move", "admit", "caucus.open", "caucus.close", "mode", "session.start",
         "session.end", "consent.transcript", "balance", "ping", "teleport", "", None, 7]
FIELDS = ["id", "channel", "text", "summary", "terms", "to", "kind", "participant_id", "participant_ids", "side",
          "after", "v", "token", "resume", "audio", "video", "sdp", "candidate", "proposal_id", "mode", "name"]
SERVER_TYPES = {"error", "ack", "pong", "resumed", "welcome", "location", "member.joined", "member.left",
                "roster", "chat", "typing", "speaking", "media", "media.drop", "balance", "presence",
                "proposal", "proposal.present", "proposal.accept", "document", "session", "signal", "caucus",
                "mode", "hangup"}
# blind offers (offers.py): its frames, fields and answer
TYPES += ["offers.propose", "offers.agree", "offers.submit", "offers.confirm", "offers.cancel", "offers.status"]
FIELDS += ["process_id", "round", "amount", "currency", "rule", "band_percent", "max_rounds"]
SERVER_TYPES |= {"offers"}


def junk_value(rng: random.Random, depth: int = 0):
    """Any JSON value, sometimes deeply nested, sometimes huge numbers or long strings."""
    pick = rng.random()
    if depth > 3 or pick < 0.35:
        return rng.choice([None, True, False, 0, -1, 2**63, -(2**70), 1e308, "", "joint", "caucus:claimant",
                           "caucus:respondent", MEDIATOR, CLAIMANT, RESPONDENT, "x" * rng.randint(1, 400),
                           "".join(rng.choices(string.printable, k=rng.randint(1, 40))), "\u0000\ud7ff",
                           "Қазақ тілі", "<script>alert(1)</script>"])
    if pick < 0.55:
        return [junk_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    if pick < 0.65:  # deep nesting in a frame that still fits the size limit
        n = rng.randint(50, 1200)
        return json.loads("[" * n + "]" * n) if n < 900 else {"deep": "[" * n + "]" * n}
    return {rng.choice(FIELDS): junk_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def junk_frame(rng: random.Random) -> str | bytes:
    pick = rng.random()
    if pick < 0.015:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    if pick < 0.03:
        return "x" * (protocol.MAX_FRAME_BYTES + rng.randint(1, 1000))
    if pick < 0.14:
        return "".join(rng.choices(string.printable, k=rng.randint(0, 200)))
    if pick < 0.2:
        n = rng.randint(1000, protocol.MAX_FRAME_BYTES // 2 - 10)
        return "[" * n + "]" * n
    frame = {"type": rng.choice(TYPES)}
    frame.update({rng.choice(FIELDS): junk_value(rng) for _ in range(rng.randint(0, 6))})
    if rng.random() < 0.3:
        frame = junk_value(rng) if rng.random() < 0.3 else frame
    return json.dumps(frame, ensure_ascii=rng.random() < 0.5)


def server_bounded(app) -> None:
    """What a connection may make the server hold: at most the send queue's bound per connection."""
    hub = app.state.runtime.context.hub
    for feed in hub.feeds.values():
        for conn in feed.conns:
            assert len(conn._out) <= protocol.SEND_QUEUE_FRAMES


async def fuzz(room, seed: int) -> dict[int, int]:
    """Send FRAMES_PER_SEED frames as the respondent, reconnecting after each close; never read
    while sending a burst (a slow reader), then read everything. Returns the close codes seen."""
    rng = random.Random(seed)
    closes: dict[int, int] = {}
    sent = 0
    while sent < FRAMES_PER_SEED:
        url = room.url(RESPONDENT, side="respondent")
        async with connect(url, max_size=None, ping_interval=None) as ws:
            try:
                burst = rng.randint(1, 60)
                for _ in range(burst):
                    sent += 1
                    await ws.send(junk_frame(rng))
                server_bounded(room.app)
                while True:  # read what the server answered until it has been quiet a while
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                    assert isinstance(frame, dict) and frame.get("type") in SERVER_TYPES, (seed, frame)
                    if frame["type"] == "error":
                        assert frame["code"] in protocol.ERROR_CODES, (seed, frame)
            except (TimeoutError, asyncio.TimeoutError):
                pass
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                assert code in protocol.CLOSE_DOCS and code != protocol.Close.INTERNAL, (seed, code)
                closes[code] = closes.get(code, 0) + 1
    return closes


async def test_a_fuzzing_participant_gets_only_protocol_answers_and_the_room_goes_on(room):
    med = await Client.open(room.url(MEDIATOR))
    cla = await Client.open(room.url(CLAIMANT, side="claimant"))
    await med.op({"type": "session.start"})
    await med.op({"type": "admit", "participant_ids": [CLAIMANT, RESPONDENT]})
    await cla.expect("location", location="joint")
    closes: dict[int, int] = {}
    for n, seed in enumerate(SEEDS):
        for code, count in (await fuzz(room, seed)).items():
            closes[code] = closes.get(code, 0) + count
        await med.drain(0.2)
        await cla.drain(0.2)
        await still_serving(med, cla, 100 + n)
    # the fuzz did reach the limits it is meant to probe
    assert protocol.Close.TOO_BIG in closes and protocol.Close.UNSUPPORTED_DATA in closes, closes
    # and every fuzzing connection is gone from the server once its socket is

    def only_two_left() -> bool:
        hub = room.app.state.runtime.context.hub
        return sum(len(feed.conns) for feed in hub.feeds.values()) == 2

    await eventually(only_two_left, timeout=30, message="fuzzing connections released")
