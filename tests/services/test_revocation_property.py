"""The revocation property (issue 18): after any sequence of recusals, disabled accounts, changed
passwords, court client secret rotations, sign-outs and sign-outs everywhere, no revoked token is
accepted by any service or room websocket, and every token that was not revoked still is.

The four services run in one process behind the gateway (the embedded run), served by uvicorn on
a loop of their own so the platform outlives each Hypothesis example; each example gets fresh
mediators, rooms, parties and a court client. A recusal here is intake's own revocation of the
mediator's tokens for one case (``revocation.revoke`` with reason ``recused``, what
``proposals.recuse`` does); the recusal route itself is tested in ``test_revocation.py``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from odr.gateway import create_gateway
from services.intake import revocation
from shared.bus import Message
from shared.config import Settings
from shared.contracts.intake import MediationAgreed, Participant
from shared.events import envelope
from tests.services.intake.conftest import Driver, bearer
from tests.services.sessions.conftest import serve
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(600)

WAIT = 30.0
PASSWORD = "correct horse battery"
SERVICES = ("intake", "sessions", "agreements", "notifications")


class Platform:
    """The gateway on its own loop and thread; ``run`` runs a coroutine there and waits."""

    def __init__(self, data_dir) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gateway = create_gateway(Settings(data_dir=data_dir, dev_mode=True, log_format="json"))
        self._serving = serve(self.gateway)
        self.ws_base, http_base = self.run(self._serving.__aenter__())
        self.http = self.run(self._client(http_base))
        self.d = Driver(self.http, "/intake")

    @staticmethod
    async def _client(base: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base, timeout=30)

    def run(self, coro, timeout: float = 120.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def runtime(self, service: str):
        return self.gateway.state.services[service].state.runtime

    def close(self) -> None:
        self.run(self.http.aclose())
        self.run(self._serving.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    p = Platform(tmp_path_factory.mktemp("revocation-property"))
    yield p
    p.close()


@dataclass
class Token:
    subject: str
    role: str
    headers: dict
    case_id: str | None = None
    revoked: bool = False  # refused everywhere
    recused: bool = False  # refused for its case only
    ws: object | None = None  # a room connection opened before the actions


@dataclass
class World:
    admin: dict
    mediators: list[str]  # ids (also usernames' owners)
    usernames: dict[str, str]
    passwords: dict[str, str]
    rooms: dict[str, str]  # mediator id -> case id
    parties: dict[str, str]  # case id -> party participant id
    client_id: str
    secret: str
    disabled: set = field(default_factory=set)
    tokens: list[Token] = field(default_factory=list)


async def _dev_token(p: Platform, subject: str, role: str, cases=()) -> dict:
    r = await p.http.post("/intake/dev/token", json={"subject": subject, "role": role, "cases": list(cases)})
    assert r.status_code == 200, r.text
    return bearer(r.json()["access_token"])


async def _court_token(p: Platform, client_id: str, secret: str) -> dict:
    r = await p.http.post("/intake/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                      "client_secret": secret})
    assert r.status_code == 200, r.text
    return bearer(r.json()["access_token"])


async def _open_ws(p: Platform, token: Token):
    ws = await connect(f"{p.ws_base}/sessions/rooms/{token.case_id}/ws?token={token.headers['Authorization'][7:]}",
                       max_size=None, ping_interval=None, open_timeout=30)
    while json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] != "welcome":
        pass
    return ws


async def _setup(p: Platform) -> World:
    admin = await p.d.admin()
    sessions_bus = p.runtime("sessions").bus
    mediators, usernames, rooms, parties = [], {}, {}, {}
    for _ in range(2):
        mediator_id, username = await p.d.mediator(admin)
        mediators.append(mediator_id)
        usernames[mediator_id] = username
        case_id, party = str(uuid.uuid4()), f"p-{uuid.uuid4().hex[:8]}"
        rooms[mediator_id], parties[case_id] = case_id, party
        evt = MediationAgreed(case_id=case_id, mediator_id=mediator_id, term_ends_on=date(2030, 1, 1),
                              participants=[Participant(participant_id=mediator_id, role="mediator"),
                                            Participant(participant_id=party, role="party", side="claimant")])
        await sessions_bus.publish([Message(evt.topic, case_id, envelope(evt, source="/odr/intake").to_bytes())])
    r = await p.http.post("/intake/admin/court-clients", headers=admin,
                          json={"court_id": f"court-{uuid.uuid4().hex[:6]}", "name": "A court"})
    creds = r.json()
    world = World(admin=admin, mediators=mediators, usernames=usernames, passwords=dict.fromkeys(mediators, PASSWORD),
                  rooms=rooms, parties=parties, client_id=creds["client_id"], secret=creds["client_secret"])
    for case_id in rooms.values():
        async def room_open(case_id=case_id):
            r = await p.http.get(f"/sessions/rooms/{case_id}", headers=admin)
            return r.status_code == 200 and r.json()["status"] == "open"
        await eventually(room_open, timeout=WAIT, message="room open")
    for m in mediators:  # each mediator and party: a token with an open room connection
        for subject, role in ((m, "mediator"), (parties[rooms[m]], "party")):
            token = Token(subject, role, await _dev_token(p, subject, role, [rooms[m]]), case_id=rooms[m])
            token.ws = await _open_ws(p, token)
            world.tokens.append(token)
    world.tokens.append(Token(world.client_id, "court", await _court_token(p, world.client_id, world.secret)))
    return world


def _of(world: World, subject: str) -> list[Token]:
    return [t for t in world.tokens if t.subject == subject]


async def _act(p: Platform, world: World, action: tuple) -> None:
    kind, n = action
    if kind == "issue":
        subjects = [*world.mediators, *world.parties.values(), world.client_id]
        subject = subjects[n % len(subjects)]
        if subject == world.client_id:
            world.tokens.append(Token(subject, "court", await _court_token(p, subject, world.secret)))
        elif subject in world.mediators:
            if subject not in world.disabled:
                case_id = world.rooms[subject]
                world.tokens.append(Token(subject, "mediator", await _dev_token(p, subject, "mediator", [case_id]),
                                          case_id=case_id))
        else:
            case_id = next(c for c, party in world.parties.items() if party == subject)
            world.tokens.append(Token(subject, "party", await _dev_token(p, subject, "party", [case_id]),
                                      case_id=case_id))
        return
    if kind in ("sign_out", "sign_out_everywhere"):
        token = world.tokens[n % len(world.tokens)]
        r = await p.http.post(f"/intake/auth/{kind.replace('_', '-')}", headers=token.headers)
        if token.revoked:
            assert r.status_code == 401, r.text
            return
        assert r.status_code == 204, r.text
        for t in [token] if kind == "sign_out" else _of(world, token.subject):
            t.revoked = True
        return
    mediator = world.mediators[n % len(world.mediators)]
    if kind == "disable":
        r = await p.http.post(f"/intake/admin/accounts/{mediator}/disable", headers=world.admin)
        assert r.status_code == 200, r.text
        world.disabled.add(mediator)
        for t in _of(world, mediator):
            t.revoked = True
    elif kind == "password":
        if mediator in world.disabled:
            return
        r = await p.http.post("/intake/auth/login", json={"username": world.usernames[mediator],
                                                          "password": world.passwords[mediator]})
        assert r.status_code == 200, r.text
        new_password = f"passphrase {uuid.uuid4().hex}"
        r = await p.http.post("/intake/auth/password", headers=bearer(r.json()["access_token"]),
                              json={"current_password": world.passwords[mediator], "new_password": new_password})
        assert r.status_code == 200, r.text
        world.passwords[mediator] = new_password
        for t in _of(world, mediator):
            t.revoked = True
        world.tokens.append(Token(mediator, "mediator", bearer(r.json()["access_token"])))
    elif kind == "rotate":
        r = await p.http.post(f"/intake/admin/court-clients/{world.client_id}/rotate", headers=world.admin)
        assert r.status_code == 200, r.text
        world.secret = r.json()["client_secret"]
        for t in _of(world, world.client_id):
            t.revoked = True
    elif kind == "recuse":
        runtime = p.runtime("intake")
        async with runtime.uow() as uow:
            revocation.revoke(uow, revocations=runtime.tokens.revocations, tokens=runtime.tokens, subject=mediator,
                              case_id=world.rooms[mediator], reason="recused")
            await uow.commit()
        for t in _of(world, mediator):
            t.recused = True


async def _statuses(p: Platform, token: Token) -> dict[str, int]:
    case_id = token.case_id or "none"
    routes = {"intake": f"/intake/cases/{case_id}", "sessions": f"/sessions/rooms/{case_id}",
              "agreements": "/agreements/court/v1/feed" if token.role == "court" else "/agreements/agreements",
              "notifications": "/notifications/feed"}
    return {s: (await p.http.get(path, headers=token.headers)).status_code for s, path in routes.items()}


async def _join_code(p: Platform, token: Token) -> int | None:
    """None when the room lets the token in; else the close code."""
    try:
        ws = await _open_ws(p, token)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else -1
    await ws.close()
    return None


async def _check(p: Platform, world: World) -> None:
    for token in world.tokens:
        async def settled(token=token):
            got = await _statuses(p, token)
            if token.revoked:
                return set(got.values()) == {401}
            if 401 in got.values():
                return False
            if token.case_id is not None:  # its room: open unless recused
                return got["sessions"] == (404 if token.recused else 200)
            return True

        await eventually(settled, timeout=WAIT, message=f"every service's answer to {token}")
        if token.case_id is not None:
            expected = 4001 if token.revoked else 4003 if token.recused and token.role == "mediator" else None
            assert await _join_code(p, token) == expected, token
        if token.ws is not None:
            if token.revoked or token.recused:
                with contextlib.suppress(ConnectionClosed):
                    while True:
                        await asyncio.wait_for(token.ws.recv(), WAIT)
                assert token.ws.close_code == 4012, token
            else:
                assert token.ws.close_code is None, token
                await token.ws.close()


actions = st.lists(st.tuples(st.sampled_from(["issue", "sign_out", "sign_out_everywhere", "disable", "password",
                                              "rotate", "recuse"]),
                             st.integers(min_value=0, max_value=20)), min_size=1, max_size=6)


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=actions)
def test_no_revoked_token_is_accepted_anywhere(platform, sequence):
    async def example():
        world = await _setup(platform)
        for action in sequence:
            await _act(platform, world, action)
        await _check(platform, world)

    platform.run(example(), timeout=300)
