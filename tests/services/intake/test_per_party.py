"""Every party answers for itself (issue 12): each co-claimant and co-respondent answers the safety
screening privately (a natural person's representative cannot; a company's can), mediation waits
for all of them, and only the mediator reads the answers, each under the party's name; every
party (or its representative) and the mediator sign the agreement to mediate, the interpreter
cannot; a co-party who never answers within the window closes the case as the rule set says a
silent side does.

The intake service alone (dev mode, SQLite); each person holds the token their own sign-in link
gives them (``cases.participant_token``), minted here rather than fetched from a mailbox
(``test_parties`` follows the links by real email)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from services.intake import cases, deadlines
from services.intake.app import SPEC
from services.intake.models import Participant
from shared import clock
from shared.db import create_engine
from shared.migrations import upgrade
from tests.support.waiting import eventually

from .conftest import KZ_ATM, KZ_CONSENT, bearer, calm_answers

ANSWER = {"decision": "consent", "text_version": KZ_CONSENT}


def filing() -> dict:
    return {"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice for deliveries", "parties": [
        {"side": "claimant", "kind": "natural_person", "name": "Aigerim Nurlanovna", "language": "kk",
         "representatives": [{"name": "Serik Bekov", "organisation": "Bekov & Partners"}]},
        {"side": "respondent", "kind": "legal_entity", "name": "TOO Dala Trade", "language": "ru",
         "representatives": [{"name": "Marat Director"}]},
        {"side": "respondent", "kind": "natural_person", "name": "Yerlan Dauletov", "language": "kk",
         "interpreters": [{"name": "Dina Tilmash", "language": "kk"}]},
    ]}


@pytest.fixture(autouse=True)
def real_time_afterwards():
    yield
    clock.set_offset(timedelta(0))


class People:
    """Everyone on the case, by name: their participant id and the headers of their own token."""

    def __init__(self, rows: list[Participant], tokens) -> None:
        self.ids = {p.details.name: p.id for p in rows}
        self.h = {p.details.name: bearer(cases.participant_token(tokens, p)) for p in rows}


async def people(app_client, case_id: str) -> People:
    runtime = app_client.app.state.runtime
    ctx = runtime.context
    async with runtime.uow() as uow:
        return People(await cases.people(uow.session, case_id, ctx.personal), runtime.tokens)


async def to_co_parties(app_client, flow) -> tuple[str, People]:
    """Filed, invited, the respondents' first party agreed; the co-respondent not yet."""
    r = await app_client.post("/cases", json=filing())
    assert r.status_code == 201, r.text
    case_id = r.json()["case"]["id"]
    who = await people(app_client, case_id)
    invited = await flow.invite(case_id, who.h["Aigerim Nurlanovna"])
    await flow.consent(invited["link_token"])
    return case_id, who


def refused(r, status: int = 403) -> bool:
    return r.status_code == status and r.headers["content-type"].startswith("application/problem+json")


