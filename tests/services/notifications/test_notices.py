"""A case's life reaches the right people, by role, in their language, in-app and by email, once."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from shared.contracts import agreements as A
from shared.contracts import intake as I
from shared.contracts import sessions as S
from tests.support.waiting import eventually

MEDIATOR = "m-1"


def case_id() -> str:
    return str(uuid.uuid4())


def agreed(cid: str) -> I.MediationAgreed:
    return I.MediationAgreed(case_id=cid, mediator_id=MEDIATOR, term_ends_on=date(2027, 1, 31), participants=[
        I.Participant(participant_id="p-c", role="party", side="claimant", language="ru"),
        I.Participant(participant_id="p-r", role="party", side="respondent", language="kk"),
        I.Participant(participant_id="p-i", role="interpreter", side="respondent", language="en"),
        I.Participant(participant_id=MEDIATOR, role="mediator", language="en"),
    ])


async def feed(svc, subject, cid, role="party"):
    r = await svc.client.get("/feed", headers=svc.token(subject, role, cases=[cid]))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def mailbox(svc):
    return (await svc.client.get("/mailbox.json")).json()["items"]


async def kinds_of(svc, subject, cid, role="party"):
    return sorted(i["kind"] for i in await feed(svc, subject, cid, role))


async def set_email(svc, participant, address, cid):
    r = await svc.client.put(f"/contacts/{participant}", json={"email": address},
                             headers=svc.token(participant, cases=[cid]))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_filed_case_is_acknowledged_to_the_filer(svc):
    cid = case_id()
    await svc.publish(I.CaseFiled(case_id=cid, jurisdiction="KZ", category="civil", filed_at=datetime.now(timezone.utc)))
    items = await eventually(lambda: feed(svc, f"claimant:{cid}", cid), message="filer fed")
    assert items[0]["kind"] == "case_filed"
    assert items[0]["link"] == f"https://odr.example/cases/{cid}"
    assert items[0]["title"].startswith("Ваше обращение")  # Russian until the filer says otherwise


async def test_the_filer_is_told_by_participant_id_and_sees_each_notice_once(svc):
    """Intake names the claimant in ``CaseFiled``: notices reach that participant, not a placeholder
    as well, so the filer's feed (a token for the participant, on the claimant side) lists each once."""
    cid = case_id()
    await svc.publish(
        I.CaseFiled(case_id=cid, jurisdiction="KZ", category="civil", filed_at=datetime.now(timezone.utc),
                    claimant_participant_id="p-c"),
        I.ScreeningRequested(case_id=cid, participant_id="p-c", language="ru"),
        I.MediatorProposed(case_id=cid, mediator_id=MEDIATOR),
    )
    headers = svc.token("p-c", cases=[cid], side="claimant")

    async def fed():
        r = await svc.client.get("/feed", headers=headers)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return len(items) >= 3 and items

    items = await eventually(fed, message="the filer's notices")
    assert sorted(i["kind"] for i in items) == ["case_filed", "mediator_proposed", "screening_requested"]
    assert await feed(svc, f"claimant:{cid}", cid) == []  # nothing for the placeholder


@pytest.mark.parametrize(("language", "filed", "invited"), [
    ("kk", "Сіздің", "Екінші тарап шақырылды"),
    ("en", "Your", "The other party was invited"),
])
async def test_a_kazakh_or_english_claimant_reads_the_first_notices_in_their_language(svc, language, filed, invited):
    """Intake says the claimant's language in ``CaseFiled``: "case filed" and "invitation sent"
    reach the filer in it, not in the platform's default (Russian)."""
    cid = case_id()
    await svc.publish(
        I.CaseFiled(case_id=cid, jurisdiction="KZ", category="civil", filed_at=datetime.now(timezone.utc),
                    claimant_participant_id="p-c", claimant_language=language),
        I.RespondentInvited(case_id=cid, invitation_id="inv-1", respondent_participant_id="p-r", language="ru",
                            answer_by=datetime.now(timezone.utc) + timedelta(days=10)),
    )

    async def both():
        items = await feed(svc, "p-c", cid)
        return len(items) >= 2 and items

    titles = {i["kind"]: i["title"] for i in await eventually(both, message="the filer's first notices")}
    assert titles["case_filed"].startswith(filed), titles
    assert titles["invitation_sent"].startswith(invited), titles
    respondent = {i["kind"]: i["title"] for i in await eventually(lambda: feed(svc, "p-r", cid), message="invited")}
    assert respondent["invitation"].startswith("Вас приглашают"), respondent  # the respondent chose Russian


