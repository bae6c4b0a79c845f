"""Court webhooks per Standard Webhooks v1, against a real receiver that verifies signatures and
timestamps with the reference library: retries on the schedule with the same webhook-id, 410
disables the endpoint, secret rotation signs twice, a delivery log with every attempt, manual
redelivery, and bad or unreachable URLs handled and logged."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

from shared.contracts import agreements as A
from shared.contracts import intake as I
from tests.support.waiting import eventually

from .conftest import service
from .servers import WebhookReceiver, free_port

COURT = "almaty-civil"


def signed(case_id: str, n: int = 1, court: str = COURT) -> A.AgreementSigned:
    return A.AgreementSigned(case_id=case_id, agreement_id=f"a-{n}", version=n, document_hash="sha256:" + "0" * 64,
                             court_id=court)


async def register(svc, receiver: WebhookReceiver, court: str = COURT, **body) -> dict:
    r = await svc.client.post("/court/v1/webhooks", json={"url": receiver.url, **body},
                              headers=svc.token(f"client-{court}", "court", court=court))
    assert r.status_code == 201, r.text
    receiver.secrets.append(r.json()["secret"])
    return r.json()


async def log_of(svc, endpoint_id: str, court: str = COURT) -> list[dict]:
    r = await svc.client.get(f"/court/v1/webhooks/{endpoint_id}/messages",
                             headers=svc.token(f"client-{court}", "court", court=court))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_signed_agreement_reaches_the_court_signed_and_links_only(tmp_path):
    receiver = WebhookReceiver()
    async with receiver.running(), service(tmp_path) as svc:
        endpoint = await register(svc, receiver)
        assert endpoint["secret"].startswith("whsec_") and endpoint["status"] == "active"
        await svc.publish(I.CaseFiled(case_id="c-1", reference="KZ-2026-000042", jurisdiction="KZ", category="family",
                                      court_id=COURT, filed_at=datetime.now(timezone.utc)))
        [env] = await svc.publish(signed("c-1"))
        await eventually(lambda: len(receiver.deliveries) == 2, message="two webhooks")
        # Other courts' events never reach this endpoint.
        await svc.publish(signed("c-2", court="astana-civil"))
        await eventually(lambda: _status(svc, endpoint["id"], {"delivered"}, count=2), message="logged")

    # Webhooks are not ordered (the spec does not promise it; the events come from two topics).
    first, second = sorted(receiver.deliveries, key=lambda d: json.loads(d.body)["type"] != "odr.case.filed.v1")
    assert first.verified and second.verified, (first.error, second.error)
    assert abs(int(second.headers["webhook-timestamp"]) - time.time()) < 60
    assert second.headers["webhook-id"].startswith("msg_")
    assert second.headers["webhook-signature"].startswith("v1,")
    body = json.loads(second.body)
    assert body["type"] == "odr.agreement.signed.v1"
    # the court's record names the case as people do (the reference) besides its id
    assert body["data"] == {"agreement_id": "a-1", "case_id": "c-1", "case_reference": "KZ-2026-000042",
                            "document_hash": "sha256:" + "0" * 64,
                            "event_id": env.id, "link": "https://odr.example/cases/c-1/agreements/a-1",
                            "status": "signed", "version": 1}
    assert json.loads(first.body)["type"] == "odr.case.filed.v1"
    assert len(receiver.deliveries) == 2


async def _status(svc, endpoint_id, statuses, count=1):
    items = await log_of(svc, endpoint_id)
    return len(items) == count and all(i["status"] in statuses for i in items) and items


async def test_failures_are_retried_on_the_schedule_with_the_same_webhook_id(tmp_path):
    receiver = WebhookReceiver(plan=[500, 503])
    schedule = [0.0, 0.4, 0.8]
    async with receiver.running(), service(tmp_path, webhook_retry_schedule=schedule, webhook_jitter=0.1) as svc:
        endpoint = await register(svc, receiver)
        await svc.publish(signed("c-1"))
        [msg] = await eventually(lambda: _status(svc, endpoint["id"], {"delivered"}), message="delivered at last")

    a, b, c = receiver.deliveries
    assert a.headers["webhook-id"] == b.headers["webhook-id"] == c.headers["webhook-id"] == msg["id"]
    assert a.body == b.body == c.body and all(d.verified for d in receiver.deliveries)
    # Never before the schedule (less the jitter) says; how much later is the machine's business
    # (a loaded CI machine stalls event loops for seconds), so the upper bound only catches a
    # schedule read in the wrong unit.
    for gap, delay in ((b.at - a.at, schedule[1]), (c.at - b.at, schedule[2])):
        assert delay * 0.9 - 0.02 <= gap < delay * 60, (gap, delay)
    assert [(x["attempt"], x["outcome"], x["status_code"]) for x in msg["log"]] == [
        (1, "http_error", 500), (2, "http_error", 503), (3, "delivered", 204)]


async def test_exhausted_messages_fail_and_can_be_redelivered_by_hand(tmp_path):
    receiver = WebhookReceiver(plan=[500, 500, 500])
    async with receiver.running(), service(tmp_path) as svc:
        endpoint = await register(svc, receiver)
        await svc.publish(signed("c-1"))
        [msg] = await eventually(lambda: _status(svc, endpoint["id"], {"failed"}), message="exhausted")
        assert msg["attempts"] == 3 and msg["next_attempt_at"] is None
        court = svc.token("client", "court", court=COURT)
        other = svc.token("client-2", "court", court="astana-civil")
        url = f"/court/v1/webhooks/{endpoint['id']}/messages/{msg['id']}/redeliver"
        assert (await svc.client.post(url, headers=other)).status_code == 404
        assert (await svc.client.post(url, headers=court)).status_code == 202
        [msg] = await eventually(lambda: _status(svc, endpoint["id"], {"delivered"}), message="redelivered")
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 1
    assert msg["log"][-1]["trigger"] == "manual" and msg["log"][-1]["outcome"] == "delivered"


async def test_410_gone_disables_the_endpoint_until_the_court_enables_it(tmp_path, caplog):
    receiver = WebhookReceiver(plan=[410])
    async with receiver.running(), service(tmp_path) as svc:
        endpoint = await register(svc, receiver)
        court = svc.token("client", "court", court=COURT)
        await svc.publish(signed("c-1"))

        async def disabled():
            r = (await svc.client.get(f"/court/v1/webhooks/{endpoint['id']}", headers=court)).json()
            return r["status"] == "disabled" and r

        info = await eventually(disabled, message="endpoint disabled")
        assert "410" in info["disabled_reason"]
        await svc.publish(signed("c-1", 2))
        await eventually(lambda: _status(svc, endpoint["id"], {"failed", "pending"}, count=2), message="queued")
        assert len(receiver.deliveries) == 1  # nothing more is sent to a disabled endpoint
        r = await svc.client.post(f"/court/v1/webhooks/{endpoint['id']}/messages/x/redeliver", headers=court)
        assert r.status_code == 409 and r.json()["type"].endswith("endpoint-disabled")
        assert (await svc.client.post(f"/court/v1/webhooks/{endpoint['id']}/enable", headers=court)).status_code == 200
        await eventually(lambda: len(receiver.deliveries) == 2, message="pending message resumed")
    assert json.loads(receiver.deliveries[1].body)["data"]["version"] == 2
    assert any("410" in r.getMessage() for r in caplog.records)


async def test_during_a_rotation_both_secrets_sign(tmp_path):
    receiver = WebhookReceiver()
    async with receiver.running(), service(tmp_path) as svc:
        endpoint = await register(svc, receiver)
        old = receiver.secrets[0]
        court = svc.token("client", "court", court=COURT)
        r = await svc.client.post(f"/court/v1/webhooks/{endpoint['id']}/rotate-secret", json={"grace_seconds": 3600},
                                  headers=court)
        assert r.status_code == 200, r.text
        new = r.json()["secret"]
        await svc.publish(signed("c-1"))
        await eventually(lambda: len(receiver.deliveries) == 1, message="delivered")
        d = receiver.deliveries[0]
        assert len(d.headers["webhook-signature"].split(" ")) == 2
        for only in (old, new):  # a receiver on either secret accepts it
            receiver.secrets = [only]
            assert receiver.verify(d.body, d.headers)[0]
        receiver.secrets = ["whsec_" + "A" * 43 + "="]
        assert not receiver.verify(d.body, d.headers)[0]
        # Grace over: only the new secret signs.
        r = await svc.client.post(f"/court/v1/webhooks/{endpoint['id']}/rotate-secret", json={"grace_seconds": 0},
                                  headers=court)
        newest = r.json()["secret"]
        await svc.publish(signed("c-1", 2))
        await eventually(lambda: len(receiver.deliveries) == 2, message="delivered again")
        assert len(receiver.deliveries[1].headers["webhook-signature"].split(" ")) == 1
        receiver.secrets = [newest]
        assert receiver.verify(receiver.deliveries[1].body, receiver.deliveries[1].headers)[0]


async def test_bad_urls_are_refused_and_unreachable_endpoints_are_retried_and_logged(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    async with service(tmp_path / "strict", webhook_allow_insecure_urls=False) as svc:
        court = svc.token("client", "court", court=COURT)
        for url in ("not a url", "ftp://court.example/hook", "http://court.example/hook", "https://127.0.0.1/hook",
                    "https://10.1.2.3/hook", "https://localhost/hook", "https://user:pw@court.example/hook",
                    "https://court.example:0/hook", "https:///nohost"):
            r = await svc.client.post("/court/v1/webhooks", json={"url": url}, headers=court)
            assert r.status_code == 422, (url, r.text)
            assert r.headers["content-type"] == "application/problem+json"
        r = await svc.client.post("/court/v1/webhooks", json={"url": "https://court.example/hook",
                                                             "event_types": ["odr.caucus.opened.v1"]}, headers=court)
        assert r.status_code == 422 and r.json()["unknown"] == ["odr.caucus.opened.v1"]
        assert (await svc.client.post("/court/v1/webhooks", json={"url": "https://court.example/hook"},
                                      headers=svc.token("p", "party", cases=["c-1"]))).status_code == 403
        assert (await svc.client.post("/court/v1/webhooks", json={"url": "https://court.example/hook"},
                                      headers=court)).status_code == 201

    nobody = WebhookReceiver(port=free_port())  # never started: connection refused
    async with service(tmp_path / "lax") as svc:
        endpoint = await register(svc, nobody)
        await svc.publish(signed("c-1"))
        [msg] = await eventually(lambda: _status(svc, endpoint["id"], {"failed"}), message="gave up")
    assert [x["outcome"] for x in msg["log"]] == ["network_error"] * 3
    assert all(x["error"] == "ConnectError" for x in msg["log"])
    assert any(r.getMessage() == "webhook attempt failed; will retry" for r in caplog.records)
    assert any(r.getMessage() == "webhook attempts exhausted" for r in caplog.records)


def test_signatures_match_the_specifications_test_vector():
    """The Standard Webhooks test vector, and one signature per secret during a rotation."""
    from services.notifications.channels.webhooks import sign

    secret, msg_id, body = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secrets_=[secret], msg_id=msg_id, timestamp=1614265330, body=body) == expected
    assert sign(secrets_=[secret, secret], msg_id=msg_id, timestamp=1614265330, body=body) == f"{expected} {expected}"


# -- issue 18, finding 4: webhooks only to public addresses ----------------------------------------

LOOPBACK_AND_PRIVATE = [
    # the four: decimal, short and hex spellings of 127.0.0.1, and 0 (0.0.0.0, this host)
    "https://2130706433:9443/x", "https://127.1:9443/x", "https://0x7f.0.0.1:9443/x", "https://0:9443/x",
    "https://0177.0.0.1/x", "https://017700000001/x", "https://0x7f000001/x", "https://127.0.0.1./x",
    "https://[::1]/x", "https://[::ffff:127.0.0.1]/x", "https://[::ffff:7f00:1]/x", "https://[::127.0.0.1]/x",
    "https://[64:ff9b::7f00:1]/x", "https://[2002:7f00:1::]/x", "https://[fe80::1%25eth0]/x", "https://[fc00::1]/x",
    "https://[::]/x", "https://[ff02::1]/x", "https://169.254.169.254/latest/meta-data", "https://10.0.0.1/x",
    "https://172.16.0.1/x", "https://192.168.1.1/x", "https://100.64.0.1/x", "https://224.0.0.1/x",
    "https://240.0.0.1/x", "https://255.255.255.255/x", "https://192.0.2.1/x", "https://intranet/x",
    "https://db.internal/x", "https://LOCALHOST/x", "https://foo.localhost/x",
]


async def test_webhook_urls_to_loopback_or_private_addresses_are_refused_in_every_spelling(tmp_path):
    async with service(tmp_path, webhook_allow_insecure_urls=False) as svc:
        court = svc.token("client", "court", court=COURT)
        for url in LOOPBACK_AND_PRIVATE:
            r = await svc.client.post("/court/v1/webhooks", json={"url": url}, headers=court)
            assert r.status_code == 422, (url, r.status_code, r.text)
        for url in ("https://court.example/hook", "https://93.184.215.14/hook", "https://[2606:4700::1111]/hook"):
            assert (await svc.client.post("/court/v1/webhooks", json={"url": url}, headers=court)).status_code == 201


def _resolving_to(address: str, seen: list[str]):
    async def resolve(host: str, port: int):
        import ipaddress

        seen.append(host)
        return [ipaddress.ip_address(address)]

    return resolve


async def test_a_name_that_resolves_to_loopback_is_refused_when_the_request_is_made(tmp_path):
    """Registration cannot know what a name will resolve to; each request resolves it, checks
    every address, and connects to the checked one. Here the court's name points at the
    platform's loopback, where a receiver listens: nothing reaches it."""
    receiver = WebhookReceiver()
    async with receiver.running(), service(tmp_path, webhook_allow_insecure_urls=False) as svc:
        seen: list[str] = []
        svc.worker("WebhookWorker").transport.resolve = _resolving_to("127.0.0.1", seen)
        court = svc.token("client", "court", court=COURT)
        r = await svc.client.post("/court/v1/webhooks", json={"url": f"https://court.example:{receiver.port}/hooks/odr"},
                                  headers=court)
        assert r.status_code == 201, r.text
        await svc.publish(signed("c-1"))
        [msg] = await eventually(lambda: _status(svc, r.json()["id"], {"failed"}), message="refused on every attempt")
        assert [x["outcome"] for x in msg["log"]] == ["blocked_address"] * 3
        assert seen == ["court.example"] * 3  # resolved again for every attempt
    assert receiver.deliveries == []