async def test_each_party_answers_the_screening_and_signs_for_itself(app_client, flow):
    c = app_client
    case_id, who = await to_co_parties(c, flow)
    h, ids = who.h, who.ids
    assert (await c.post(f"/cases/{case_id}/consents", json=ANSWER, headers=h["Yerlan Dauletov"])).status_code == 200

    async def case(by="Yerlan Dauletov") -> dict:
        r = await c.get(f"/cases/{case_id}", headers=h[by])
        assert r.status_code == 200, r.text
        return r.json()

    screening = f"/cases/{case_id}/screening"
    # A person's screening is their own: not their representative's, not their interpreter's.
    assert refused(await c.post(screening, json=calm_answers(), headers=h["Serik Bekov"]))
    assert refused(await c.post(screening, json=calm_answers(), headers=h["Dina Tilmash"]))
    # A company has no fears of its own: whoever attends for it answers, its representative here.
    r = await c.post(screening, json=calm_answers(), headers=h["Marat Director"])
    assert r.status_code == 201, r.text
    assert (r.json()["side"], r.json()["participant_id"], r.json()["all_screened"]) == (
        "respondent", ids["TOO Dala Trade"], False)
    assert refused(await c.post(screening, json=calm_answers(), headers=h["TOO Dala Trade"]), 409)
    await flow.screen(case_id, h["Aigerim Nurlanovna"])
    # Two parties of three have answered: the case waits for the co-respondent.
    seen = await case()
    assert seen["status"] == "screening"
    assert seen["progress"]["screened_sides"] == ["claimant"]
    assert set(seen["progress"]["screened_parties"]) == {ids["Aigerim Nurlanovna"], ids["TOO Dala Trade"]}
    last = await flow.screen(case_id, h["Yerlan Dauletov"], fear_level=2, note="He waits outside my house")
    assert last["all_screened"] is True
    seen = await case()
    assert seen["status"] == "eligible" and seen["progress"]["screened_sides"] == ["claimant", "respondent"]
    # What a co-party answered stays from everyone on the case but the mediator, own side included.
    for name in h:
        assert refused(await c.get(screening, headers=h[name]))
        assert "waits outside" not in (await c.get(f"/cases/{case_id}", headers=h[name])).text

    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    mediator = await flow.assign(case_id, h["Aigerim Nurlanovna"], h["TOO Dala Trade"], mediator_id, username)
    reports = (await c.get(screening, headers=mediator)).json()
    assert [(r["name"], r["side"], r["answered_by"]) for r in reports] == [
        ("Aigerim Nurlanovna", "claimant", "party"), ("TOO Dala Trade", "respondent", "representative"),
        ("Yerlan Dauletov", "respondent", "party")]
    assert reports[2]["answers"]["note"] == "He waits outside my house"
    assert reports[2]["safeguards"] == ["shuttle_only", "no_joint_session", "staggered_join", "support_person"]
    assert (await case("TOO Dala Trade"))["safeguards"] is None
    assert "shuttle_only" in (await c.get(f"/cases/{case_id}", headers=mediator)).json()["safeguards"]

    # The agreement to mediate: a slot per party; a representative signs its party's; the
    # interpreter signs nothing; mediation starts only when every party and the mediator signed.
    atm = (await c.get(f"/cases/{case_id}/agreement-to-mediate", headers=h["Dina Tilmash"])).json()
    assert atm["signers"] == [f"claimant:{ids['Aigerim Nurlanovna']}", f"respondent:{ids['TOO Dala Trade']}",
                              f"respondent:{ids['Yerlan Dauletov']}", "mediator"]
    await flow.sign(case_id, h["Dina Tilmash"], expect=403)
    signed = await flow.sign(case_id, h["Serik Bekov"])
    assert signed["signed_slots"] == [f"claimant:{ids['Aigerim Nurlanovna']}"] and signed["signed_by"] == ["claimant"]
    await flow.sign(case_id, h["Aigerim Nurlanovna"], expect=409)  # her representative already signed for her
    await flow.sign(case_id, h["TOO Dala Trade"])
    signed = await flow.sign(case_id, mediator)
    assert signed["signed_by"] == ["claimant", "mediator"]  # one co-respondent of two: not the respondents yet
    progress = (await case())["progress"]
    assert progress["agreement_to_mediate_signed_by"] == ["claimant", "mediator"]
    assert set(progress["agreement_to_mediate_signed_parties"]) == {ids["Aigerim Nurlanovna"], ids["TOO Dala Trade"]}
    assert (await case())["status"] == "mediator_agreed" and signed["term_starts_on"] is None
    signed = await flow.sign(case_id, h["Yerlan Dauletov"])
    assert signed["signed_by"] == ["claimant", "mediator", "respondent"] and signed["term_starts_on"] is not None
    assert (await case())["status"] == "agreement_signed"