async def test_a_kyrgyz_cases_invitation_shows_the_answer_by_time_in_bishkek_before_the_agreement(svc):
    """The case's time zone comes with ``CaseFiled``: the invitation, long before the agreement to
    mediate names a zone, shows 18:00 Bishkek time, not 17:00 Almaty time."""
    cid = case_id()
    await set_email(svc, "p-r", "respondent@example.org", cid)
    answer_by = datetime(2030, 3, 1, 12, 0, tzinfo=timezone.utc)  # 18:00 in Bishkek (UTC+6), 17:00 in Almaty
    await svc.publish(
        I.CaseFiled(case_id=cid, jurisdiction="KG", category="labour", filed_at=datetime.now(timezone.utc),
                    claimant_participant_id="p-c", claimant_language="ru", time_zone="Asia/Bishkek"),
        I.RespondentInvited(case_id=cid, invitation_id="inv-1", respondent_participant_id="p-r", language="ru",
                            answer_by=answer_by),
    )

    async def invitation():
        return [m for m in await mailbox(svc) if m["to"] == "respondent@example.org"]

    [mail] = await eventually(invitation, message="the invitation email")
    assert "18:00 (время Бишкека)" in mail["text"], mail["text"]
    assert "Almaty" not in mail["text"]


async def test_every_step_reaches_the_right_roles_in_their_language_once(svc):
    cid = case_id()
    await set_email(svc, "p-c", "claimant@example.org", cid)
    await set_email(svc, "p-r", "respondent@example.org", cid)
    envs = await svc.publish(agreed(cid))
    await eventually(lambda: kinds_of(svc, "p-c", cid), message="mediation_started")
    starts = datetime.now(timezone.utc) + timedelta(days=3)
    envs += await svc.publish(
        S.SessionScheduled(case_id=cid, session_id="s-1", starts_at=starts),
        S.CaucusOpened(case_id=cid, session_id="s-1", side="respondent"),
        A.DraftReady(case_id=cid, agreement_id="a-1", version=2),
        A.AgreementApproved(case_id=cid, agreement_id="a-1", court_id="court-1"),
    )

    async def all_there():
        return len(await kinds_of(svc, "p-r", cid)) == 5 and len(await mailbox(svc)) == 8

    await eventually(all_there, message="notices and emails")
    assert await kinds_of(svc, "p-r", cid) == ["caucus_requested", "court_decision", "draft_ready",
                                               "mediation_started", "session_scheduled"]
    # The caucus request reaches only the respondent's side; the interpreter gets session notices only.
    assert await kinds_of(svc, "p-c", cid) == ["court_decision", "draft_ready", "mediation_started",
                                               "session_scheduled"]
    assert await kinds_of(svc, "p-i", cid) == ["caucus_requested", "mediation_started", "session_scheduled"]
    assert await kinds_of(svc, MEDIATOR, cid, role="mediator") == ["court_decision", "draft_ready",
                                                                   "mediation_started", "session_scheduled"]

    titles = {i["kind"]: i["title"] for i in await feed(svc, "p-r", cid)}
    assert titles["court_decision"].startswith("Сот келісім бойынша")  # Kazakh for the respondent
    assert {i["kind"]: i["title"] for i in await feed(svc, "p-i", cid)}["session_scheduled"].startswith("A session")

    mails = await mailbox(svc)
    by_to = {}
    for m in mails:
        by_to.setdefault(m["to"], []).append(m)
    # Caucus requests are in-app only; everyone without an address gets no email.
    assert sorted(by_to) == ["claimant@example.org", "respondent@example.org"]
    assert len(by_to["claimant@example.org"]) == 4 and len(by_to["respondent@example.org"]) == 4
    assert all(m["language"] == "kk" for m in by_to["respondent@example.org"])
    assert all(m["language"] == "ru" for m in by_to["claimant@example.org"])
    # Local times in the case's zone; links only.
    scheduled = next(m for m in by_to["claimant@example.org"] if "сессия" in m["subject"].lower())
    local = starts.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Almaty")).strftime("%d.%m.%Y %H:%M")
    assert local in scheduled["text"] and f"https://odr.example/cases/{cid}/sessions/s-1" in scheduled["text"]

    # The bus redelivers everything: nothing new appears.
    before = (len(mails), await kinds_of(svc, "p-r", cid))
    await svc.republish(*envs)
    marker = await svc.publish(A.DraftReady(case_id=cid, agreement_id="a-1", version=3))
    await eventually(lambda: _count(svc, "p-c", cid, "draft_ready", 2), message="marker handled")
    await eventually(lambda: _mail_count(svc, 10), message="marker mailed")
    assert len(await mailbox(svc)) == before[0] + 2
    assert len(await kinds_of(svc, "p-r", cid)) == len(before[1]) + 1
    assert marker


async def _count(svc, subject, cid, kind, n):
    return [i["kind"] for i in await feed(svc, subject, cid)].count(kind) == n


async def _mail_count(svc, n):
    return len(await mailbox(svc)) == n