async def test_the_request_goes_to_the_checked_address_under_the_courts_name(tmp_path):
    """The connection is pinned to the address that was checked (a later DNS answer cannot move
    it), while the court still sees its own name in Host (and in TLS, the server name)."""
    receiver = WebhookReceiver()
    async with receiver.running(), service(tmp_path) as svc:  # dev: private addresses allowed
        seen: list[str] = []
        svc.worker("WebhookWorker").transport.resolve = _resolving_to("127.0.0.1", seen)
        court = svc.token("client", "court", court=COURT)
        r = await svc.client.post("/court/v1/webhooks", json={"url": f"http://court.example:{receiver.port}/hooks/odr"},
                                  headers=court)
        receiver.secrets.append(r.json()["secret"])
        await svc.publish(signed("c-1"))
        await eventually(lambda: len(receiver.deliveries) == 1, message="delivered to the checked address")
    [delivery] = receiver.deliveries
    assert delivery.headers["host"] == f"court.example:{receiver.port}" and delivery.verified
    assert seen == ["court.example"]


async def test_redirects_are_never_followed(tmp_path):
    receiver = WebhookReceiver(plan=[307, 302, 301], location="http://127.0.0.1:1/elsewhere")
    async with receiver.running(), service(tmp_path) as svc:
        endpoint = await register(svc, receiver)
        await svc.publish(signed("c-1"))
        [msg] = await eventually(lambda: _status(svc, endpoint["id"], {"failed"}), message="three failed attempts")
    assert [(x["outcome"], x["status_code"]) for x in msg["log"]] == [("http_error", 307), ("http_error", 302),
                                                                     ("http_error", 301)]
    assert len(receiver.deliveries) == 3


