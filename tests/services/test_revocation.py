"""Revocation in the embedded run (`odr dev` shape: the four services in one process behind the
gateway, the embedded log between them, real websockets): a recused mediator (issue 18, finding
1), a rotated court client secret (finding 16), sign-out, sign out everywhere, a disabled account
and a changed password. Each revoked token is tried on every service as its holder would, and an
open room connection must be closed with 4012."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from odr.gateway import create_gateway
from shared.config import Settings
from tests.services.agreements.conftest import complete_content
from tests.e2e.support import claims as claims_of
from tests.services.intake.conftest import Driver, bearer
from tests.services.intake.test_flow import full_flow
from tests.services.sessions.conftest import serve
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(240)

REVOKED = 4012
WAIT = 30.0


class Platform:
    def __init__(self, http: httpx.AsyncClient, ws_base: str) -> None:
        self.c = http
        self.ws_base = ws_base
        self.d = Driver(http, "/intake")

    def ws_url(self, case_id: str, who: dict) -> str:
        return f"{self.ws_base}/sessions/rooms/{case_id}/ws?token={who['Authorization'].split()[1]}"

    async def open_room(self, case_id: str, who: dict):
        ws = await connect(self.ws_url(case_id, who), max_size=None, ping_interval=None, open_timeout=30)
        while json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] != "welcome":
            pass
        return ws

    async def refused_at_join(self, case_id: str, who: dict) -> int | None:
        """The close code a new connection with this token gets; None if the room lets it in."""
        async with connect(self.ws_url(case_id, who), max_size=None, ping_interval=None, open_timeout=30) as ws:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            except ConnectionClosed as exc:
                return exc.rcvd.code
            assert frame["type"] == "welcome", frame
            return None

    async def statuses(self, who: dict, case_id: str = "none") -> dict[str, int]:
        """What each service answers this token on a route its holder uses."""
        routes = {"intake": f"/intake/cases/{case_id}", "sessions": f"/sessions/rooms/{case_id}",
                  "agreements": "/agreements/agreements", "notifications": "/notifications/feed"}
        return {s: (await self.c.get(path, headers=who)).status_code for s, path in routes.items()}

    async def refused_everywhere(self, who: dict, case_id: str = "none") -> None:
        """Until every service answers 401: intake at once, the others when they have consumed
        the revocation (within seconds; the test waits, it does not time)."""
        async def all_refused():
            return set((await self.statuses(who, case_id)).values()) == {401}

        await eventually(all_refused, timeout=WAIT, message="every service refuses the revoked token")
        assert (await self.c.post("/intake/auth/refresh", headers=who)).status_code == 401

    async def room_with_mediator(self):
        case_id, claimant, respondent, mediator = await full_flow(self.d)

        async def room_open():
            r = await self.c.get(f"/sessions/rooms/{case_id}", headers=mediator)
            return r.status_code == 200 and r.json()["status"] == "open"

        await eventually(room_open, timeout=WAIT, message="the room opened")
        return case_id, claimant, respondent, mediator


async def closed_with(ws, timeout: float = WAIT) -> int | None:
    """Read until the server closes the connection; its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


@pytest.fixture
async def platform(tmp_path):
    gateway = create_gateway(Settings(data_dir=tmp_path, dev_mode=True, log_format="json"))
    async with serve(gateway) as (ws_base, http_base):
        async with httpx.AsyncClient(base_url=http_base, timeout=30) as http:
            yield Platform(http, ws_base)


async def test_a_recused_mediator_is_out_of_the_room_and_refused_by_every_service(platform):
    p = platform
    case_id, claimant, respondent, mediator = await p.room_with_mediator()

    async def drafted():
        r = await p.c.post("/agreements/agreements", headers=mediator,
                           json={"case_id": case_id, "language": "ru", "content": complete_content()})
        assert r.status_code in (201, 409), r.text
        return r.json() if r.status_code == 201 else None

    draft = await eventually(drafted, timeout=WAIT, message="agreements learned of the case")
    med = await p.open_room(case_id, mediator)
    cla = await p.open_room(case_id, claimant)

    r = await p.c.post(f"/intake/cases/{case_id}/mediator/recusal", json={"reason": "a conflict came up"},
                       headers=mediator)
    assert r.status_code == 200, r.text
    assert await closed_with(med) == REVOKED  # out of the room at once
    assert cla.close_code is None  # the claimant stays

    # The old token opens nothing of the case any more, on any service.
    assert await p.refused_at_join(case_id, mediator) == 4003
    assert (await p.c.get(f"/sessions/rooms/{case_id}", headers=mediator)).status_code == 404
    r = await p.c.post(f"/sessions/rooms/{case_id}/sessions", headers=mediator,
                       json={"starts_at": "2030-01-01T10:00:00Z"})
    assert r.status_code == 404

    async def draft_refused():  # agreements applies the revocation when it has consumed it
        return (await p.c.get(f"/agreements/agreements/{draft['id']}", headers=mediator)).status_code == 404

    await eventually(draft_refused, timeout=WAIT, message="agreements refuses the recused mediator")
    r = await p.c.post("/agreements/agreements", headers=mediator,
                       json={"case_id": case_id, "language": "ru", "content": complete_content()})
    assert r.status_code == 404, r.text
    assert (await p.c.get(f"/intake/cases/{case_id}", headers=mediator)).status_code == 404
    # A refreshed token no longer names the case.
    r = await p.c.post("/intake/auth/refresh", headers=mediator)
    assert r.status_code == 200
    refreshed = bearer(r.json()["access_token"])
    assert await p.refused_at_join(case_id, refreshed) == 4003
    # Sessions took the mediator out of the room: even a token issued after the recusal that
    # names the case (a dev token here) is not let in.

    async def not_a_participant():
        later = await p.d.token("mediator", claims_of(mediator)["sub"], [case_id])
        return await p.refused_at_join(case_id, later) == 4003

    await eventually(not_a_participant, timeout=WAIT, message="sessions removed the recused mediator")
    # The parties keep their room.
    assert (await p.c.get(f"/sessions/rooms/{case_id}", headers=respondent)).status_code == 200
    await cla.close()


