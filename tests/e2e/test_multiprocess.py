"""The production shape end to end: intake, sessions, agreements and notifications each as its
own ``odr serve`` process (the docker-compose command and environment), Kafka (librdkafka's mock
broker) between them and a PostgreSQL database per service.

One court-referred case goes all the way through the HTTP APIs and the sessions websocket: the
court refers it and invites both sides, both consent and are screened, a mediator from the register
is proposed and accepted by both sides and by the mediator, everyone signs the agreement to
mediate, sessions opens the room, the mediator runs a joint session and a caucus, the mediator
drafts the settlement, everyone signs it, the court reads it from its feed and approves it, and the
notifications feed has told everyone.

Two services are killed with SIGKILL while their consumers have work in flight and are started
again with the same command: sessions right after the agreement to mediate is signed (its consumer
of odr.mediation.agreed.v1 opens the room) and notifications right after the settlement's last
signature (its consumer of odr.agreement.signed.v1 writes the notices). Nothing is lost (the room
opens, the notices arrive) and nothing is done twice (one room, one notice per recipient and event,
one court feed item per agreement event).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect

from odr.services import SERVICES
from tests.services.agreements.conftest import complete_content
from tests.services.intake.conftest import KZ_ATM, KZ_CONSENT, calm_answers, parties
from tests.services.notifications.servers import MailServer
from tests.support.databases import ADMIN_DSN
from tests.support.waiting import eventually

from .support import ServiceProcess, bearer, claims, cli, compose_environment

pytestmark = pytest.mark.timeout(300)

WAIT = 60.0


def _pg_dsn(database: str) -> str:
    return f"{ADMIN_DSN.rsplit('/', 1)[0]}/{database}"


@pytest.fixture
def mail():
    """The mail catcher compose runs (mailpit), as a local SMTP server."""
    with MailServer() as server:
        yield server


@pytest.fixture
async def platform(tmp_path, kafka, pg_database_template, mail):
    """The four services as separate processes; always terminated afterwards."""
    base, names = pg_database_template
    secrets = tmp_path / "secrets"
    # What the README tells an operator to do before `docker compose up`: create the token keyrings.
    cli("keys", "rotate", "--data-dir", str(secrets), "--public-out", str(secrets / "jwt.public.json"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ODR_") or k.startswith("ODR_TEST_")}
    # ...and the key-encryption keys and the seal keyring, which production never makes by itself.
    cli("keys", "init", env={**clean, "ODR_DATA_DIR": str(tmp_path / "nowhere"), "ODR_JWT_KEYRING": str(secrets / "keys" / "jwt.json"),
                             "ODR_KEK_KEYRING": str(secrets / "kek.json"),
                             "ODR_AGREEMENTS_SEAL_KEYRING": str(secrets / "agreements-seal.json")})
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = {}
    for service in SERVICES:
        data_dir = tmp_path / service  # the service's own volume
        data_dir.mkdir()
        env = compose_environment(service, {
            "ODR_KAFKA_BOOTSTRAP": kafka.bootstrap,
            f"ODR_{service.upper()}_DATABASE_URL": f"{base}/{names[service]}",
            "ODR_DATA_DIR": str(data_dir),
            "path:/run/secrets/jwt_keyring": str(secrets / "keys" / "jwt.json"),
            "path:/run/secrets/jwt_public_keyring": str(secrets / "jwt.public.json"),
            "path:/run/secrets/kek.json": str(secrets / "kek.json"),
            "path:/run/secrets/agreements-seal.json": str(secrets / "agreements-seal.json"),
            "ODR_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "ODR_NOTIFICATIONS_SMTP_PORT": str(mail.port),
        })
        procs[service] = ServiceProcess(service, {**clean, **env}, logs)
    try:
        for p in procs.values():
            p.start()
        await asyncio.gather(*(p.ready() for p in procs.values()))
        yield type("Platform", (), {"procs": procs, "names": names, "shared_dir": secrets, "mail": mail})
    finally:
        for p in procs.values():
            p.stop()


class Api:
    """HTTP clients of the four processes."""

    def __init__(self, procs) -> None:
        self.procs = procs
        # As the gateway calls them: its prefix stripped (deploy/nginx.conf).
        self.c = {s: httpx.AsyncClient(base_url=p.url, timeout=30) for s, p in procs.items()}

    async def close(self) -> None:
        for c in self.c.values():
            await c.aclose()

    async def call(self, service: str, method: str, path: str, expect: int | tuple = 200, **kw):
        r = await self.c[service].request(method, path, **kw)
        ok = expect if isinstance(expect, tuple) else (expect,)
        assert r.status_code in ok, f"{method} {service}{path}: {r.status_code} {r.text}"
        return r.json()


async def _count(database: str, query: str, *args) -> int:
    conn = await asyncpg.connect(_pg_dsn(database))
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


class Ws:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.frames: list[dict] = []

    @classmethod
    async def open(cls, url: str) -> "Ws":
        client = cls(await connect(url, max_size=None, ping_interval=None, open_timeout=30))
        await client.expect("welcome")
        return client

    async def recv(self, timeout: float = 20.0) -> dict:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def expect(self, type_: str, **match) -> dict:
        while True:
            frame = await self.recv()
            if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def op(self, frame: dict) -> dict:
        await self.ws.send(json.dumps(frame))
        while True:
            got = await self.recv()
            if got["type"] in ("ack", "error") and (got["type"] != "ack" or got.get("op") == frame["type"]
                                                   or got.get("id") == frame.get("id")):
                return got


async def test_a_case_through_four_processes_with_crashes(platform, tmp_path):
    started = time.monotonic()
    procs = platform.procs
    api = Api(procs)
    try:
        await _walk(api, platform)
    except BaseException:
        for p in procs.values():
            print(p.log_tail())
        raise
    finally:
        await api.close()
    errors = [e for p in procs.values() for e in p.errors()]
    assert not errors, "\n".join(errors)
    print(f"e2e multi-process flow took {time.monotonic() - started:.1f}s (after start-up)")


async def _walk(api: Api, platform) -> None:
    procs, names = platform.procs, platform.names
    admin = bearer(cli("token", "--role", "admin", "--subject", "e2e", "--data-dir", str(platform.shared_dir)).strip())

    # -- intake: a court client, a referral, both sides invited and consenting -------------------
    court_id = f"court-{uuid.uuid4().hex[:8]}"
    creds = await api.call("intake", "POST", "/admin/court-clients", 201, headers=admin,
                           json={"court_id": court_id, "name": "Almaty civil court"})
    granted = await api.call("intake", "POST", "/auth/token", data={
        "grant_type": "client_credentials", "client_id": creds["client_id"], "client_secret": creds["client_secret"]})
    court = bearer(granted["access_token"])
    case = await api.call("intake", "POST", "/court/v1/referrals", 201, headers=court,
                          json={"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice",
                                "docket_number": "2-77/2026", "parties": parties()})
    case_id = case["id"]
    tokens = {}
    for side in ("claimant", "respondent"):
        inv = await api.call("intake", "POST", f"/cases/{case_id}/invitations", 201, headers=court, json={"side": side})
        answered = await api.call("intake", "POST", f"/invitations/{inv['link_token']}/answer",
                                  json={"decision": "consent", "text_version": KZ_CONSENT})
        tokens[side] = bearer(answered["access_token"])
    assert answered["case"]["status"] == "screening"
    claimant, respondent = tokens["claimant"], tokens["respondent"]
    await api.call("notifications", "PUT", f"/contacts/{claims(claimant)['sub']}", headers=claimant,
                   json={"email": "aigerim@example.kz"})
    for party in (claimant, respondent):
        await api.call("intake", "POST", f"/cases/{case_id}/screening", 201, headers=party, json=calm_answers())

    # -- a registered mediator, proposed, accepted by the respondent and by the mediator ---------
    username = f"mediator-{uuid.uuid4().hex[:8]}"
    mediator_entry = await api.call("intake", "POST", "/admin/mediators", 201, headers=admin, json={
        "username": username, "password": "correct horse battery", "full_name": "Aliya Bekova",
        "kind": "professional", "register_number": f"R-{uuid.uuid4().hex[:6]}",
        "registry": "Republican chamber of mediators", "languages": ["kk", "ru"], "specialisations": ["civil"],
        "jurisdictions": ["KZ"], "capacity": 3})
    mediator_id = mediator_entry["id"]
    proposal = await api.call("intake", "POST", f"/cases/{case_id}/mediator-proposals", 201, headers=claimant,
                              json={"mediator_id": mediator_id})
    accepted = await api.call("intake", "POST", f"/cases/{case_id}/mediator-proposals/{proposal['id']}/accept",
                              headers=respondent)
    assert accepted["respondent_accepted"]
    login = await api.call("intake", "POST", "/auth/login",
                           json={"username": username, "password": "correct horse battery"})
    decided = await api.call("intake", "POST", f"/cases/{case_id}/mediator-proposals/{proposal['id']}/decision",
                             headers=bearer(login["access_token"]),
                             json={"decision": "accept", "impartiality_declaration": True})
    mediator = bearer(decided["access_token"])
    assert claims(mediator)["sub"] == mediator_id

    # -- the agreement to mediate; sessions is killed while its consumer is about to open the room
    for who in (claimant, respondent, mediator):
        signed = await api.call("intake", "POST", f"/cases/{case_id}/agreement-to-mediate/signatures", 201,
                                headers=who, json={"text_version": KZ_ATM})
    assert signed["signed_by"] == ["claimant", "mediator", "respondent"]
    procs["sessions"].kill9()
    procs["sessions"].start()  # the same command and environment
    await procs["sessions"].ready()

    async def room_open():
        r = await api.c["sessions"].get(f"/rooms/{case_id}", headers=respondent)
        return r.status_code == 200 and r.json()["status"] == "open"

    await eventually(room_open, timeout=WAIT, interval=0.2, message="sessions opened the room after its restart")
    assert await _count(names["sessions"], "SELECT count(*) FROM rooms WHERE case_id = $1", case_id) == 1

    # -- the sessions websocket: waiting room, admission, joint chat, a caucus -------------------
    ws_base = procs["sessions"].url.replace("http://", "ws://")

    def ws_url(headers):
        return f"{ws_base}/rooms/{case_id}/ws?token={headers['Authorization'].split()[1]}"

    claimant_id, respondent_id = claims(claimant)["sub"], claims(respondent)["sub"]
    med = await Ws.open(ws_url(mediator))
    cla = await Ws.open(ws_url(claimant))
    res = await Ws.open(ws_url(respondent))
    try:
        assert (await med.op({"type": "session.start"}))["type"] == "ack"
        assert (await med.op({"type": "admit", "participant_ids": [claimant_id, respondent_id]}))["type"] == "ack"
        await cla.expect("location", location="joint")
        await res.expect("location", location="joint")
        ack = await cla.op({"type": "chat", "id": "c1", "text": "hello all"})
        assert ack["type"] == "ack" and ack["channel"] == "joint", ack
        got = await res.expect("chat")
        assert got["text"] == "hello all" and got["from"] == claimant_id
        assert (await med.op({"type": "caucus.open", "side": "claimant"}))["type"] == "ack"
        await cla.expect("location", location="caucus:claimant")
        secret = await cla.op({"type": "chat", "id": "c2", "text": "my bottom line is 500"})
        assert secret["channel"] == "caucus:claimant"
        assert (await med.expect("chat", channel="caucus:claimant"))["text"] == "my bottom line is 500"
        assert (await med.op({"type": "caucus.close", "side": "claimant"}))["type"] == "ack"
        await cla.expect("location", location="joint")
        assert not any("bottom line" in json.dumps(f) for f in res.frames)
    finally:
        for c in (med, cla, res):
            await c.ws.close()

    # -- agreements: draft, signature request, three signatures ----------------------------------
    async def drafted():
        r = await api.c["agreements"].post("/agreements", headers=mediator,
                                           json={"case_id": case_id, "language": "ru", "content": complete_content()})
        assert r.status_code in (201, 404, 409, 422), r.text
        return r.json() if r.status_code == 201 else None

    draft = await eventually(drafted, timeout=WAIT, interval=0.2, message="agreements learned of the case")
    await api.call("agreements", "POST", f"/agreements/{draft['id']}/signature-request", headers=mediator,
                   json={"version": draft["version"]})
    for who in (claimant, respondent, mediator):
        done = await api.call("agreements", "POST", f"/agreements/{draft['id']}/signatures", headers=who,
                              json={"version": draft["version"], "document_hash": draft["document_hash"]})
    assert done["status"] == "executed", done
    # notifications dies while odr.agreement.signed.v1 is on its way to (or in) its consumer
    procs["notifications"].kill9()
    procs["notifications"].start()
    await procs["notifications"].ready()

    # -- the court reads the signed agreement from its feed and approves it -----------------------
    page = await api.call("agreements", "GET", "/court/v1/feed", headers=court)
    assert [(i["type"], i["agreement_id"]) for i in page["items"]] == [("odr.agreement.signed.v1", draft["id"])]
    sealed = await api.call("agreements", "GET", f"/court/v1/agreements/{draft['id']}", headers=court)
    assert sealed["document"]["content"]["subject"] == complete_content()["subject"]
    await api.call("agreements", "POST", f"/court/v1/agreements/{draft['id']}/acknowledgement", headers=court)
    await api.call("agreements", "POST", f"/court/v1/agreements/{draft['id']}/decision", headers=court,
                   json={"decision": "approved", "reference": "2-77/2026"})
    page = await api.call("agreements", "GET", "/court/v1/feed", headers=court, params={"after": page["next_cursor"]})
    assert [i["type"] for i in page["items"]] == ["odr.agreement.approved.v1"]
    whole = await api.call("agreements", "GET", "/court/v1/feed", headers=court)
    assert sorted(i["type"] for i in whole["items"]) == ["odr.agreement.approved.v1", "odr.agreement.signed.v1"]

    # -- notifications: everyone was told, once ---------------------------------------------------
    people = {"claimant": claimant, "respondent": respondent, "mediator": mediator}

    async def kinds(headers):
        r = await api.c["notifications"].get("/feed", headers=headers, params={"limit": 200})
        assert r.status_code == 200, r.text
        return [i["kind"] for i in r.json()["items"] if i.get("case_id", case_id) == case_id]

    async def everyone_told():
        for headers in people.values():
            got = await kinds(headers)
            if not {"agreement_signed", "court_decision"} <= set(got):
                return False
        return True

    await eventually(everyone_told, timeout=WAIT, interval=0.3,
                     message="agreement_signed and court_decision notices after the notifications restart")
    claimant_kinds = await kinds(claimant)
    for kind in ("mediation_started", "session_started", "caucus_requested", "draft_ready", "signature_requested"):
        assert kind in claimant_kinds, (kind, claimant_kinds)
    assert "caucus_requested" not in await kinds(respondent)  # only the side asked into the caucus hears of it
    for who, headers in people.items():
        got = await kinds(headers)
        assert got.count("agreement_signed") == 1, (who, got)
        assert got.count("court_decision") == 1, (who, got)

    # -- no duplicate effects in the services' own databases --------------------------------------
    duplicates = await _count(names["notifications"], """
        SELECT count(*) FROM (SELECT recipient, kind, source_event_id FROM notifications WHERE case_id = $1
                              GROUP BY recipient, kind, source_event_id HAVING count(*) > 1) d""", case_id)
    assert duplicates == 0
    signed_notices = await _count(names["notifications"], """
        SELECT count(*) FROM notifications WHERE case_id = $1 AND kind = 'agreement_signed'""", case_id)
    per_recipient = await _count(names["notifications"], """
        SELECT count(DISTINCT recipient) FROM notifications WHERE case_id = $1 AND kind = 'agreement_signed'""",
                                 case_id)
    assert signed_notices == per_recipient >= 3
    assert await _count(names["sessions"], "SELECT count(*) FROM rooms WHERE case_id = $1", case_id) == 1

    # -- email through SMTP (compose's mail catcher): the claimant's notices, each sent once ----------
    titles = {i["kind"]: i["title"] for i in
              (await api.call("notifications", "GET", "/feed", headers=claimant, params={"limit": 200}))["items"]}

    async def signed_mail():
        return [m for m in platform.mail.accepted if m["Subject"] == titles["agreement_signed"]]

    [mail] = await eventually(signed_mail, timeout=WAIT, interval=0.3, message="the agreement_signed email")
    assert mail["To"] == "aigerim@example.kz" and mail["Content-Language"] == "kk"
    ids = platform.mail.message_ids()
    assert len(ids) == len(set(ids)), "an email was sent twice"
