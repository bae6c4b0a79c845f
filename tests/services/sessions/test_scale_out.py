"""Two real ``odr serve sessions`` processes sharing one database and the embedded event log:
participants of one room connected to different processes receive the same items in the same
order, and caucus isolation holds across processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from datetime import date, timedelta

from websockets.exceptions import ConnectionClosed

from services.sessions.hub import FANOUT_TOPIC
from shared.auth import KeyRing, TokenService
from shared.bus import Message
from shared.bus.embedded import EmbeddedBus
from shared.clock import utcnow
from shared.contracts.intake import AccessRevoked, MediationAgreed, Participant
from shared.events import envelope
from tests.services.sessions.conftest import Client
from tests.support.keys import production_env, production_settings
from tests.support.processes import odr_serve
from tests.support.waiting import eventually

PEOPLE = [Participant(participant_id="m-1", role="mediator"),
          Participant(participant_id="c-1", role="party", side="claimant"),
          Participant(participant_id="c-2", role="representative", side="claimant"),
          Participant(participant_id="r-1", role="party", side="respondent"),
          Participant(participant_id="r-2", role="representative", side="respondent")]


@contextlib.asynccontextmanager
async def sessions_process(settings, database_url: str):
    env = {**os.environ, **production_env(settings), "ODR_SESSIONS_DATABASE_URL": database_url,
           "ODR_LOG_LEVEL": "WARNING"}
    async with odr_serve("sessions", env=env) as (port, http):
        yield f"ws://127.0.0.1:{port}", http


async def test_participants_on_two_processes_see_one_order(tmp_path, database_url):
    settings = production_settings(tmp_path, "sessions")
    ring = KeyRing.load(settings.resolved_keyring)
    tokens = TokenService(ring)
    case_id = str(uuid.uuid4())

    def url(base, who, extra=""):
        role = "mediator" if who.startswith("m-") else "party"
        return f"{base}/rooms/{case_id}/ws?token={tokens.issue(subject=who, role=role, cases=[case_id])}{extra}"

    async with sessions_process(settings, database_url) as (a, http_a):
        async with sessions_process(settings, database_url) as (b, _):
            bus = EmbeddedBus(settings.data_dir / "bus.sqlite3")
            await bus.start()
            try:
                evt = MediationAgreed(case_id=case_id, mediator_id="m-1", participants=PEOPLE, term_ends_on=date(2030, 1, 1))
                await bus.publish([Message(evt.topic, case_id, envelope(evt, source="/odr/intake").to_bytes())])
                auth = {"Authorization": f"Bearer {tokens.issue(subject='m-1', role='mediator', cases=[case_id])}"}

                async def room_open():
                    r = await http_a.get(f"/rooms/{case_id}", headers=auth)
                    return r.status_code == 200 and r.json()["status"] == "open"
                await eventually(room_open, message="room opened from MediationAgreed")

                med = await Client.open(url(a, "m-1"))
                clients = {"m-1": med, "c-1": await Client.open(url(a, "c-1")), "c-2": await Client.open(url(b, "c-2")),
                           "r-1": await Client.open(url(b, "r-1")), "r-2": await Client.open(url(a, "r-2"))}
                await med.op({"type": "session.start"})
                await med.op({"type": "admit", "participant_ids": ["c-1", "c-2", "r-1", "r-2"]})
                for who in ("c-1", "c-2", "r-1", "r-2"):
                    await clients[who].expect("location", location="joint", timeout=15)

                # everyone talks at once, on both processes
                async def talk(who):
                    for i in range(15):
                        await clients[who].send({"type": "chat", "id": f"{who}-{i}", "text": f"{who} says {i}"})
                await asyncio.gather(*(talk(w) for w in clients))
                expected = 5 * 15

                async def joint_chats(client):
                    while len([f for f in client.frames if f["type"] == "chat"]) < expected:
                        await client.recv(timeout=20)
                    return [(f["seq"], f["id"]) for f in client.frames if f["type"] == "chat"]
                orders = {w: await joint_chats(c) for w, c in clients.items()}
                first = orders["m-1"]
                assert len({i for _, i in first}) == expected
                for who, order in orders.items():
                    assert order == first, f"{who} saw another order"
                for c in clients.values():
                    seqs = c.seqs("joint")
                    assert seqs == list(range(seqs[0], seqs[-1] + 1)), "a gap in the joint channel"

                # exactly once across processes: c-1 spoke on process a, reconnects to b and resends
                seq_of = dict((i, q) for q, i in first)
                await clients["c-1"].close()
                clients["c-1"] = await Client.open(url(b, "c-1", f"&resume=joint:{first[-1][0]}"))
                await clients["c-1"].expect("resumed", channel="joint", timeout=15)
                again = await clients["c-1"].op({"type": "chat", "id": "c-1-3", "text": "c-1 says 3"})
                assert again["duplicate"] and again["seq"] == seq_of["c-1-3"]
                # a client id is per sender: the same id from someone else is a new message
                other = await clients["r-2"].op({"type": "chat", "id": "c-1-3", "text": "r-2 reuses an id"})
                assert not other["duplicate"] and other["seq"] == first[-1][0] + 1
                assert (await clients["r-1"].expect("chat", id="c-1-3", timeout=15))["from"] == "r-2"

                # a caucus with the respondent side, whose members sit on both processes
                await med.op({"type": "caucus.open", "side": "respondent"})
                moved = await clients["r-1"].expect("location", location="caucus:respondent", timeout=15)
                assert {"m-1", "r-1"} <= set(moved["members"]) <= {"m-1", "r-1", "r-2"}
                # audio/video: whoever stays in the joint channel is told to drop the respondents,
                # whichever process they and the respondents are on, and signalling stops there
                for who in ("c-1", "c-2"):
                    dropped = set()
                    while not {"m-1", "r-1", "r-2"} <= dropped:
                        dropped |= set((await clients[who].expect("media.drop", timeout=15))["peers"])
                offer = await clients["c-2"].op({"type": "signal", "to": "r-2", "kind": "offer", "data": {"sdp": "v=0"}})
                assert offer["code"] == "not-in-channel"
                await clients["c-2"].send({"type": "signal", "to": "r-2", "kind": "hangup"})  # always relayed
                hangup = await clients["r-2"].expect("signal", timeout=15)
                assert hangup["from"] == "c-2" and hangup["kind"] == "hangup" and hangup["data"] is None
                await clients["r-1"].op({"type": "chat", "id": "r-secret", "text": "between us"})
                assert (await clients["r-2"].expect("chat", id="r-secret", timeout=15))["channel"] == "caucus:respondent"
                assert (await med.expect("chat", id="r-secret", timeout=15))["text"] == "between us"
                await med.op({"type": "caucus.close", "side": "respondent"})
                for who in ("c-1", "c-2"):
                    await clients[who].expect("member.joined", timeout=15)
                    await clients[who].drain(0.3)
                    assert not any("between us" in json.dumps(f) for f in clients[who].frames)

                # the bus carries room items sealed: no content in clear
                records = []
                reader = bus.consumer(group=f"t-{uuid.uuid4().hex}", topics=[FANOUT_TOPIC],
                                      handler=lambda rs: _collect(records, rs))
                await reader.start()
                await eventually(lambda: len(records) > 0, message="fan-out records")
                await reader.stop()
                assert not any(b"between us" in r.value or b"says" in r.value for r in records)
                for c in clients.values():
                    await c.close()
            finally:
                await bus.stop()


async def _collect(out, records):
    out.extend(records)


async def test_a_recusal_closes_the_mediator_on_both_processes(tmp_path, database_url):
    """One process's consumer takes each ``odr.access.revoked.v1``; the other reads the revocation
    from the shared database. Both close the recused mediator's connections with 4012, and the
    parties stay."""
    settings = production_settings(tmp_path, "sessions")
    tokens = TokenService(KeyRing.load(settings.resolved_keyring))
    case_id = str(uuid.uuid4())
    mediator = tokens.issue(subject="m-1", role="mediator", cases=[case_id])

    def url(base, who):
        token = mediator if who == "m-1" else tokens.issue(subject=who, role="party", cases=[case_id])
        return f"{base}/rooms/{case_id}/ws?token={token}"

    async with sessions_process(settings, database_url) as (a, http_a):
        async with sessions_process(settings, database_url) as (b, http_b):
            bus = EmbeddedBus(settings.data_dir / "bus.sqlite3")
            await bus.start()
            try:
                evt = MediationAgreed(case_id=case_id, mediator_id="m-1", participants=PEOPLE, term_ends_on=date(2030, 1, 1))
                await bus.publish([Message(evt.topic, case_id, envelope(evt, source="/odr/intake").to_bytes())])
                auth = {"Authorization": f"Bearer {mediator}"}

                async def room_open():
                    r = await http_a.get(f"/rooms/{case_id}", headers=auth)
                    return r.status_code == 200 and r.json()["status"] == "open"
                await eventually(room_open, message="room opened from MediationAgreed")
                on_a, on_b = await Client.open(url(a, "m-1")), await Client.open(url(b, "m-1"))
                party = await Client.open(url(b, "c-1"))

                now = utcnow()
                revoked = AccessRevoked(case_id=case_id, subject="m-1", issued_before=now,
                                        expires_at=now + timedelta(hours=1), reason="recused")
                await bus.publish([Message(revoked.topic, case_id, envelope(revoked, source="/odr/intake").to_bytes())])
                for client in (on_a, on_b):
                    assert await _close_code(client) == 4012
                for http in (http_a, http_b):
                    async def refused(http=http):
                        return (await http.get(f"/rooms/{case_id}", headers=auth)).status_code == 404
                    await eventually(refused, message="the recused mediator's token no longer opens the room")
                assert party.ws.close_code is None
                await party.close()
            finally:
                await bus.stop()


async def _close_code(client: Client, timeout: float = 30.0) -> int | None:
    try:
        while True:
            await client.recv(timeout)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
