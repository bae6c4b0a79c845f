"""Sittings reach everyone as calendar invitations: an ``.ics`` that a calendar library reads back at
the right local time in the case's zone, in each recipient's language, over real SMTP; a move
updates the same event (same UID, higher SEQUENCE) and moves the 24 h and 1 h reminders; a
cancellation withdraws it (METHOD:CANCEL) and removes the reminders."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from services.notifications import calendar
from services.notifications.models import ScheduledJob
from shared.contracts import intake as I
from tests.support.waiting import eventually

from .conftest import service
from .servers import MailServer

ALMATY = ZoneInfo("Asia/Almaty")
CID = "c-sit-0001"


def agreed() -> I.MediationAgreed:
    return I.MediationAgreed(case_id=CID, mediator_id="m-1", term_ends_on=date(2027, 1, 31), time_zone="Asia/Almaty",
                             participants=[
                                 I.Participant(participant_id="p-c", role="party", side="claimant", language="ru"),
                                 I.Participant(participant_id="p-r", role="party", side="respondent", language="kk"),
                                 I.Participant(participant_id="m-1", role="mediator", language="en")])


def fixed(starts: datetime, sequence: int) -> I.SittingFixed:
    return I.SittingFixed(case_id=CID, sitting_id="s-1", starts_at=starts, ends_at=starts + timedelta(hours=2),
                          sequence=sequence, time_zone="Asia/Almaty")


def parse(msg) -> icalendar.Calendar:
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invite.ics"
    return icalendar.Calendar.from_ical(part.get_content())


def event_of(cal: icalendar.Calendar) -> icalendar.Event:
    [event] = cal.walk("VEVENT")
    return event


def test_the_invitation_parses_and_shows_the_local_time_in_almaty():
    starts = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)  # 15:00 in Almaty (UTC+5)
    inv = calendar.invitation(kind="sitting_fixed", time_zone="Asia/Almaty", summary="Встреча по медиации",
                              params={"sitting_id": "s-1", "starts_at": starts.isoformat(),
                                      "ends_at": (starts + timedelta(hours=2)).isoformat(), "sequence": 0},
                              link="https://odr.example/cases/c-1", organizer="ODR <no-reply@odr.example>",
                              attendee="party@example.org", language="ru", domain="odr.example")
    assert inv.method == "REQUEST"
    cal = icalendar.Calendar.from_ical(inv.data)
    assert cal["METHOD"] == "REQUEST"
    [tz] = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Asia/Almaty"
    event = event_of(cal)
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and str(event["DTSTART"].params["TZID"]) == "Asia/Almaty"
    assert (start.hour, start.minute) == (15, 0) and start == starts
    assert event.decoded("DTEND") - start == timedelta(hours=2)
    assert str(event["UID"]) == "sitting-s-1@odr.example" and event["SEQUENCE"] == 0
    assert str(event["SUMMARY"]) == "Встреча по медиации" and str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:no-reply@odr.example"
    assert [str(a) for a in [event["ATTENDEE"]]] == ["mailto:party@example.org"]  # only the recipient


async def jobs(svc) -> dict[str, ScheduledJob]:
    async with svc.runtime.session_factory() as s:
        return {j.ref: j for j in (await s.execute(select(ScheduledJob).where(
            ScheduledJob.kind == "sitting_reminder"))).scalars()}


async def test_invitations_go_over_smtp_in_each_language_and_follow_the_sitting(tmp_path):
    with MailServer() as smtp:
        async with service(tmp_path, email_transport="smtp", smtp_host="127.0.0.1", smtp_port=smtp.port,
                           session_reminders_seconds=[86400, 3600]) as svc:
            admin = svc.token("ops", "admin")
            addresses = {"p-c": "ru@example.org", "p-r": "kk@example.org", "m-1": "mediator@example.org"}
            for pid, address in addresses.items():
                r = await svc.client.put(f"/contacts/{pid}", json={"email": address}, headers=admin)
                assert r.status_code == 200
            await svc.publish(agreed())
            await eventually(lambda: len(smtp.accepted) == 3, message="mediation started emails")

            # Fixed in three days, at 15:00 in Almaty (10:00 UTC).
            first = datetime.now(timezone.utc).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=3)
            await svc.publish(I.SittingProposed(case_id=CID, sitting_id="s-1", slots=[first]), fixed(first, 0))
            await eventually(lambda: len(smtp.accepted) == 3 + 2 + 3, message="proposal and invitation emails")
            invites = {m["To"]: m for m in smtp.accepted[3:] if any(True for _ in m.iter_attachments())}
            assert set(invites) == set(addresses.values())
            proposals = [m for m in smtp.accepted[3:] if not any(True for _ in m.iter_attachments())]
            assert sorted(m["To"] for m in proposals) == ["kk@example.org", "ru@example.org"]  # the parties answer

            local = first.astimezone(ALMATY)
            ru, kk, en = invites["ru@example.org"], invites["kk@example.org"], invites["mediator@example.org"]
            assert ru["Subject"].startswith(f"Встреча по медиации {local:%d.%m.%Y} 15:00 (время Алматы)")
            assert kk["Subject"].startswith(f"Медиация кездесуі {local:%d.%m.%Y} 15:00")
            assert en["Subject"].startswith("Mediation sitting on ") and "15:00" in en["Subject"]
            for msg in (ru, kk, en):
                cal = parse(msg)
                event = event_of(cal)
                assert cal["METHOD"] == "REQUEST" and event["SEQUENCE"] == 0
                assert event.decoded("DTSTART").astimezone(ALMATY).strftime("%H:%M") == "15:00"
                assert str(event["SUMMARY"]) == msg["Subject"]
                assert str(event["ATTENDEE"]) == f"mailto:{msg['To']}"
                assert "https://odr.example/cases/" + CID in msg.get_body(("plain",)).get_content()
            uid = str(event_of(parse(ru))["UID"])
            before = await eventually(lambda: _two(svc), message="two reminders")
            assert before["s-1:86400"].due_at == first - timedelta(hours=24)
            assert before["s-1:3600"].due_at == first - timedelta(hours=1)

            # Moved by a day: the same event, one more SEQUENCE; the reminders move with it.
            moved = first + timedelta(days=1, hours=1)
            await svc.publish(fixed(moved, 1))
            await eventually(lambda: len(smtp.accepted) == 11, message="updated invitations")
            updates = {m["To"]: m for m in smtp.accepted[8:]}
            assert updates["ru@example.org"]["Subject"].startswith("Встреча перенесена на")
            for msg in updates.values():
                event = event_of(parse(msg))
                assert str(event["UID"]) == uid and event["SEQUENCE"] == 1
                assert event.decoded("DTSTART") == moved
            after = await jobs(svc)
            assert after["s-1:86400"].due_at == moved - timedelta(hours=24)
            assert after["s-1:3600"].due_at == moved - timedelta(hours=1)
            assert after["s-1:3600"].generation == before["s-1:3600"].generation + 1
            assert {j.status for j in after.values()} == {"pending"}

            # A reminder due now reaches everyone, critical, in their language.
            await svc.worker("Scheduler").run_once(now=moved - timedelta(hours=23))
            r = await svc.client.get("/feed", headers=svc.token("p-r", cases=[CID], side="respondent"))
            [reminder] = [i for i in r.json()["items"] if i["kind"] == "sitting_reminder"]
            assert reminder["critical"] and reminder["title"].startswith("Еске салу: кездесу 24 сағаттан кейін")

            # Cancelled: METHOD:CANCEL for the same event, and the 1 h reminder is gone.
            await svc.publish(I.SittingCancelled(case_id=CID, sitting_id="s-1", starts_at=moved,
                                                 ends_at=moved + timedelta(hours=2), sequence=2))
            await eventually(lambda: len([m for m in smtp.accepted if m["Subject"] and "отменена" in m["Subject"]]) == 1,
                             message="cancellation")
            await eventually(lambda: len([m for m in smtp.accepted[11:] if parse_method(m) == "CANCEL"]) == 3,
                             message="three cancellations")
            for msg in smtp.accepted[11:]:
                if parse_method(msg) == "CANCEL":
                    event = event_of(parse(msg))
                    assert str(event["UID"]) == uid and event["SEQUENCE"] == 2 and str(event["STATUS"]) == "CANCELLED"
            final = await jobs(svc)
            assert final["s-1:3600"].status == "cancelled" and final["s-1:86400"].status == "done"
            await svc.worker("Scheduler").run_once(now=moved)
            r = await svc.client.get("/feed", headers=svc.token("p-r", cases=[CID], side="respondent"))
            assert len([i for i in r.json()["items"] if i["kind"] == "sitting_reminder"]) == 1


def parse_method(msg) -> str | None:
    parts = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    return str(icalendar.Calendar.from_ical(parts[0].get_content())["METHOD"]) if parts else None


async def _two(svc):
    rows = await jobs(svc)
    return len(rows) == 2 and rows


async def test_a_closed_cases_sitting_is_withdrawn_and_its_reminders_are_not_sent(tmp_path):
    # A settled case keeps its obligation reminders; its sittings' reminders go all the same.
    async with service(tmp_path, session_reminders_seconds=[86400, 3600]) as svc:
        await svc.publish(agreed())
        starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
        await svc.publish(fixed(starts, 0))
        await eventually(lambda: _two(svc), message="two reminders")

        # What intake publishes when the case closes: the sitting's cancellation, then the closing.
        await svc.publish(I.SittingCancelled(case_id=CID, sitting_id="s-1", starts_at=starts,
                                             ends_at=starts + timedelta(hours=2), sequence=1, time_zone="Asia/Almaty"),
                          I.CaseClosed(case_id=CID, outcome="settled"))
        party = svc.token("p-r", cases=[CID], side="respondent")

        async def kinds():
            return [i["kind"] for i in (await svc.client.get("/feed", headers=party)).json()["items"]]

        await eventually(lambda: _told(kinds, "case_closed"), message="the closing notice")
        assert "sitting_cancelled" in await kinds()
        assert {j.status for j in (await jobs(svc)).values()} == {"cancelled"}
        for lead in (timedelta(hours=24), timedelta(hours=1), timedelta(0)):
            await svc.worker("Scheduler").run_once(now=starts - lead)
        assert "sitting_reminder" not in await kinds()


async def _told(kinds, kind: str) -> bool:
    return kind in await kinds()
