"""The in-app feed and its live push (server-sent events over a real HTTP server), contact details
sealed at rest and never logged, and who may see or change what."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import uvicorn
from sqlalchemy import select

from services.notifications.models import Contact
from shared.contracts import agreements as A
from shared.contracts import sessions as S
from tests.support.waiting import eventually

from .conftest import service
from .servers import free_port
from .test_notices import agreed, feed

CID = "c-feed"


async def _sse_events(response, n):
    events, current = [], {}
    async for line in response.aiter_lines():
        if not line:
            if current.get("event") == "notification":
                events.append(current)
                if len(events) == n:
                    return events
            current = {}
            continue
        name, _, value = line.partition(":")
        current[name] = value.strip()
    return events


async def test_new_notices_are_pushed_live_and_a_reconnect_resumes(tmp_path):
    async with service(tmp_path) as svc:
        await svc.publish(agreed(CID))
        await eventually(lambda: feed(svc, "p-r", CID), message="agreed")
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(svc.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        token = svc.runtime.tokens.issue(subject="respondent:" + CID, role="party", cases=[CID], party_side="respondent")
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                async with http.stream("GET", "/feed/stream", params={"access_token": token}) as r:
                    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
                    await svc.publish(S.CaucusOpened(case_id=CID, session_id="s-1", side="respondent"))
                    [pushed] = await asyncio.wait_for(_sse_events(r, 1), 10)
                data = json.loads(pushed["data"])
                assert data["kind"] == "caucus_requested" and pushed["id"] == data["id"]
                assert data["title"].startswith("Медиатор сізді жеке кездесуге")  # p-r reads Kazakh
                # Missed while disconnected, delivered on reconnect (Last-Event-ID).
                await svc.publish(A.DraftReady(case_id=CID, agreement_id="a-1", version=1))
                await eventually(lambda: _has(svc, "draft_ready"), message="draft noticed")
                async with http.stream("GET", "/feed/stream", headers={"Authorization": f"Bearer {token}",
                                                                       "Last-Event-ID": pushed["id"]}) as r:
                    [resumed] = await asyncio.wait_for(_sse_events(r, 1), 10)
                assert json.loads(resumed["data"])["kind"] == "draft_ready"
                assert (await http.get("/feed/stream")).status_code == 401
        finally:
            server.should_exit = True
            await task


async def _has(svc, kind):
    return kind in [i["kind"] for i in await feed(svc, "p-r", CID)]


async def test_a_party_sees_only_its_side_and_case_and_can_mark_read(tmp_path):
    async with service(tmp_path) as svc:
        await svc.publish(agreed(CID), S.CaucusOpened(case_id=CID, session_id="s-1", side="respondent"))
        await eventually(lambda: _has(svc, "caucus_requested"), message="caucus")
        claimant = svc.token(f"claimant:{CID}", cases=[CID], side="claimant")
        respondent = svc.token(f"respondent:{CID}", cases=[CID], side="respondent")
        elsewhere = svc.token(f"respondent:other", cases=["other"], side="respondent")
        mine = (await svc.client.get("/feed", headers=respondent)).json()["items"]
        assert sorted(i["kind"] for i in mine) == ["caucus_requested", "mediation_started"]
        assert [i["kind"] for i in (await svc.client.get("/feed", headers=claimant)).json()["items"]] == ["mediation_started"]
        assert (await svc.client.get("/feed", headers=elsewhere)).json()["items"] == []
        assert (await svc.client.get("/feed")).status_code == 401
        caucus = next(i for i in mine if i["kind"] == "caucus_requested")
        assert (await svc.client.post(f"/feed/{caucus['id']}/read", headers=claimant)).status_code == 404
        assert (await svc.client.post(f"/feed/{caucus['id']}/read", headers=respondent)).status_code == 204
        assert next(i for i in (await svc.client.get("/feed", headers=respondent)).json()["items"]
                    if i["id"] == caucus["id"])["read"] is True


async def test_contact_details_are_sealed_masked_and_never_logged(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="odr")
    async with service(tmp_path) as svc:
        # No notices are queued here: the dev mailbox would hold a rendered email with its To address.
        claimant = svc.token("p-c", cases=[CID])
        r = await svc.client.put("/contacts/p-c", json={"email": "aigerim.secret@example.kz", "phone": "+77011234567"},
                                 headers=claimant)
        assert r.status_code == 200, r.text
        assert r.json() == {"participant_id": "p-c", "email": "a***@example.kz", "phone": "+770******67"}
        # Someone else's details: refused, whatever the role short of admin.
        for who in (claimant, svc.token("p-x", cases=[CID]), svc.token("m-1", "mediator", cases=[CID]),
                    svc.token("client", "court", court="x")):
            assert (await svc.client.put("/contacts/p-r", json={"email": "x@example.org"}, headers=who)).status_code == 403
        assert (await svc.client.put("/contacts/p-r", json={"email": "r@example.org"},
                                     headers=svc.token("ops", "admin"))).status_code == 200
        bad = await svc.client.put("/contacts/p-c", json={"email": "not-an-address\r\nBcc: x@evil"}, headers=claimant)
        assert bad.status_code == 422 and "evil" not in bad.text
        undeliverable = await svc.client.put("/contacts/p-c", json={"email": "maria@mail"}, headers=claimant)
        assert undeliverable.status_code == 422  # no dotted domain: refused, not kept and never sent
        # Omitted fields are kept; null erases.
        r = await svc.client.put("/contacts/p-c", json={"phone": None}, headers=claimant)
        assert r.json() == {"participant_id": "p-c", "email": "a***@example.kz", "phone": None}
        async with svc.runtime.session_factory() as s:
            raw = (await s.execute(select(Contact).where(Contact.participant_id == "p-c"))).scalar_one()
        assert b"aigerim" not in raw.email_sealed and b"example.kz" not in raw.email_sealed
        db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("notifications.sqlite3*"))
        assert b"aigerim.secret" not in db_bytes
        # A sealed value moved to another participant does not open.
        async with svc.runtime.session_factory() as s:
            other = await s.get(Contact, "p-r")
            other.email_sealed = raw.email_sealed
            await s.commit()
        assert (await svc.client.get("/contacts/p-r", headers=svc.token("ops", "admin"))).json()["type"].endswith("contact-unreadable")
    assert "aigerim" not in caplog.text and "7011234567" not in caplog.text


async def test_preferences_choose_channels_and_language(tmp_path):
    async with service(tmp_path) as svc:
        await svc.publish(agreed(CID))
        await eventually(lambda: feed(svc, "p-i", CID), message="agreed")
        interpreter = svc.token("p-i", cases=[CID])
        assert (await svc.client.get("/preferences", headers=interpreter)).json()["channels"] == ["in_app", "email"]
        r = await svc.client.put("/preferences", json={"channels": ["in_app", "sms"], "language": "ru"}, headers=interpreter)
        assert r.status_code == 200 and r.json()["language"] == "ru"
        assert (await svc.client.put("/preferences", json={"channels": ["fax"]}, headers=interpreter)).status_code == 422
        assert (await svc.client.put("/preferences", json={"quiet_hours": {"start": "25:00", "end": "07:00"}},
                                     headers=interpreter)).status_code == 422
        await svc.client.put("/contacts/p-i", json={"phone": "+77001112233", "email": "i@example.org"}, headers=interpreter)
        await svc.publish(S.SessionScheduled(case_id=CID, session_id="s-9",
                                             starts_at=__import__("datetime").datetime(2030, 1, 1, tzinfo=__import__("datetime").timezone.utc)))
        await eventually(lambda: len(svc.notifier.sms.sent) == 1, message="one SMS")
        items = await feed(svc, "p-i", CID)
        assert next(i for i in items if i["kind"] == "session_scheduled")["title"].startswith("Назначена сессия")
        mails = (await svc.client.get("/mailbox.json")).json()["items"]
        # Email switched off (the earlier notice may have gone out before the address was set).
        assert [m for m in mails if m["recipient"] == "p-i" and "сессия" in m["subject"].lower()] == []
