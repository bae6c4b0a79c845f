"""Notices and emails name the case as people do (its reference, KZ-2026-000123, never its id),
and their links lead to the address the platform is reached at: ``ODR_PUBLIC_URL``, or in dev
mode without it the address the request came to; outside dev mode the service will not start
without it."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from shared.config import ConfigurationError, Settings
from shared.contracts import intake as I
from tests.support.apps import running
from tests.support.keys import production_settings
from tests.support.waiting import eventually

from .conftest import FAST, service

REFERENCE = "KZ-2026-000123"


async def test_the_notice_and_the_email_name_the_case_by_its_reference(svc):
    cid = str(uuid.uuid4())
    r = await svc.client.put("/contacts/p-c", json={"email": "aigerim@example.kz"}, headers=svc.token("ops", "admin"))
    assert r.status_code == 200, r.text
    await svc.publish(I.CaseFiled(case_id=cid, reference=REFERENCE, jurisdiction="KZ", category="civil",
                                  filed_at=datetime.now(timezone.utc), claimant_participant_id="p-c"))
    headers = svc.token("p-c", cases=[cid], side="claimant")

    async def fed():
        items = (await svc.client.get("/feed", headers=headers)).json()["items"]
        return items or None

    [notice] = await eventually(fed, message="the filer's notice")
    assert REFERENCE in notice["title"] and cid[:8] not in notice["title"]
    assert notice["case_reference"] == REFERENCE

    async def mail():
        return (await svc.client.get("/mailbox.json")).json()["items"] or None

    [email] = await eventually(mail, message="the receipt email")
    assert REFERENCE in email["subject"] and REFERENCE in email["text"]
    assert cid[:8] not in email["subject"]
    # the id may stay in the link (URLs keep ids), nowhere else in what the person reads
    assert email["text"].replace(f"https://odr.example/cases/{cid}", "").count(cid[:8]) == 0


async def test_in_dev_mode_without_a_public_url_links_follow_the_request(tmp_path):
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="json")
    async with service(tmp_path, settings=settings) as svc:
        cid = str(uuid.uuid4())
        await svc.publish(I.CaseFiled(case_id=cid, reference=REFERENCE, jurisdiction="KZ", category="civil",
                                      filed_at=datetime.now(timezone.utc), claimant_participant_id="p-c"))
        headers = svc.token("p-c", cases=[cid], side="claimant")

        async def fed(port: int):
            r = await svc.client.get(f"http://127.0.0.1:{port}/feed", headers=headers)
            return r.json()["items"] or None

        assert (await eventually(lambda: fed(8123), message="notice"))[0]["link"] == f"http://127.0.0.1:8123/cases/{cid}"
        assert (await fed(9000))[0]["link"] == f"http://127.0.0.1:9000/cases/{cid}"


async def test_the_public_url_is_used_whatever_the_request(tmp_path):
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="json", public_url="https://mediation.example.kz/")
    async with service(tmp_path, settings=settings) as svc:
        cid = str(uuid.uuid4())
        await svc.publish(I.CaseFiled(case_id=cid, reference=REFERENCE, jurisdiction="KZ", category="civil",
                                      filed_at=datetime.now(timezone.utc), claimant_participant_id="p-c"))
        headers = svc.token("p-c", cases=[cid], side="claimant")

        async def fed():
            return (await svc.client.get("http://127.0.0.1:8123/feed", headers=headers)).json()["items"] or None

        assert (await eventually(fed, message="notice"))[0]["link"] == f"https://mediation.example.kz/cases/{cid}"


async def test_outside_dev_mode_the_service_refuses_to_start_without_a_public_url(tmp_path):
    settings = production_settings(tmp_path, "notifications", public_url=None)
    with pytest.raises(ConfigurationError, match="ODR_PUBLIC_URL"):
        create_app(settings, notifications=NotificationsSettings(**{**FAST, "webhook_allow_insecure_urls": False}),
                   configure_logs=False)
    # with it, the service starts and its links lead there
    settings = production_settings(tmp_path, "notifications", public_url="https://odr.example.kz")
    app = create_app(settings, notifications=NotificationsSettings(**{**FAST, "webhook_allow_insecure_urls": False}),
                     configure_logs=False)
    async with running(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert app.state.runtime.context.link_base() == "https://odr.example.kz"
