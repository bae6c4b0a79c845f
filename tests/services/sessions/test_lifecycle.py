"""Session lifecycle: events carry ids only, ending a session destroys its transcript key unless
every party consented, safeguards from intake force shuttle mediation, a closed case closes the room."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from services.sessions.models import RoomSession, SessionMessage, outbox
from services.sessions.rooms import CHANNELS
from services.sessions import transcripts
from shared.bus import Message
from shared.contracts.intake import CaseClosed
from shared.events import envelope
from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client, agree, token
from tests.support.waiting import eventually


async def outbox_events(app):
    async with app.state.runtime.session_factory() as db:
        return [(r.type, r.payload) for r in (await db.execute(select(outbox.c.type, outbox.c.payload))).all()]


async def run_session(room, *, keep: bool):
    med = await Client.open(room.url(MEDIATOR))
    cla = await Client.open(room.url(CLAIMANT, side="claimant"))
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    await med.op({"type": "session.start"})
    await med.op({"type": "admit", "participant_ids": [CLAIMANT, RESPONDENT]})
    await cla.op({"type": "chat", "id": "j1", "text": "joint words"})
    await med.op({"type": "caucus.open", "side": "claimant"})
    await cla.op({"type": "chat", "id": "c1", "text": "caucus words"})
    await med.op({"type": "caucus.close", "side": "claimant"})
    await cla.op({"type": "consent.transcript", "keep": keep})
    await res.op({"type": "consent.transcript", "keep": True})
    await med.send({"type": "session.end"})  # answered by session.ended, then close code 4011
    for c in (med, cla, res):
        ended = await c.expect("session.ended")
        assert ended["transcript_kept"] is keep
    return med.welcome["session_id"]


async def test_ending_a_session_shreds_its_transcript_and_events_carry_no_content(room):
    sid = await run_session(room, keep=False)
    events = await outbox_events(room.app)
    types = [t for t, _ in events]
    for expected in ("odr.session.scheduled.v1", "odr.session.started.v1", "odr.caucus.opened.v1",
                     "odr.caucus.closed.v1", "odr.session.ended.v1"):
        assert expected in types
    assert not any(b"words" in payload for _, payload in events)
    async with room.app.state.runtime.session_factory() as db:
        rs = await db.get(RoomSession, sid)
        assert rs.status == "ended" and rs.wrapped_key is None and rs.transcript_kept is False
        bodies = (await db.execute(select(SessionMessage.body).where(SessionMessage.session_id == sid))).scalars().all()
    assert bodies and not any(b"words" in b for b in bodies)  # stored sealed; now without a key at all
    # a new connection gets a new session; the old history is reported as lost
    cla = await Client.open(room.url(CLAIMANT, side="claimant", extra=f"&resume=joint:1&session={sid}"))
    assert cla.welcome["session_id"] != sid
    assert (await cla.expect("resumed"))["gap"] is True


async def test_the_transcript_is_kept_only_when_every_party_consents(room):
    sid = await run_session(room, keep=True)
    runtime = room.app.state.runtime
    async with runtime.session_factory() as db:
        rs = await db.get(RoomSession, sid)
        assert rs.wrapped_key is not None and rs.transcript_kept is True
        key = transcripts.unwrap(runtime.context.keys, rs.wrapped_key, rs.kek_version, sid)
        rows = (await db.execute(select(SessionMessage).where(SessionMessage.session_id == sid))).scalars().all()
    texts = [json.loads(transcripts.open_sealed(key, r.body, transcripts.message_aad(sid, r.channel, r.seq)))
             for r in rows]
    assert {"joint words", "caucus words"} <= {t.get("text") for t in texts}


async def test_shuttle_only_cases_never_open_the_joint_channel(room):
    case_id = str(uuid.uuid4())
    await agree(room.app, case_id, safeguards=["shuttle_only", "staggered_join"])
    base = f"{room.ws}/rooms/{case_id}/ws?token="
    med = await Client.open(base + token(room.app, MEDIATOR, case_id))
    cla = await Client.open(base + token(room.app, CLAIMANT, case_id))
    assert med.welcome["mode"] == "shuttle" and "shuttle_only" in med.welcome["safeguards"]
    assert "safeguards" not in cla.welcome  # screening outcomes stay with the mediator
    await med.op({"type": "session.start"})
    assert (await med.op({"type": "admit", "participant_ids": [CLAIMANT], "to": "joint"}))["code"] == "joint-disabled"
    assert (await med.op({"type": "mode", "mode": "joint"}))["code"] == "joint-disabled"
    assert (await med.op({"type": "admit", "participant_ids": [CLAIMANT, RESPONDENT]}))["code"] == "safeguard"
    await med.op({"type": "caucus.open", "side": "claimant"})
    assert (await med.op({"type": "admit", "participant_ids": [CLAIMANT]}))["type"] == "ack"
    await cla.expect("location", location="caucus:claimant")


async def test_a_closed_case_ends_the_session_and_closes_the_room(room):
    med = await Client.open(room.url(MEDIATOR))
    await med.op({"type": "session.start"})
    evt = CaseClosed(case_id=room.case_id, outcome="withdrawn")
    await room.app.state.runtime.bus.publish([Message(evt.topic, room.case_id,
                                                      envelope(evt, source="/odr/intake").to_bytes())])
    await med.expect("session.ended", timeout=15)
    import websockets
    try:
        await med.ws.recv()
    except websockets.ConnectionClosed as exc:
        assert exc.rcvd.code == 4011
    await eventually(lambda: _ended(room), message="SessionEnded staged")


async def _ended(room):
    return "odr.session.ended.v1" in [t for t, _ in await outbox_events(room.app)]


def test_every_channel_is_named_in_the_protocol():
    from services.sessions.protocol import websocket_asyncapi
    doc = json.dumps(websocket_asyncapi())
    assert all(ch in doc for ch in CHANNELS) and "4010" in doc and "not-in-channel" in doc
