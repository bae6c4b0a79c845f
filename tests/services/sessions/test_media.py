"""Audio and video on the server: ICE servers with TURN credentials only for the room's members,
and the frames that make media follow channel membership (``media.drop``, ``location`` with the
channel's members, hang-ups across channels, who has media on in the mediator's roster)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid

import httpx
import pytest
from pydantic import ValidationError

from services.sessions.app import create_app
from services.sessions.settings import SessionsSettings
from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client, agree, serve, token

TURN = SessionsSettings(turn_urls=["turn:turn.example:3478?transport=udp"], turn_secret="s3cret",
                        stun_urls=["stun:turn.example:3478"], turn_ttl_seconds=600)


@pytest.fixture
async def turn_room(settings):
    app = create_app(settings, sessions=TURN, configure_logs=False)
    async with serve(app) as (ws_base, http_base):
        case_id = str(uuid.uuid4())
        await agree(app, case_id)
        async with httpx.AsyncClient(base_url=http_base) as http:
            yield app, case_id, http, ws_base


def bearer(app, subject, case_id, **kw):
    return {"Authorization": f"Bearer {token(app, subject, case_id, **kw)}"}


async def test_room_members_get_short_lived_turn_credentials_of_their_own(turn_room):
    app, case_id, http, _ = turn_room
    r = await http.get(f"/rooms/{case_id}/ice-servers", headers=bearer(app, CLAIMANT, case_id, side="claimant"))
    assert r.status_code == 200, r.text
    body = r.json()
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:turn.example:3478"], "username": None, "credential": None}
    expires, who = turn["username"].split(":", 1)
    assert who == CLAIMANT and turn["urls"] == TURN.turn_urls and body["expires_in"] == 600
    # coturn's use-auth-secret check: base64(HMAC-SHA1(secret, username))
    expected = base64.b64encode(hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected
    other = (await http.get(f"/rooms/{case_id}/ice-servers", headers=bearer(app, RESPONDENT, case_id, side="respondent"))).json()
    assert other["ice_servers"][1]["username"].endswith(f":{RESPONDENT}")


async def test_nobody_else_gets_a_relay(turn_room):
    app, case_id, http, _ = turn_room
    other_case = str(uuid.uuid4())
    for headers in (bearer(app, CLAIMANT, other_case, side="claimant"),       # a token for another case
                    bearer(app, "p-stranger", case_id, side="claimant"),      # not a participant
                    bearer(app, CLAIMANT, case_id, side="respondent"),        # the other side's claim
                    {"Authorization": "Bearer not-a-token"}, {}):
        r = await http.get(f"/rooms/{case_id}/ice-servers", headers=headers)
        assert r.status_code in (401, 404), (headers, r.status_code)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "s3cret" not in r.text and "turn.example" not in r.text
    r = await http.get(f"/rooms/{other_case}/ice-servers", headers=bearer(app, CLAIMANT, other_case, side="claimant"))
    assert r.status_code == 404


async def test_without_turn_the_browser_connects_directly(room):
    async with httpx.AsyncClient(base_url=room.http) as http:
        r = await http.get(f"/rooms/{room.case_id}/ice-servers", headers=bearer(room.app, MEDIATOR, room.case_id))
    assert r.json() == {"ice_servers": [], "ice_transport_policy": "all", "expires_in": 3600}


def test_a_turn_server_without_its_secret_is_refused_at_start():
    with pytest.raises(ValidationError, match="TURN_SECRET"):
        SessionsSettings(turn_urls=["turn:t:3478"])
    with pytest.raises(ValidationError, match="TURN_URLS"):
        SessionsSettings(ice_transport_policy="relay")


async def test_a_caucus_drops_media_with_the_other_side_and_hangups_always_pass(room):
    med = await Client.open(room.url(MEDIATOR))
    cla = await Client.open(room.url(CLAIMANT, side="claimant"))
    res = await Client.open(room.url(RESPONDENT, side="respondent"))
    await med.op({"type": "session.start"})
    await med.op({"type": "admit", "participant_ids": [CLAIMANT, RESPONDENT]})
    joined = await res.expect("location", location="joint")
    assert RESPONDENT in joined["members"] and MEDIATOR in joined["members"]
    await cla.send({"type": "media", "audio": True, "video": True})
    roster = await med.expect("roster")
    while CLAIMANT not in roster.get("media", {}):
        roster = await med.expect("roster")
    assert roster["media"][CLAIMANT] == {"audio": True, "video": True}

    await med.op({"type": "caucus.open", "side": "claimant"})
    # the respondent drops both; the claimant drops the respondent before it hears where it is
    dropped = set()
    while dropped != {MEDIATOR, CLAIMANT}:
        dropped |= set((await res.expect("media.drop"))["peers"])
    await cla.expect("location", location="joint")
    frames = []
    while True:
        frames.append(await cla.recv())
        if frames[-1]["type"] == "location" and frames[-1]["location"] == "caucus:claimant":
            break
    drops = [f for f in frames if f["type"] == "media.drop"]
    assert any(RESPONDENT in f["peers"] for f in drops)
    assert frames.index(next(f for f in drops if RESPONDENT in f["peers"])) < len(frames) - 1
    assert sorted(frames[-1]["members"]) == sorted([CLAIMANT, MEDIATOR])

    refused = await cla.op({"type": "signal", "to": RESPONDENT, "kind": "offer", "data": {"sdp": "v=0"}})
    assert refused["code"] == "not-in-channel"
    await cla.send({"type": "signal", "to": RESPONDENT, "kind": "hangup", "data": {"sdp": "leak?"}})
    hangup = await res.expect("signal")
    assert hangup == {"type": "signal", "from": CLAIMANT, "kind": "hangup", "data": None}
    stranger = await cla.op({"type": "signal", "to": "p-nobody", "kind": "hangup"})
    assert stranger["code"] == "unknown-participant"
    # within the caucus, signalling works
    await med.send({"type": "signal", "to": CLAIMANT, "kind": "offer", "data": {"sdp": "v=0"}})
    assert (await cla.expect("signal"))["channel"] == "caucus:claimant"
    # the claimant's connection closes: its camera is off in the mediator's console
    await cla.close()
    roster = await med.expect("roster")
    while CLAIMANT in roster.get("media", {}):
        roster = await med.expect("roster")
    for c in (med, res):
        await c.close()


async def test_websocket_connections_are_not_counted_as_server_errors(room):
    med = await Client.open(room.url(MEDIATOR))
    await med.op({"type": "session.start"})
    await med.close()
    async with httpx.AsyncClient(base_url=room.http) as http:
        async def counted():
            text = (await http.get("/metrics")).text
            return [line for line in text.splitlines()
                    if line.startswith("odr_http_requests_total") and "/rooms/{case_id}/ws" in line]
        for _ in range(50):  # the count is taken when the connection ends
            lines = await counted()
            if lines:
                break
            await asyncio.sleep(0.1)
    assert lines and all('status="101"' in line for line in lines), lines
