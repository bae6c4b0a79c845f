"""The platform clock: dev mode (and tests) move it ahead through ``/dev/clock`` so answer windows
and reminders can be tried end to end; outside dev mode the route does not exist."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.intake.app import create_app as intake_app
from services.notifications.app import create_app as notifications_app
from services.notifications.settings import NotificationsSettings
from shared import clock
from shared.bus import Message
from shared.config import Settings
from shared.contracts import intake as I
from shared.events import envelope
from tests.services.intake.conftest import Driver
from tests.support.apps import running
from tests.support.keys import production_settings
from tests.support.waiting import eventually


@pytest.fixture(autouse=True)
def real_time_afterwards():
    yield
    clock.set_offset(timedelta(0))


async def test_the_clock_route_is_refused_outside_dev_mode(tmp_path):
    app = intake_app(production_settings(tmp_path, "intake"), configure_logs=False)
    async with running(app) as c:
        for r in (await c.get("/dev/clock"), await c.put("/dev/clock", json={"offset_seconds": 86400})):
            assert r.status_code == 404
            assert r.headers["content-type"] == "application/problem+json"
    assert clock.offset() == timedelta(0)
    assert abs(clock.utcnow() - datetime.now(timezone.utc)) < timedelta(minutes=1)


async def test_moving_the_clock_past_the_answer_window_closes_the_case_as_declined(tmp_path):
    """Silence past the answer window is a refusal (KZ: 10 calendar days): the deadline sweep,
    woken by the moved clock, closes the case; the clock reads eleven days on."""
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="json")
    async with running(intake_app(settings, configure_logs=False)) as c:
        flow = Driver(c)
        case_id, claimant = await flow.file()
        invitation = await flow.invite(case_id, claimant)
        answer_by = datetime.fromisoformat(invitation["answer_by"])
        assert (await c.get(f"/cases/{case_id}", headers=claimant)).json()["status"] == "awaiting_consent"

        r = await c.put("/dev/clock", json={"offset_seconds": 12 * 86400})
        assert r.status_code == 200 and r.json()["offset_seconds"] == 12 * 86400
        assert datetime.fromisoformat(r.json()["now"]) > answer_by

        async def closed():
            case = (await c.get(f"/cases/{case_id}", headers=claimant)).json()
            return case["outcome"] == "declined" and case

        case = await eventually(closed, timeout=60, message="the case closed as declined after the window")
        assert case["status"] != "awaiting_consent"
        # the invitation link expired with the window
        r = await c.get(f"/invitations/{invitation['link_token']}")
        assert r.status_code in (404, 410), r.text


async def test_moving_the_clock_fires_the_answer_window_reminder(tmp_path):
    """The respondent is reminded before the window closes (default: two days before); with the
    clock moved past that moment the reminder reaches their feed at once, in their language."""
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="json", public_url="https://odr.example")
    # a slow poll: the reminder comes from the wake-up the moved clock gives, not from polling
    ns = NotificationsSettings(scheduler_poll_seconds=3600, delivery_poll_seconds=0.05, feed_poll_seconds=0.05)
    app = notifications_app(settings, notifications=ns, configure_logs=False)
    async with running(app) as c:
        cid = str(uuid.uuid4())
        answer_by = clock.utcnow() + timedelta(days=10)
        for event in (I.CaseFiled(case_id=cid, reference="KZ-2026-000007", jurisdiction="KZ", category="civil",
                                  filed_at=clock.utcnow(), claimant_participant_id="p-c"),
                      I.RespondentInvited(case_id=cid, invitation_id="inv-1", respondent_participant_id="p-r",
                                          language="kk", answer_by=answer_by)):
            await app.state.runtime.bus.publish([Message(topic=event.topic, key=cid,
                                                         value=envelope(event, source="/odr/test").to_bytes())])
        token = app.state.runtime.tokens.issue(subject="p-r", role="party", cases=[cid], party_side="respondent")
        headers = {"Authorization": f"Bearer {token}"}

        async def kinds():
            r = await c.get("/feed", headers=headers)
            return sorted(i["kind"] for i in r.json()["items"])

        assert await eventually(kinds, message="the invitation notice") == ["invitation"]
        r = await c.put("/dev/clock", json={"offset_seconds": 9 * 86400})
        assert r.status_code == 200

        async def reminded():
            return "answer_window_closing" in await kinds()

        await eventually(reminded, timeout=60, message="the answer-window reminder")
        items = (await c.get("/feed", headers=headers)).json()["items"]
        reminder = next(i for i in items if i["kind"] == "answer_window_closing")
        assert "KZ-2026-000007" in reminder["title"]
