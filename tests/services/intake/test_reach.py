"""Reach and return on the embedded run (all four services behind the gateway, mail over real
SMTP): the platform itself delivers invitations and sign-in links, in production mode without any
dev convenience; "email me a link" opens every case of an address, closed ones too (the signed PDF
downloadable), and answers the same for an unknown address; requests are rate-limited; a link's
secret is nowhere in the clear: not in an event, the outbox, the bus, a database or a log."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from odr.gateway import create_gateway
from shared.config import Settings
from tests.services.agreements.conftest import complete_content
from tests.services.notifications.servers import MailServer
from tests.support.apps import running
from tests.support.keys import production_settings
from tests.support.waiting import eventually

from .conftest import KZ_CONSENT, Driver, bearer, parties

BASE = "https://odr.example"


@pytest.fixture
def smtp(monkeypatch):
    with MailServer() as server:
        for name, value in (("EMAIL_TRANSPORT", "smtp"), ("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", str(server.port)),
                            ("DELIVERY_POLL_SECONDS", "0.1")):
            monkeypatch.setenv(f"ODR_NOTIFICATIONS_{name}", value)
        monkeypatch.setenv("ODR_PUBLIC_URL", BASE)
        yield server


def filing(email: str, *, respondent_email: str | None = None, language: str = "ru") -> dict:
    people = parties()
    people[0] = {**people[0], "language": language, "contact": {"email": email}}
    if respondent_email:
        people[1] = {**people[1], "contact": {"email": respondent_email}}
    return {"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice for deliveries", "parties": people}


async def file(client, body: dict) -> tuple[str, dict]:
    r = await client.post("/intake/cases", json=body)
    assert r.status_code == 201, r.text
    return r.json()["case"]["id"], bearer(r.json()["access_token"])


def mails_to(smtp: MailServer, address: str) -> list:
    return [m for m in list(smtp.accepted) if m["To"] == address]


async def one_new_mail(smtp: MailServer, address: str, seen: int = 0):
    """The next email to ``address`` (after the ``seen`` first ones), read from the SMTP server."""
    found = await eventually(lambda: len(mails_to(smtp, address)) > seen and mails_to(smtp, address), timeout=60,
                             message=f"an email to {address}")
    return found[seen]


def link_in(msg, path: str) -> str:
    """The token of the ``path`` link (``sign-in`` or ``invitations``) a person would click."""
    text = msg.get_body(("plain",)).get_content()
    match = re.search(rf"{re.escape(BASE)}/{path}/([A-Za-z0-9_-]+)", text)
    assert match, text
    html = msg.get_body(("html",)).get_content()
    assert f'href="{BASE}/{path}/{match.group(1)}"' in html
    return match.group(1)


def files_holding(root: Path, secret: str) -> list[str]:
    """Every file under ``root`` (databases, their WAL, the event log, logs) that holds ``secret``."""
    needle = secret.encode()
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_in_production_mode_the_platform_sends_every_link_and_none_is_in_the_clear(tmp_path, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    settings = production_settings(tmp_path, log_format="text")
    async with running(create_gateway(settings)) as client:
        # Maria filed two cases; another person filed with an address of their own.
        maria = "maria.ivanova@example.kz"
        first, first_claimant = await file(client, filing(maria, respondent_email="dala@example.kz"))
        second, _ = await file(client, filing("Maria.Ivanova@Example.KZ"))  # the same address, written otherwise
        await file(client, filing("someone.else@example.kz"))

        # "Email me a link": the answer for a known and an unknown address is the same.
        known = await client.post("/intake/auth/email-links", json={"email": maria, "language": "ru"})
        unknown = await client.post("/intake/auth/email-links", json={"email": "nobody@example.kz", "language": "ru"})
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json() == {"status": "sent_if_known", "expires_in_minutes": 30}
        assert set(known.headers) - {"x-request-id"} == set(unknown.headers) - {"x-request-id"}
        assert len(known.content) == len(unknown.content)

        mail = await one_new_mail(smtp, maria)
        assert mail["Subject"] == "Ваша ссылка для входа" and mail["Content-Language"] == "ru"
        token = link_in(mail, "sign-in")
        signed_in = await client.post("/intake/auth/links/exchange", json={"token": token})
        assert signed_in.status_code == 200, signed_in.text
        opened = {c["case_id"]: c for c in signed_in.json()["cases"]}
        assert set(opened) == {first, second} and {c["side"] for c in opened.values()} == {"claimant"}
        for case_id, access in opened.items():
            r = await client.get(f"/intake/cases/{case_id}", headers=bearer(access["access_token"]))
            assert r.status_code == 200 and r.json()["id"] == case_id
        # one case's token opens only that case
        other = bearer(opened[first]["access_token"])
        assert (await client.get(f"/intake/cases/{second}", headers=other)).status_code == 404
        again = await client.post("/intake/auth/links/exchange", json={"token": token})
        assert again.status_code == 410 and again.json()["type"].endswith("/link-used")

        # The invitation goes out by itself to the address the filing gave, and "send it for me"
        # sends the same link again to an address the claimant types, in the language chosen.
        made = await client.post(f"/intake/cases/{first}/invitations", json={"side": "respondent"},
                                 headers=first_claimant)
        assert made.status_code == 201
        invitation = made.json()["link_token"]
        assert link_in(await one_new_mail(smtp, "dala@example.kz"), "invitations") == invitation
        sent = await client.post(f"/intake/cases/{first}/invitations/delivery", headers=first_claimant,
                                 json={"side": "respondent", "email": "director@dala.kz", "language": "kk"})
        assert sent.status_code == 202, sent.text
        assert sent.json()["sent_to"] == "d***@dala.kz" and sent.json()["language"] == "kk"
        mail = await one_new_mail(smtp, "director@dala.kz")
        assert mail["Content-Language"] == "kk" and "Сізді медиацияға шақырады" in mail["Subject"]
        assert link_in(mail, "invitations") == invitation
        answered = await client.post(f"/intake/invitations/{invitation}/answer", json={
            "decision": "consent", "text_version": KZ_CONSENT, "language": "kk", "email": "director@dala.kz"})
        assert answered.status_code == 200, answered.text

        # A party's sign-in link for one case: sent, never in the answer outside dev mode.
        asked = await client.post(f"/intake/cases/{first}/sign-in-links", json={"side": "respondent"})
        assert asked.status_code == 202 and asked.json()["delivery"] == "sent" and asked.json()["link_token"] is None
        case_link = link_in(await one_new_mail(smtp, "director@dala.kz", seen=1), "sign-in")
        signed_in = (await client.post("/intake/auth/links/exchange", json={"token": case_link})).json()
        assert [(c["case_id"], c["side"]) for c in signed_in["cases"]] == [(first, "respondent")]

        # The respondent's own address now finds their case too.
        await client.post("/intake/auth/email-links", json={"email": "director@dala.kz"})
        mail = await one_new_mail(smtp, "director@dala.kz", seen=2)
        assert mail["Content-Language"] == "kk"
        links = [token, invitation, case_link, link_in(mail, "sign-in")]

        # The in-app feed never lists a link.
        async def feed_settled():
            r = await client.get("/notifications/feed", headers=first_claimant)
            return r.status_code == 200 and r.json()["items"] and r.json()["items"]
        items = await eventually(feed_settled, timeout=60, message="the claimant's feed")
        assert not [i for i in items if i["kind"].endswith("_link")]

    # Nowhere in the clear: not in a database (intake's outbox, notifications' notices), the event
    # log, a log file or a log record.
    for secret in links:
        assert files_holding(settings.data_dir, secret) == []
        assert files_holding(tmp_path, secret) == []
        logged = "\n".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records)
        assert secret not in logged
    assert "maria.ivanova@example.kz" not in logged and "director@dala.kz" not in logged


async def test_email_me_a_link_is_limited_per_address_and_per_client(tmp_path, smtp):
    settings = Settings(data_dir=tmp_path, dev_mode=True, rate_limit_sign_in_links="2 per hour",
                        rate_limit_sign_in_links_address="8 per hour")
    async with running(create_gateway(settings)) as client:
        await file(client, filing("asel@example.kz"))

        async def ask(email: str) -> int:
            r = await client.post("/intake/auth/email-links", json={"email": email})
            assert r.status_code != 429 or (r.json()["type"].endswith("/too-many-requests") and "Retry-After" in r.headers)
            return r.status_code

        # per address: a known address and an unknown one alike (the limit tells nothing either)
        assert [await ask("asel@example.kz") for _ in range(3)] == [202, 202, 429]
        assert [await ask("who@example.kz") for _ in range(3)] == [202, 202, 429]
        # per client: this client's 8 requests an hour are spent, whatever the address
        assert [await ask(f"new{i}@example.kz") for i in range(3)] == [202, 202, 429]
        # only the newest link of an address works
        await eventually(lambda: len(mails_to(smtp, "asel@example.kz")) == 2, timeout=60, message="two links")
        # (the two emails may arrive in either order: the delivery worker does not promise one)
        tokens = [link_in(m, "sign-in") for m in mails_to(smtp, "asel@example.kz")]
        answers = [(await client.post("/intake/auth/links/exchange", json={"token": t})).status_code for t in tokens]
        assert sorted(answers) == [200, 410], answers


async def test_a_settled_case_opens_read_only_through_the_link_and_its_pdf_downloads(tmp_path, smtp):
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="text")
    async with running(create_gateway(settings)) as client:
        d = Driver(client, "/intake")
        admin = await d.admin()
        mediator_id, username = await d.mediator(admin)
        case_id, claimant, respondent = await d.to_eligible(**filing("aigerim@example.kz", language="kk"))
        mediator = await d.assign(case_id, claimant, respondent, mediator_id, username)
        for who in (claimant, respondent, mediator):
            await d.sign(case_id, who)

        async def drafted():
            r = await client.post("/agreements/agreements", headers=mediator,
                                  json={"case_id": case_id, "language": "ru", "content": complete_content()})
            return r.json() if r.status_code == 201 else None

        draft = await eventually(drafted, timeout=60, message="agreements learned of the case")
        sent = await client.post(f"/agreements/agreements/{draft['id']}/signature-request", json={"version": 1},
                                 headers=mediator)
        assert sent.status_code == 200, sent.text
        for who in (claimant, respondent, mediator):
            r = await client.post(f"/agreements/agreements/{draft['id']}/signatures", headers=who,
                                  json={"version": 1, "document_hash": draft["document_hash"]})
            assert r.status_code == 200, r.text
        async def settled():
            return (await client.get(f"/intake/cases/{case_id}", headers=claimant)).json()["status"] == "settled"

        await eventually(settled, timeout=60, message="intake settled the case")

        # A day later, on another device: nothing in this browser, only the address.
        r = await client.post("/intake/auth/email-links", json={"email": "aigerim@example.kz"})
        assert r.status_code == 202
        mail = await one_new_mail(smtp, "aigerim@example.kz")
        assert mail["Content-Language"] == "kk"
        opened = (await client.post("/intake/auth/links/exchange", json={"token": link_in(mail, "sign-in")})).json()
        assert [(c["case_id"], c["status"], c["outcome"]) for c in opened["cases"]] == [(case_id, "settled", "settled")]
        me = bearer(opened["cases"][0]["access_token"])
        case = (await client.get(f"/intake/cases/{case_id}", headers=me)).json()
        assert case["status"] == "settled" and case["allowed_operations"] == []  # read-only
        listed = (await client.get(f"/agreements/agreements?case_id={case_id}", headers=me)).json()
        assert [a["id"] for a in listed["items"]] == [draft["id"]]
        pdf = await client.get(f"/agreements/agreements/{draft['id']}/pdf", headers=me)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        # the per-case sign-in link works for the closed case too
        asked = await client.post(f"/intake/cases/{case_id}/sign-in-links", json={"side": "claimant"})
        assert asked.status_code == 202
        # ... and the mediator, signing in again after the close, reads it and downloads the PDF too
        # (a mediator's new token reaches the cases they mediated to the end, not only open ones)
        again = await d.login(username)
        listed = (await client.get(f"/agreements/agreements?case_id={case_id}", headers=again)).json()
        assert [a["id"] for a in listed.get("items", [])] == [draft["id"]], listed
        pdf = await client.get(f"/agreements/agreements/{draft['id']}/pdf", headers=again)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