def test_insecure_webhook_urls_are_refused_outside_dev_mode(tmp_path):
    from types import SimpleNamespace

    import pytest

    from services.notifications.context import Notifier
    from services.notifications.settings import NotificationsSettings
    from shared.config import Settings

    insecure = NotificationsSettings(webhook_allow_insecure_urls=True)
    with pytest.raises(RuntimeError, match="development only"):
        Notifier(SimpleNamespace(settings=Settings(data_dir=tmp_path, dev_mode=False)), insecure)
    assert Notifier(SimpleNamespace(settings=Settings(data_dir=tmp_path, dev_mode=True)), insecure).allow_private_webhooks
    assert not Notifier(SimpleNamespace(settings=Settings(data_dir=tmp_path, dev_mode=False, public_url="https://odr.example")),
                        NotificationsSettings()).allow_private_webhooks


def test_the_address_policy():
    import ipaddress

    from services.notifications.channels.outbound import is_public, literal_address

    for host in ("2130706433", "127.1", "0x7f.0.0.1", "0", "0177.0.0.1", "::1", "::ffff:127.0.0.1", "fe80::1%eth0",
                 "169.254.169.254", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2001::1", "2001:db8::1", "fc00::1"):
        address = literal_address(host)
        assert address is not None and not is_public(address), host
    for host in ("93.184.215.14", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"):
        assert is_public(ipaddress.ip_address(host)), host
    assert literal_address("court.example") is None and literal_address("1.2.3.4.example") is None
