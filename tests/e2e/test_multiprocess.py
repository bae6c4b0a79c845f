"""The production shape end to end: intake, sessions, agreements and notifications each as two
``odr serve`` processes (the docker-compose command and environment; the replicas of a service
share its PostgreSQL database and volume), Apache Kafka (the session's local broker) between them.

One court-referred case goes all the way through the HTTP APIs and the sessions websocket: the
court refers it and invites both sides, both consent and are screened, a mediator from the register
is proposed and accepted by both sides and by the mediator, everyone signs the agreement to
mediate, sessions opens the room, the mediator runs a joint session and a caucus (where the
claimant shares a document, kept in the object store both sessions replicas share and refused to
the respondent by each, until the mediator shares it in the joint session), the mediator
drafts the settlement, everyone signs it, the court reads it from its feed and approves it, and the
notifications feed has told everyone.

One replica of every service is killed with SIGKILL while its relay or consumers have work in
flight, and started again with the same command while the other replica goes on: intake and
sessions right after the agreement to mediate is signed (intake publishes odr.mediation.agreed.v1,
sessions' consumer of it opens the room), agreements and notifications right after the
settlement's last signature (agreements publishes odr.agreement.signed.v1, notifications' consumer
writes the notices), and the broker restarts in between. The claimant's websocket is on the other
sessions replica than the mediator's and the respondent's, and all three see the joint chat in one
order. Nothing is lost (the room opens, the notices arrive) and nothing is done twice (one room,
one notice per recipient and event, one email per Message-ID, exact court feed pages).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from tests.support.databases import ADMIN_DSN
from tests.support import files
from tests.support.s3 import s3_server
from tests.support.waiting import eventually

from .support import ServiceProcess, bearer, claims, cli, compose_environment

# What a broker restart makes the services log while it lasts: the Kafka client's connection and
# group errors, and the relay's or a consumer's failed round (retried after a back-off).
KAFKA_OUTAGE_ERRORS = ("KafkaConnectionError", "KafkaTimeoutError", "NodeNotReadyError", "RequestTimedOutError",
                       "CommitFailedError", "IllegalStateError", "UnknownMemberIdError", "RebalanceInProgressError",
                       "NotCoordinatorForGroupError", "GroupCoordinatorNotAvailableError", "KafkaError",
                       "NotLeaderForPartitionError", "LeaderNotAvailableError", "UnknownTopicOrPartitionError")


def kafka_outage(record: dict) -> bool:
    return str(record.get("logger", "")).startswith("aiokafka") or record.get("exc_type") in KAFKA_OUTAGE_ERRORS

# A guard against a hang, not a deadline: the first test of the package also starts the platform
# (a Kafka broker, eight processes importing the platform), which on a loaded 2-core machine, as
# the first group handed out while the other worker starts its own, took over five minutes.
pytestmark = [pytest.mark.timeout(900), pytest.mark.asyncio(loop_scope="package")]  # the platform: conftest.py

WAIT = 60.0


def _pg_dsn(database: str) -> str:
    return f"{ADMIN_DSN.rsplit('/', 1)[0]}/{database}"


class Platform:
    """The four services, each as ``replicas`` processes, and what the flow does to them."""

    def __init__(self, procs: dict[str, list[ServiceProcess]], names, shared_dir, mail, kafka) -> None:
        self.procs = procs
        self.names = names
        self.shared_dir = shared_dir
        self.mail = mail
        self.kafka = kafka
        self.replicas = len(next(iter(procs.values())))
        self._restarting: list[asyncio.Task] = []

    def live(self, service: str) -> list[ServiceProcess]:
        return [p for p in self.procs[service] if getattr(p, "serving", True)]

    async def crash(self, service: str) -> None:
        """kill -9 of a process of ``service`` while its consumers have work in flight. One
        replica: the same command starts it again and the flow waits for it. Several: the others
        go on serving at once and the killed one comes back in the background (as a pod would)."""
        proc = self.procs[service][0]
        proc.serving = False
        proc.kill9()
        proc.start()  # the same command and environment
        if self.replicas == 1:
            await proc.ready()
            proc.serving = True
            return

        async def back():
            await proc.ready()
            proc.serving = True

        self._restarting.append(asyncio.create_task(back()))

    async def all_serving(self) -> None:
        await asyncio.gather(*self._restarting)
        self._restarting.clear()


@contextlib.asynccontextmanager
async def running_platform(tmp_path, kafka, pg_database_template, mail, *, replicas: int):
    """The four services as separate processes (``replicas`` of each, sharing each service's
    database); always terminated afterwards."""
    base, names = pg_database_template
    await asyncio.to_thread(kafka.create_platform_topics)  # docker-compose's kafka-init
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
    # docker-compose's MinIO (the documents' object store): an S3 server on this machine
    s3 = contextlib.ExitStack()
    s3_url, _bucket = s3.enter_context(s3_server())
    procs: dict[str, list[ServiceProcess]] = {}
    for service in SERVICES:
        procs[service] = []
        # The service's volume, which its replicas share as they share its secrets (the KEK).
        data_dir = tmp_path / service
        data_dir.mkdir()
        for replica in range(1, replicas + 1):
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
                "ODR_SESSIONS_S3_ENDPOINT_URL": s3_url,
                "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            })
            name = service if replicas == 1 else f"{service}-{replica}"
            procs[service].append(ServiceProcess(service, {**clean, **env}, logs, name=name))
    everyone = [p for ps in procs.values() for p in ps]
    platform = Platform(procs, names, secrets, mail, kafka)
    try:
        for p in everyone:
            p.start()
        await asyncio.gather(*(p.ready() for p in everyone))
        yield platform
    finally:
        for task in platform._restarting:
            task.cancel()
        for p in everyone:
            p.stop()
        s3.close()


class Clients:
    """``api.c[service]``: an HTTP client of one serving process of the service, taking turns
    between its replicas, so every replica serves part of the flow."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.clients = {p: httpx.AsyncClient(base_url=p.url, timeout=30) for ps in platform.procs.values() for p in ps}
        self.turn = 0

    def __getitem__(self, service: str) -> httpx.AsyncClient:
        live = self.platform.live(service)
        assert live, f"no {service} process is serving"
        self.turn += 1
        return self.clients[live[self.turn % len(live)]]

    async def close(self) -> None:
        for c in self.clients.values():
            await c.aclose()


