"""Revocation in the production shape: the four services as their own ``odr serve`` processes
(two of each), Kafka between them and a PostgreSQL database each (the package's ``platform``,
shared with ``test_multiprocess``).

A court-referred case reaches an open room; the mediator recuses and is closed out of the room
(4012) and refused by sessions and agreements; the court client's secret is rotated and its old
token is neither refreshed nor accepted; a party signs out and is closed out and refused by every
service; the mediator's account is disabled and every earlier token of it is refused."""

from __future__ import annotations

import uuid

import pytest
from websockets.exceptions import ConnectionClosed

from tests.services.agreements.conftest import complete_content
from tests.services.intake.conftest import KZ_ATM, KZ_CONSENT, calm_answers, parties
from tests.support.waiting import eventually

from .support import bearer, claims, cli
from .test_multiprocess import WAIT, Api, Ws

pytestmark = [pytest.mark.timeout(900), pytest.mark.asyncio(loop_scope="package")]  # the platform: conftest.py; 900: test_multiprocess.py

REVOKED = 4012
SERVICES = ("intake", "sessions", "agreements", "notifications")


async def _closed_with(ws: Ws) -> int | None:
    try:
        while True:
            await ws.recv(timeout=WAIT)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


async def _refused_everywhere(api: Api, who: dict, case_id: str) -> None:
    routes = {"intake": f"/cases/{case_id}", "sessions": f"/rooms/{case_id}", "agreements": "/agreements",
              "notifications": "/feed"}

    async def all_refused():
        got = {s: (await api.c[s].get(path, headers=who)).status_code for s, path in routes.items()}
        return set(got.values()) == {401}

    await eventually(all_refused, timeout=WAIT, interval=0.2, message="every service refuses the revoked token")


async def test_revocation_across_the_services_processes(platform):
    api = Api(platform)
    try:
        await _walk(api, platform)
    except BaseException:
        for p in (p for ps in platform.procs.values() for p in ps):
            print(p.log_tail())
        raise
    finally:
        await api.close()


async def _walk(api: Api, platform) -> None:
    admin = bearer(cli("token", "--role", "admin", "--subject", "e2e", "--data-dir", str(platform.shared_dir)).strip())
    creds = await api.call("intake", "POST", "/admin/court-clients", 201, headers=admin,
                           json={"court_id": f"court-{uuid.uuid4().hex[:8]}", "name": "Almaty civil court"})
    form = {"grant_type": "client_credentials", "client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    court = bearer((await api.call("intake", "POST", "/auth/token", data=form))["access_token"])
    case_id = (await api.call("intake", "POST", "/court/v1/referrals", 201, headers=court,
                              json={"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice",
                                    "docket_number": "2-78/2026", "parties": parties()}))["id"]
    tokens = {}
    for side in ("claimant", "respondent"):
        inv = await api.call("intake", "POST", f"/cases/{case_id}/invitations", 201, headers=court, json={"side": side})
        answered = await api.call("intake", "POST", f"/invitations/{inv['link_token']}/answer",
                                  json={"decision": "consent", "text_version": KZ_CONSENT})
        tokens[side] = bearer(answered["access_token"])
    claimant, respondent = tokens["claimant"], tokens["respondent"]
    for party in (claimant, respondent):
        await api.call("intake", "POST", f"/cases/{case_id}/screening", 201, headers=party, json=calm_answers())
    username = f"mediator-{uuid.uuid4().hex[:8]}"
    mediator_id = (await api.call("intake", "POST", "/admin/mediators", 201, headers=admin, json={
        "username": username, "password": "correct horse battery", "full_name": "Aliya Bekova",
        "kind": "professional", "register_number": f"R-{uuid.uuid4().hex[:6]}",
        "registry": "Republican chamber of mediators", "languages": ["kk", "ru"], "specialisations": ["civil"],
        "jurisdictions": ["KZ"], "capacity": 3}))["id"]
    proposal = await api.call("intake", "POST", f"/cases/{case_id}/mediator-proposals", 201, headers=claimant,
                              json={"mediator_id": mediator_id})
    await api.call("intake", "POST", f"/cases/{case_id}/mediator-proposals/{proposal['id']}/accept", headers=respondent)
    login = await api.call("intake", "POST", "/auth/login", json={"username": username, "password": "correct horse battery"})
    mediator = bearer((await api.call("intake", "POST", f"/cases/{case_id}/mediator-proposals/{proposal['id']}/decision",
                                      headers=bearer(login["access_token"]),
                                      json={"decision": "accept", "impartiality_declaration": True}))["access_token"])
    assert claims(mediator)["sub"] == mediator_id
    for who in (claimant, respondent, mediator):
        await api.call("intake", "POST", f"/cases/{case_id}/agreement-to-mediate/signatures", 201,
                       headers=who, json={"text_version": KZ_ATM})

    async def room_open():
        r = await api.c["sessions"].get(f"/rooms/{case_id}", headers=mediator)
        return r.status_code == 200 and r.json()["status"] == "open"

    await eventually(room_open, timeout=WAIT, interval=0.2, message="sessions opened the room")

    async def drafted():
        r = await api.c["agreements"].post("/agreements", headers=mediator,
                                           json={"case_id": case_id, "language": "ru", "content": complete_content()})
        assert r.status_code in (201, 409), r.text
        return r.json() if r.status_code == 201 else None

    draft = await eventually(drafted, timeout=WAIT, interval=0.2, message="agreements learned of the case")

    ws_base = platform.procs["sessions"][0].url.replace("http://", "ws://")

    def ws_url(headers):
        return f"{ws_base}/rooms/{case_id}/ws?token={headers['Authorization'].split()[1]}"

    # -- the mediator recuses: out of the room, refused by sessions and agreements ----------------
    med, cla = await Ws.open(ws_url(mediator)), await Ws.open(ws_url(claimant))
    await api.call("intake", "POST", f"/cases/{case_id}/mediator/recusal", headers=mediator,
                   json={"reason": "a conflict came up"})
    assert await _closed_with(med) == REVOKED

    async def recused_refused():
        room = await api.c["sessions"].get(f"/rooms/{case_id}", headers=mediator)
        agreement = await api.c["agreements"].get(f"/agreements/{draft['id']}", headers=mediator)
        return (room.status_code, agreement.status_code) == (404, 404)

    await eventually(recused_refused, timeout=WAIT, interval=0.2, message="sessions and agreements refuse the mediator")
    assert cla.ws.close_code is None

    # -- the court client's secret is rotated: the old token is not refreshed nor accepted --------
    await api.call("intake", "POST", f"/admin/court-clients/{creds['client_id']}/rotate", headers=admin)
    await api.call("intake", "POST", "/auth/refresh", 401, headers=court)

    async def court_refused():
        return (await api.c["agreements"].get("/court/v1/feed", headers=court)).status_code == 401

    await eventually(court_refused, timeout=WAIT, interval=0.2, message="agreements refuses the old court token")

    # -- a party signs out: out of the room, refused by every service -----------------------------
    assert (await api.c["intake"].post("/auth/sign-out", headers=claimant)).status_code == 204
    assert await _closed_with(cla) == REVOKED
    await _refused_everywhere(api, claimant, case_id)
    assert (await api.c["sessions"].get(f"/rooms/{case_id}", headers=respondent)).status_code == 200

    # -- the mediator's account is disabled: every earlier token refused, no new sign-in ----------
    await api.call("intake", "POST", f"/admin/accounts/{mediator_id}/disable", headers=admin)
    await _refused_everywhere(api, mediator, case_id)
    await api.call("intake", "POST", "/auth/login", 401, json={"username": username, "password": "correct horse battery"})