async def test_a_co_party_who_never_answers_closes_the_case_as_a_silent_side_does(app_client, flow):
    """The respondents' first party agreed; the co-respondent has the rule set's answer window
    (KZ: 10 calendar days, Art. 20(6)) from then, and silence past it is a refusal: the deadline
    sweep closes the case as declined, as it does when an invited side never answers."""
    c = app_client
    case_id, who = await to_co_parties(c, flow)
    r = await c.get(f"/cases/{case_id}", headers=who.h["Yerlan Dauletov"])
    progress = r.json()["progress"]
    assert progress["consented_sides"] == ["claimant"] and progress["answer_by"] is None
    answer_by = datetime.fromisoformat(progress["co_parties_answer_by"]["respondent"])
    consented_at = datetime.fromisoformat(
        (await c.get(f"/cases/{case_id}/consents", headers=who.h["TOO Dala Trade"])).json()[-1]["recorded_at"])
    assert answer_by == deadlines.answer_deadline(consented_at, days=10, time_zone="Asia/Almaty")

    runtime = c.app.state.runtime
    async with runtime.uow() as uow:
        assert await deadlines.expire_invitations(uow, now=answer_by - timedelta(seconds=1)) == 0
    assert await flow.status(case_id, who.h["Aigerim Nurlanovna"]) == "awaiting_consent"

    # The dev clock moves past the window: the sweep, woken by it, closes the case.
    moved = await c.put("/dev/clock", json={"offset_seconds": (answer_by - clock.utcnow()).total_seconds() + 3600})
    assert moved.status_code == 200, moved.text

    async def closed():
        case = (await c.get(f"/cases/{case_id}", headers=who.h["Aigerim Nurlanovna"])).json()
        return case["outcome"] == "declined" and case

    case = await eventually(closed, timeout=60, message="the case closed as declined after the co-party's window")
    assert case["status"] == "declined"
    history = (await c.get(f"/cases/{case_id}/history", headers=who.h["TOO Dala Trade"])).json()
    assert (history[-1]["operation"], history[-1]["actor"], history[-1]["reason"]) == (
        "answer_window_passed", "scheduler", "a co-party did not answer in the window")
    # too late to agree now, and told why (the same answer as when the party comes before the sweep)
    late = await c.post(f"/cases/{case_id}/consents", json=ANSWER, headers=who.h["Yerlan Dauletov"])
    assert refused(late, 410) and late.json()["type"].endswith("/answer-window-passed")


async def test_a_co_party_answering_after_the_window_is_told_it_passed(app_client, flow):
    """The co-party comes before the sweep does (or just after it, on a loaded machine): the answer is
    refused as too late either way and the case is closed as declined."""
    c = app_client
    case_id, who = await to_co_parties(c, flow)
    progress = (await c.get(f"/cases/{case_id}", headers=who.h["Yerlan Dauletov"])).json()["progress"]
    answer_by = datetime.fromisoformat(progress["co_parties_answer_by"]["respondent"])
    clock.set_offset(answer_by - clock.utcnow() + timedelta(hours=1))  # no wake-up: the sweep sleeps a minute
    r = await c.post(f"/cases/{case_id}/consents", json=ANSWER, headers=who.h["Yerlan Dauletov"])
    assert refused(r, 410) and r.json()["type"].endswith("/answer-window-passed")
    assert await flow.status(case_id, who.h["Aigerim Nurlanovna"]) == "declined"


async def test_the_migration_gives_a_sides_earlier_signature_to_its_first_party(tmp_path):
    """An agreement to mediate signed per side before this change keeps its signatures: the side's
    becomes its first party's slot (``<side>:<participant id>``), the mediator's stays."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.sqlite3'}"
    engine = create_engine(url)
    try:
        await upgrade(engine, SPEC.migrations, "participant_links")
        sealed = {"ciphertext": b"sealed", "kek_id": "intake-personal", "kek_version": 1}
        async with engine.begin() as conn:
            for pid, side, role, position in (("p-c", "claimant", "party", 0), ("p-r1", "respondent", "party", 1),
                                              ("l-r1", "respondent", "representative", 2),
                                              ("p-r2", "respondent", "party", 3)):
                await conn.execute(sa.text(
                    "INSERT INTO participants (id, case_id, side, role, legal_capacity, language, position, "
                    "ciphertext, kek_id, kek_version) VALUES (:id, 'c-1', :side, :role, 'full', 'ru', :position, "
                    ":ciphertext, :kek_id, :kek_version)"), {"id": pid, "side": side, "role": role, "position": position,
                                                            **sealed})
            for signer in ("claimant", "respondent", "mediator"):
                await conn.execute(sa.text(
                    "INSERT INTO agreement_signatures (id, case_id, mediator_id, signer, signer_id, text_version, "
                    "signed_at) VALUES (:id, 'c-1', 'm-1', :signer, 'x', 'KZ-atm-2023.1', '2026-11-01 10:00:00')"),
                    {"id": signer, "signer": signer})
        await upgrade(engine, SPEC.migrations)
        async with engine.connect() as conn:
            got = sorted((await conn.execute(sa.text("SELECT signer FROM agreement_signatures"))).scalars())
        assert got == ["claimant:p-c", "mediator", "respondent:p-r1"]
    finally:
        await engine.dispose()