class Api:
    """HTTP clients of the services' processes."""

    def __init__(self, platform: Platform) -> None:
        # As the gateway calls them: its prefix stripped (deploy/nginx.conf).
        self.c = Clients(platform)

    async def close(self) -> None:
        await self.c.close()

    async def call(self, service: str, method: str, path: str, expect: int | tuple = 200, **kw):
        r = await self.c[service].request(method, path, **kw)
        ok = expect if isinstance(expect, tuple) else (expect,)
        assert r.status_code in ok, f"{method} {service}{path}: {r.status_code} {r.text}"
        return r.json()


async def _one_order(med: "Ws", cla: "Ws", res: "Ws", claimant_id: str) -> None:
    """The claimant and the mediator chat at the same time from different sessions processes
    (with replicas); everyone sees the same messages in the same order: one sequence per channel."""
    async def say(ws: "Ws", who: str):
        return [await ws.op({"type": "chat", "id": f"{who}-{i}", "text": f"{who} {i}"}) for i in range(3)]

    acks = [a for batch in await asyncio.gather(say(cla, "cla"), say(med, "med")) for a in batch]
    assert all(a["type"] == "ack" and a["channel"] == "joint" for a in acks), acks
    order = [a["id"] for a in sorted(acks, key=lambda a: a["seq"])]

    def seen(ws: "Ws") -> list[str]:
        return [f["id"] for f in sorted((f for f in ws.frames if f["type"] == "chat" and f.get("channel") == "joint"
                                         and f.get("id", "").startswith(("cla-", "med-"))), key=lambda f: f["seq"])]

    # The respondent sent nothing: it sees all six, in the order the acks gave them.
    while len(seen(res)) < 6:
        await res.recv()
    assert seen(res) == order
    chats = [f for f in res.frames if f["type"] == "chat" and f.get("id", "").startswith(("cla-", "med-"))]
    assert [f["id"] for f in chats] == order, "delivered out of sequence"
    # Each sender sees the other's three in the same order.
    for ws, other in ((cla, "med-"), (med, "cla-")):
        while len([i for i in seen(ws) if i.startswith(other)]) < 3:
            await ws.recv()
        assert [i for i in seen(ws) if i.startswith(other)] == [i for i in order if i.startswith(other)]
    assert any(f["from"] == claimant_id for f in chats)


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


