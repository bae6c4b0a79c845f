"""Reminders from the durable scheduler (they survive a restart, move with a rescheduled session,
stop when a session starts), and quiet hours that hold ordinary email but never critical notices."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.notifications.models import Delivery, ScheduledJob
from shared.contracts import agreements as A
from shared.contracts import intake as I
from shared.contracts import sessions as S
from tests.support.waiting import eventually

from .conftest import service
from .test_notices import agreed, feed, mailbox, set_email


async def jobs(svc):
    async with svc.runtime.session_factory() as s:
        return list((await s.execute(select(ScheduledJob).order_by(ScheduledJob.ref))).scalars())


async def kinds_as(svc, subject, cid, role, kind):
    return [i for i in await feed(svc, subject, cid, role) if i["kind"] == kind]


async def kinds(svc, subject, cid, kind):
    return [i for i in await feed(svc, subject, cid) if i["kind"] == kind]


async def test_session_reminders_survive_a_restart_and_fire_once(tmp_path):
    cid = "c-rem"
    soon = 1.5
    async with service(tmp_path, session_reminders_seconds=[86400, 3600]) as svc:
        await svc.publish(agreed(cid))
        await eventually(lambda: feed(svc, "p-c", cid), message="agreed")
        starts = datetime.now(timezone.utc) + timedelta(seconds=86400 + soon)
        await svc.publish(S.SessionScheduled(case_id=cid, session_id="s-1", starts_at=starts))
        pending = await eventually(lambda: _pending(svc, 2), message="two reminders scheduled")
        assert {j.ref for j in pending} == {"s-1:86400", "s-1:3600"}
    # The service is down when the 24 h reminder falls due.
    async with service(tmp_path, session_reminders_seconds=[86400, 3600]) as svc:
        [reminder] = await eventually(lambda: kinds(svc, "p-r", cid, "session_reminder"), message="24 h reminder")
        assert reminder["critical"] and reminder["title"].startswith("Еске салу: сессия 24 сағаттан кейін")
        assert reminder["link"].endswith(f"/cases/{cid}/sessions/s-1")
        assert len(await kinds(svc, "p-c", cid, "session_reminder")) == 1
        assert [j.status for j in await jobs(svc)] == ["pending", "done"]  # 1 h still to come

        # The session moves: its reminders move with it and fire again for the new time.
        await svc.publish(S.SessionScheduled(case_id=cid, session_id="s-1",
                                             starts_at=datetime.now(timezone.utc) + timedelta(seconds=3600 + soon)))
        await eventually(lambda: _count(svc, "p-c", cid, "session_reminder", 2), message="1 h reminder after the move")
        # Starting the session cancels what is left.
        await svc.publish(S.SessionStarted(case_id=cid, session_id="s-1"))
        await eventually(lambda: kinds(svc, "p-c", cid, "session_started"), message="started")
        assert all(j.status in ("done", "cancelled") for j in await jobs(svc))
    async with service(tmp_path) as svc:  # and nothing fires twice after another restart
        await svc.worker("Scheduler").run_once(now=datetime.now(timezone.utc) + timedelta(days=3))
        assert len(await kinds(svc, "p-c", cid, "session_reminder")) == 2


async def _pending(svc, n):
    rows = [j for j in await jobs(svc) if j.status == "pending"]
    return len(rows) == n and rows


async def _count(svc, subject, cid, kind, n):
    return len(await kinds(svc, subject, cid, kind)) == n


async def test_the_answer_window_reminder_goes_to_the_invitee_unless_they_answered(tmp_path):
    async with service(tmp_path, answer_window_reminder_seconds=172800) as svc:
        # Due in an hour, and made due by running the scheduler at that time: a reminder due a
        # second after publishing was not even scheduled when the machine took longer than that to
        # handle the invitation (a reminder already due is noise), and the test failed under load.
        closes = datetime.now(timezone.utc) + timedelta(days=2, hours=1)
        await svc.publish(
            I.CaseFiled(case_id="c-a", jurisdiction="KZ", category="civil", filed_at=datetime.now(timezone.utc)),
            I.RespondentInvited(case_id="c-a", invitation_id="inv-1", respondent_participant_id="resp-a",
                                language="en", answer_by=closes),
            I.CaseFiled(case_id="c-b", jurisdiction="KZ", category="civil", filed_at=datetime.now(timezone.utc)),
            I.RespondentInvited(case_id="c-b", invitation_id="inv-2", respondent_participant_id="resp-b",
                                language="ru", answer_by=closes),
            I.ConsentRecorded(case_id="c-b", participant_id="resp-b", decision="declined", text_version="v1"),
        )
        # The claimant learned of the invitation, and in case b of the answer.
        await eventually(lambda: kinds(svc, "claimant:c-a", "c-a", "invitation_sent"), message="invitation sent")
        [answer] = await eventually(lambda: kinds(svc, "claimant:c-b", "c-b", "consent_recorded"), message="answer")
        assert answer["title"].startswith("Сторона ответила")
        await svc.worker("Scheduler").run_once(now=closes - timedelta(days=2) + timedelta(minutes=1))
        [item] = await eventually(lambda: kinds(svc, "resp-a", "c-a", "answer_window_closing"), message="reminder")
        assert item["critical"] and item["title"].startswith("The time to answer")
        await svc.worker("Scheduler").run_once(now=datetime.now(timezone.utc) + timedelta(days=3))
        assert await kinds(svc, "resp-b", "c-b", "answer_window_closing") == []


def _hhmm(dt: datetime) -> str:
    return dt.strftime("%H:%M")


async def test_quiet_hours_hold_ordinary_email_but_not_critical_notices(tmp_path):
    cid = "c-quiet"
    async with service(tmp_path) as svc:
        await set_email(svc, "p-c", "claimant@example.org", cid)
        await svc.publish(agreed(cid))
        await eventually(lambda: _mails(svc, 1), message="first email")
        local = datetime.now(ZoneInfo("Asia/Almaty"))
        quiet = {"start": _hhmm(local - timedelta(hours=1)), "end": _hhmm(local + timedelta(hours=1))}
        r = await svc.client.put("/preferences", json={"channels": ["in_app", "email"], "quiet_hours": quiet},
                                 headers=svc.token(f"claimant:{cid}", cases=[cid], side="claimant"))
        assert r.status_code == 200 and r.json()["quiet_hours"] == quiet
        await svc.publish(A.DraftReady(case_id=cid, agreement_id="a-1", version=1),
                          A.AgreementRejected(case_id=cid, agreement_id="a-1", court_id="court-1"))
        await eventually(lambda: _mails(svc, 2), message="the court decision despite quiet hours")
        held = await eventually(lambda: _held(svc), message="draft email held")
        end = held.next_attempt_at.astimezone(ZoneInfo("Asia/Almaty"))
        assert _hhmm(end) == quiet["end"] and held.attempts == 0
        subjects = [m["subject"] for m in await mailbox(svc)]
        assert any(s.startswith("Суд принял решение") for s in subjects)
        assert not any("Проект" in s for s in subjects)
        # In-app is never held.
        assert await kinds(svc, "p-c", cid, "draft_ready")


async def _mails(svc, n):
    return len(await mailbox(svc)) == n


async def _held(svc):
    async with svc.runtime.session_factory() as s:
        rows = list((await s.execute(select(Delivery).where(Delivery.status == "pending"))).scalars())
    return rows[0] if rows and rows[0].next_attempt_at > datetime.now(timezone.utc) + timedelta(minutes=30) else None


async def test_the_owing_side_is_reminded_before_an_obligation_falls_due(tmp_path):
    from datetime import date

    cid = "c-due"
    due_on = (datetime.now(ZoneInfo("Asia/Almaty")) + timedelta(days=10)).date()
    async with service(tmp_path) as svc:
        await svc.publish(agreed(cid))
        await eventually(lambda: feed(svc, "p-c", cid), message="agreed")
        await svc.publish(A.AgreementSigned(case_id=cid, agreement_id="a-1", version=1, document_hash="h", obligations=[
            A.ObligationDue(obligation_id="o-1", obligor_side="respondent", due_on=due_on),
            A.ObligationDue(obligation_id="o-2", obligor_side="claimant", due_on=date(2000, 1, 1)),  # long past: no reminder
        ]))
        [job] = await eventually(lambda: _pending(svc, 1), message="obligation reminder scheduled")
        assert job.kind == "obligation_due" and job.ref == "a-1:o-1"
        assert job.due_at == datetime.combine(due_on - timedelta(days=3), datetime.min.time().replace(hour=9),
                                              tzinfo=ZoneInfo("Asia/Almaty"))
        await svc.worker("Scheduler").run_once(now=job.due_at + timedelta(minutes=1))
        [notice] = await eventually(lambda: kinds(svc, "p-r", cid, "obligation_due"), message="reminder to the respondent")
        assert notice["critical"] and due_on.strftime("%d.%m.%Y") in notice["title"]  # shown the Kazakh way
        assert await kinds(svc, "p-c", cid, "obligation_due") == []  # the claimant owes nothing here


async def test_signature_requests_and_reminders_reach_the_people_behind_the_signer_slots(tmp_path):
    """Agreements names signers by slot (claimant, respondent, mediator); the notices must reach
    the parties and representatives of each side and the mediator, and nobody else."""
    cid = "c-sign"
    async with service(tmp_path) as svc:
        await svc.publish(agreed(cid))
        await eventually(lambda: feed(svc, "p-c", cid), message="agreed")
        envs = await svc.publish(A.SignatureRequested(case_id=cid, agreement_id="a-1", version=2, document_hash="h",
                                                      signer_ids=["claimant", "respondent", "mediator"]))
        async def requested(subject, role):
            return [i for i in await feed(svc, subject, cid, role) if i["kind"] == "signature_requested"]

        for subject, role in (("p-c", "party"), ("p-r", "party"), ("m-1", "mediator")):
            [notice] = await eventually(lambda: requested(subject, role), message=f"signature request to {subject}")
            assert notice["link"].endswith(f"/cases/{cid}/agreements/a-1/sign")
        assert await kinds(svc, "p-i", cid, "signature_requested") == []  # the interpreter signs nothing
        [job] = [j for j in await jobs(svc) if j.kind == "signature_pending"]
        assert job.due_at == envs[0].time + timedelta(days=2)
        # The claimant and the mediator sign; the mediator withdraws again: they are reminded, the claimant not.
        for event in (A.SignatureAdded(case_id=cid, agreement_id="a-1", version=2, slot="claimant"),
                      A.SignatureAdded(case_id=cid, agreement_id="a-1", version=2, slot="mediator"),
                      A.SignatureWithdrawn(case_id=cid, agreement_id="a-1", version=2, slot="mediator")):
            await svc.publish(event)

        async def adjusted():
            [j] = [j for j in await jobs(svc) if j.kind == "signature_pending"]
            return j if j.params["signer_ids"] == ["respondent", "mediator"] else None

        # the mediator hears that the claimant signed (and nobody hears of the mediator's own signature)
        [signed] = await eventually(lambda: kinds_as(svc, "m-1", cid, "mediator", "signature_added"),
                                    message="the mediator told of the claimant's signature")
        assert "by the claimant" in signed["title"]  # in the mediator's language, English
        assert signed["link"].endswith(f"/cases/{cid}/agreements/a-1")
        assert await kinds(svc, "p-r", cid, "signature_added") == []  # the parties read it on the agreement's page
        job = await eventually(adjusted, message="the reminder follows the signatures")
        await svc.worker("Scheduler").run_once(now=job.due_at + timedelta(minutes=1))
        [reminder] = await eventually(lambda: kinds(svc, "p-r", cid, "signature_pending"), message="reminder")
        assert reminder["title"]  # in the respondent's language, Kazakh
        assert await kinds(svc, "p-i", cid, "signature_pending") == []
        assert await kinds(svc, "p-c", cid, "signature_pending") == []  # the claimant has signed
        assert [i for i in await feed(svc, "m-1", cid, "mediator") if i["kind"] == "signature_pending"]


async def test_a_settled_case_still_reminds_the_owing_side_by_email_on_the_due_date(tmp_path):
    """Issue 18, finding 14: signing schedules the obligation reminders, then the settled case
    closes; closing must not cancel them, and the email goes out when the scheduler's clock
    reaches the reminder's date (and not before)."""
    cid = "c-settled"
    due_on = (datetime.now(ZoneInfo("Asia/Almaty")) + timedelta(days=20)).date()
    async with service(tmp_path) as svc:
        await set_email(svc, "p-r", "respondent@example.org", cid)
        await svc.publish(agreed(cid))
        await eventually(lambda: feed(svc, "p-c", cid), message="agreed")
        await svc.publish(
            A.AgreementSigned(case_id=cid, agreement_id="a-1", version=1, document_hash="h", obligations=[
                A.ObligationDue(obligation_id="o-1", obligor_side="respondent", due_on=due_on)]),
            I.CaseClosed(case_id=cid, outcome="settled"))
        await eventually(lambda: kinds(svc, "p-c", cid, "case_closed"), message="the case closed")
        [job] = [j for j in await jobs(svc) if j.kind == "obligation_due"]
        assert job.status == "pending"

        scheduler = svc.worker("Scheduler")
        assert await scheduler.run_once(now=job.due_at - timedelta(minutes=1)) == 0  # the day before: nothing
        assert await scheduler.run_once(now=job.due_at + timedelta(minutes=1)) == 1

        async def reminder_mail():
            return [m for m in await mailbox(svc) if m["to"] == "respondent@example.org"
                    and due_on.strftime("%d.%m.%Y") in m["text"]]

        [mail] = await eventually(reminder_mail, message="the obligation reminder email")
        assert mail["recipient"] == "p-r"