async def test_a_token_issued_before_a_court_client_secret_rotation_is_not_refreshed(platform):
    p = platform
    admin = await p.d.admin()
    r = await p.c.post("/intake/admin/court-clients", headers=admin, json={"court_id": "almaty-civil", "name": "Almaty"})
    creds = r.json()
    r = await p.c.post("/intake/auth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                                                   "client_secret": creds["client_secret"]})
    court = bearer(r.json()["access_token"])
    assert (await p.c.get("/agreements/court/v1/feed", headers=court)).status_code == 200

    r = await p.c.post(f"/intake/admin/court-clients/{creds['client_id']}/rotate", headers=admin)
    assert r.status_code == 200
    new_secret = r.json()["client_secret"]

    r = await p.c.post("/intake/auth/refresh", headers=court)
    assert r.status_code == 401, r.text

    async def feed_refused():
        return (await p.c.get("/agreements/court/v1/feed", headers=court)).status_code == 401

    await eventually(feed_refused, timeout=WAIT, message="agreements refuses the old court token")
    r = await p.c.post("/intake/auth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                                                   "client_secret": creds["client_secret"]})
    assert r.status_code == 401  # the old secret
    r = await p.c.post("/intake/auth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                                                   "client_secret": new_secret})
    fresh = bearer(r.json()["access_token"])
    assert (await p.c.get("/agreements/court/v1/feed", headers=fresh)).status_code == 200
    assert (await p.c.post("/intake/auth/refresh", headers=fresh)).status_code == 200


async def test_sign_out_ends_that_token_everywhere_and_its_room_connection(platform):
    p = platform
    case_id, claimant, respondent, mediator = await p.room_with_mediator()
    cla = await p.open_room(case_id, claimant)
    res = await p.open_room(case_id, respondent)
    assert 401 not in (await p.statuses(claimant, case_id)).values()

    async with p.c.stream("GET", "/notifications/feed/stream", headers=claimant) as stream:
        assert stream.status_code == 200
        assert (await p.c.post("/intake/auth/sign-out", headers=claimant)).status_code == 204
        assert await closed_with(cla) == REVOKED

        async def read_to_the_end():
            async for _ in stream.aiter_lines():
                pass

        await asyncio.wait_for(read_to_the_end(), WAIT)  # the live feed ends too
    await p.refused_everywhere(claimant, case_id)
    assert await p.refused_at_join(case_id, claimant) == 4001
    # Other people, and the same person's other sign-ins, are untouched.
    assert res.close_code is None
    assert (await p.c.get(f"/sessions/rooms/{case_id}", headers=respondent)).status_code == 200
    await res.close()


async def test_sign_out_everywhere_ends_every_earlier_sign_in(platform):
    p = platform
    admin = await p.d.admin()
    _, username = await p.d.mediator(admin)
    laptop, phone = await p.d.login(username), await p.d.login(username)
    assert (await p.c.post("/intake/auth/sign-out-everywhere", headers=phone)).status_code == 204
    for token in (laptop, phone):
        await p.refused_everywhere(token)
    later = await p.d.login(username)  # signing in again works
    assert (await p.c.get("/intake/mediator/proposals", headers=later)).status_code == 200


async def test_a_disabled_account_is_out_at_once(platform):
    p = platform
    case_id, claimant, respondent, mediator = await p.room_with_mediator()
    med = await p.open_room(case_id, mediator)
    mediator_id = (await p.c.get("/intake/mediator/proposals", headers=mediator)).json()[0]["mediator_id"]
    admin = await p.d.admin()

    r = await p.c.post(f"/intake/admin/accounts/{mediator_id}/disable", headers=admin)
    assert r.status_code == 200, r.text
    assert await closed_with(med) == REVOKED
    await p.refused_everywhere(mediator, case_id)
    username = r.json()["username"]
    r = await p.c.post("/intake/auth/login", json={"username": username, "password": "correct horse battery"})
    assert r.status_code == 401


async def test_a_changed_password_ends_every_earlier_token(platform):
    p = platform
    admin = await p.d.admin()
    _, username = await p.d.mediator(admin)
    old = await p.d.login(username)
    r = await p.c.post("/intake/auth/password", headers=old,
                       json={"current_password": "correct horse battery", "new_password": "a much newer passphrase"})
    assert r.status_code == 200, r.text
    new = bearer(r.json()["access_token"])
    await p.refused_everywhere(old)
    assert (await p.c.get("/intake/mediator/proposals", headers=new)).status_code == 200
    r = await p.c.post("/intake/auth/login", json={"username": username, "password": "correct horse battery"})
    assert r.status_code == 401