async def test_a_case_through_two_replicas_of_every_service_with_crashes_and_a_broker_restart(platform):
    """Two processes of every service, sharing the service's PostgreSQL database and the broker:
    the case goes through whichever replica answers, the room's participants are connected to
    different sessions replicas, one replica of each service is killed mid-flow, and the broker
    restarts (when it is the tests' own)."""
    await _run(platform, allow=kafka_outage)


async def _run(platform: Platform, allow=lambda record: False) -> None:
    started = time.monotonic()
    everyone = [p for ps in platform.procs.values() for p in ps]
    api = Api(platform)
    try:
        await _walk(api, platform)
    except BaseException:
        for p in everyone:
            print(p.log_tail())
        raise
    finally:
        await api.close()
    errors = [e for p in everyone for e in p.errors(allow=allow)]
    assert not errors, "\n".join(errors)
    print(f"e2e multi-process flow ({platform.replicas} of each service) took {time.monotonic() - started:.1f}s "
          f"(after start-up)")


async def _walk(api: Api, platform: Platform) -> None:
    names = platform.names
    replicated = platform.replicas > 1
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
    if replicated:
        await platform.crash("intake")  # its relay is publishing odr.mediation.agreed.v1
    await platform.crash("sessions")

    async def room_open():
        r = await api.c["sessions"].get(f"/rooms/{case_id}", headers=respondent)
        return r.status_code == 200 and r.json()["status"] == "open"

    await eventually(room_open, timeout=WAIT, interval=0.2, message="sessions opened the room after its restart")
    assert await _count(names["sessions"], "SELECT count(*) FROM rooms WHERE case_id = $1", case_id) == 1

    # -- the sessions websocket: waiting room, admission, joint chat, a caucus -------------------
    # With replicas, the claimant is connected to another sessions process than the others.
    await platform.all_serving()
    sessions = platform.procs["sessions"]

    def ws_url(headers, replica: int = 0):
        base = sessions[replica % len(sessions)].url.replace("http://", "ws://")
        return f"{base}/rooms/{case_id}/ws?token={headers['Authorization'].split()[1]}"

    claimant_id, respondent_id = claims(claimant)["sub"], claims(respondent)["sub"]
    med = await Ws.open(ws_url(mediator))
    cla = await Ws.open(ws_url(claimant, 1))
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
        # a document in the caucus, stored through one replica into the shared object store
        receipt = files.pdf("Repairs receipt")
        up = await api.c["sessions"].post(f"/rooms/{case_id}/documents", content=receipt, headers={
            **claimant, "Content-Type": "application/pdf", "X-Document-Name": "receipt.pdf"})
        assert up.status_code == 201, up.text
        doc = up.json()["id"]
        assert (await med.expect("document", channel="caucus:claimant"))["document_id"] == doc
        for _ in range(2):  # every replica refuses it to the other side
            assert (await api.c["sessions"].get(f"/rooms/{case_id}/documents/{doc}/content",
                                                headers=respondent)).status_code == 404
        assert (await med.op({"type": "caucus.close", "side": "claimant"}))["type"] == "ack"
        await cla.expect("location", location="joint")
        assert not any("bottom line" in json.dumps(f) or doc in json.dumps(f) for f in res.frames)
        shared = await api.c["sessions"].post(f"/rooms/{case_id}/documents/{doc}/share", headers=mediator)
        assert shared.status_code == 200, shared.text
        assert (await res.expect("document", channel="joint"))["document_id"] == doc
        for _ in range(2):  # and every replica serves it to them now, from the shared store
            down = await api.c["sessions"].get(f"/rooms/{case_id}/documents/{doc}/content", headers=respondent)
            assert down.status_code == 200 and down.content == receipt
        await _one_order(med, cla, res, claimant_id)
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
    if replicated:
        await platform.crash("agreements")  # its relay is publishing odr.agreement.signed.v1
    if platform.kafka.local is not None:
        # The broker restarts while that event is on its way.
        await asyncio.to_thread(platform.kafka.local.restart)
    # notifications dies while odr.agreement.signed.v1 is on its way to (or in) its consumer
    await platform.crash("notifications")

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
    await platform.all_serving()  # every killed replica came back
