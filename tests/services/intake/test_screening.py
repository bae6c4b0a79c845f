"""Safety screening: scoring to proceed / safeguards / refer out, answers sealed at rest and read
by the assigned mediator only, and never in events, logs or another party's responses."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from services.intake import screening
from services.intake.models import Screening, outbox
from services.intake.screening import ScreeningAnswers, combine, score

from .conftest import calm_answers

SECRET_NOTE = "he keeps a hunting rifle in the car"


def answers(**kw) -> ScreeningAnswers:
    yes = kw.pop("yes", ())
    body = calm_answers(**kw)
    body["answers"].update({q: True for q in yes})
    return ScreeningAnswers.model_validate(body)


@pytest.mark.parametrize("given, safety, safeguards", [
    (answers(), "proceed", ()),
    (answers(wants_support_person=True), "proceed_with_safeguards", ("support_person",)),
    (answers(yes=["insults"]), "proceed_with_safeguards", ("staggered_join",)),
    (answers(yes=["controls_life", "cannot_disagree"]), "proceed_with_safeguards",
     ("shuttle_only", "no_joint_session", "staggered_join", "support_person")),
    (answers(safe_in_same_room=False), "proceed_with_safeguards",
     ("shuttle_only", "no_joint_session", "staggered_join", "support_person")),
    (answers(fear_level=2), "proceed_with_safeguards",
     ("shuttle_only", "no_joint_session", "staggered_join", "support_person")),
    (answers(yes=["strangulation"]), "refer_out", ()),
    (answers(yes=["threat_to_kill_or_weapon"]), "refer_out", ()),
    (answers(yes=["threats", "physical", "stalking"], fear_level=1), "refer_out", ()),
])
def test_scoring(given, safety, safeguards):
    assert score(given) == screening.SafetyResult(safety, safeguards)


def test_the_case_takes_the_most_protective_outcome_of_its_parties():
    calm, staggered = score(answers()), score(answers(yes=["insults"], wants_support_person=True))
    assert combine([calm, staggered]) == screening.SafetyResult("proceed_with_safeguards",
                                                                ("staggered_join", "support_person"))
    assert combine([staggered, score(answers(yes=["strangulation"]))]).safety == "refer_out"


async def test_answers_reach_only_the_assigned_mediator(app_client, flow, caplog):
    caplog.set_level(logging.DEBUG)
    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    case_id, claimant, respondent = await flow.to_screening()

    received = await flow.screen(case_id, claimant, fear_level=2, note=SECRET_NOTE,
                                 answers={**calm_answers()["answers"], "controls_life": True})
    assert set(received) == {"side", "participant_id", "received_at", "all_screened"}
    assert received["all_screened"] is False
    await flow.screen(case_id, respondent)

    # sealed at rest: neither the note nor the answer structure is in the row
    async with app_client.app.state.runtime.uow() as uow:
        rows = (await uow.session.execute(select(Screening))).scalars().all()
        raw = b"".join(r.ciphertext + r.wrapped_key for r in rows)
    assert SECRET_NOTE.encode() not in raw and b"controls_life" not in raw

    # the case moved on with safeguards, visible to the mediator, not to the parties
    r = await app_client.get(f"/cases/{case_id}", headers=respondent)
    assert r.json()["status"] == "eligible" and r.json()["safeguards"] is None and r.json()["safety"] is None
    for who in (claimant, respondent, admin):
        r = await app_client.get(f"/cases/{case_id}/screening", headers=who)
        assert r.status_code == 403
    proposed = await flow.login(username)
    assert (await app_client.get(f"/cases/{case_id}/screening", headers=proposed)).status_code == 404

    mediator = await flow.assign(case_id, claimant, respondent, mediator_id, username)
    reports = (await app_client.get(f"/cases/{case_id}/screening", headers=mediator)).json()
    by_side = {r["side"]: r for r in reports}
    assert [(r["name"], r["answered_by"]) for r in reports] == [("Aigerim Nurlanovna", "party"),
                                                                ("TOO Dala Trade", "party")]
    assert by_side["claimant"]["answers"]["note"] == SECRET_NOTE
    assert by_side["claimant"]["answers"]["answers"]["controls_life"] is True
    assert by_side["claimant"]["safeguards"] == ["shuttle_only", "no_joint_session", "staggered_join", "support_person"]
    case = (await app_client.get(f"/cases/{case_id}", headers=mediator)).json()
    assert case["safety"] == "proceed_with_safeguards" and "shuttle_only" in case["safeguards"]

    # not in any event, any log line, or anything the other party is shown
    async with app_client.app.state.runtime.uow() as uow:
        payloads = b"\n".join((await uow.session.execute(select(outbox.c.payload))).scalars())
    assert SECRET_NOTE.encode() not in payloads and b"controls_life" not in payloads and b"fear_level" not in payloads
    screened = [json.loads(p) for p in payloads.split(b"\n") if b"odr.case.screened.v1" in p]
    assert screened[0]["data"]["safeguards"] == ["shuttle_only", "no_joint_session", "staggered_join", "support_person"]
    logged = "\n".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records)
    assert SECRET_NOTE not in logged and "controls_life" not in logged
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/history", f"/cases/{case_id}/consents",
                 f"/cases/{case_id}/agreement-to-mediate", f"/cases/{case_id}/mediator-candidates"):
        seen = (await app_client.get(path, headers=respondent)).text
        assert SECRET_NOTE not in seen and "controls_life" not in seen and "fear" not in seen


async def test_a_party_answers_once_and_completely(app_client, flow):
    case_id, claimant, _ = await flow.to_screening()
    partial = calm_answers()
    partial["answers"].pop("stalking")
    r = await app_client.post(f"/cases/{case_id}/screening", json=partial, headers=claimant)
    assert r.status_code == 422 and r.json()["missing"] == ["stalking"]
    r = await app_client.post(f"/cases/{case_id}/screening", json=calm_answers(note="x" * 2001), headers=claimant)
    assert r.status_code == 422 and "x" * 100 not in r.text
    await flow.screen(case_id, claimant)
    r = await app_client.post(f"/cases/{case_id}/screening", json=calm_answers(), headers=claimant)
    assert r.status_code == 409 and r.json()["type"].endswith("/already-screened")


async def test_a_severe_answer_refers_the_case_out(app_client, flow):
    case_id, claimant, respondent = await flow.to_screening()
    await flow.screen(case_id, claimant, answers={**calm_answers()["answers"], "strangulation": True})
    await flow.screen(case_id, respondent)
    r = await app_client.get(f"/cases/{case_id}", headers=claimant)
    assert (r.json()["status"], r.json()["outcome"]) == ("referred_out", "referred_out")


async def test_the_questionnaire_speaks_three_languages(app_client):
    for lang in ("kk", "ru", "en"):
        q = (await app_client.get("/screening/questionnaire", params={"lang": lang})).json()
        assert [x["id"] for x in q["questions"]] == list(screening.QUESTION_IDS)
    assert (await app_client.get("/screening/questionnaire", params={"lang": "de"})).status_code == 422