async def test_closing_a_case_otherwise_cancels_its_reminders(tmp_path):
    cid = "c-withdrawn"
    async with service(tmp_path) as svc:
        await svc.publish(agreed(cid))
        await eventually(lambda: feed(svc, "p-c", cid), message="agreed")
        await svc.publish(S.SessionScheduled(case_id=cid, session_id="s-1",
                                             starts_at=datetime.now(timezone.utc) + timedelta(days=5)),
                          I.CaseClosed(case_id=cid, outcome="withdrawn"))
        await eventually(lambda: kinds(svc, "p-c", cid, "case_closed"), message="the case closed")
        assert {j.status for j in await jobs(svc)} == {"cancelled"}


async def test_a_signature_reminder_reaches_the_people_of_the_unsigned_party_slot_only(tmp_path):
    """Several parties on a side sign each in a slot of their own (``respondent:<participant id>``):
    the reminder goes to the party still unsigned and its representative, not to the co-respondent
    who signed, nor to the interpreter or the other side."""
    cid = "c-per-party"
    async with service(tmp_path) as svc:
        await svc.publish(I.MediationAgreed(case_id=cid, mediator_id="m-1", term_ends_on=date(2027, 1, 31), participants=[
            I.Participant(participant_id="p-c", role="party", side="claimant", language="ru"),
            I.Participant(participant_id="p-r1", role="party", side="respondent", language="ru"),
            I.Participant(participant_id="p-r2", role="party", side="respondent", language="kk"),
            I.Participant(participant_id="l-r2", role="representative", side="respondent", language="ru",
                          acts_for="p-r2"),
            I.Participant(participant_id="i-r2", role="interpreter", side="respondent", language="kk",
                          acts_for="p-r2"),
            I.Participant(participant_id="m-1", role="mediator", language="en"),
        ]))
        await eventually(lambda: feed(svc, "p-c", cid), message="agreed")
        slots = ["claimant:p-c", "respondent:p-r1", "respondent:p-r2", "mediator"]
        await svc.publish(A.SignatureRequested(case_id=cid, agreement_id="a-1", version=1, document_hash="h",
                                               signer_ids=slots))
        for slot in ("claimant:p-c", "respondent:p-r1", "mediator"):
            await svc.publish(A.SignatureAdded(case_id=cid, agreement_id="a-1", version=1, slot=slot))

        async def adjusted():
            found = [j for j in await jobs(svc) if j.kind == "signature_pending"]
            return found[0] if found and found[0].params["signer_ids"] == ["respondent:p-r2"] else None

        job = await eventually(adjusted, message="the reminder keeps the unsigned slot only")
        await svc.worker("Scheduler").run_once(now=job.due_at + timedelta(minutes=1))
        for subject in ("p-r2", "l-r2"):
            await eventually(lambda: kinds(svc, subject, cid, "signature_pending"), message=f"reminder to {subject}")
        for subject in ("p-r1", "i-r2", "p-c"):
            assert await kinds(svc, subject, cid, "signature_pending") == [], subject
        assert not [i for i in await feed(svc, "m-1", cid, "mediator") if i["kind"] == "signature_pending"]
        # the mediator heard of each party's own signature, by its side
        told = await eventually(lambda: _told_twice(svc, cid), message="the mediator told of both parties' signatures")
        assert sorted(told) == ["The agreement was signed by the claimant (case c-per-pa)",  # no reference: the id's start
                                "The agreement was signed by the respondent (case c-per-pa)"]


async def _told_twice(svc, cid):
    titles = [i["title"] for i in await feed(svc, "m-1", cid, "mediator") if i["kind"] == "signature_added"]
    return titles if len(titles) == 2 else None
