"""Drafting: templates per jurisdiction, category and language; required content per
jurisdiction; versions with a readable diff; comments; seeding from accepted proposals; clear
problems for bad input."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.agreements import events
from shared.contracts.sessions import ProposalAccepted
from shared.events import envelope

from .conftest import complete_content

KZ_REQUIRED = {"parties", "mediator", "subject", "terms", "performance", "consequences"}


async def test_templates_exist_per_jurisdiction_category_and_language(harness):
    listed = (await harness.client.get("/templates")).json()["items"]
    kz = {t["category"] for t in listed if t["jurisdiction"] == "KZ"}
    assert {"civil", "family", "labour", "commercial", "administrative", "criminal"} <= kz
    assert all(t["languages"] == ["en", "kk", "ru"] for t in listed if t["jurisdiction"] in ("KZ", "EU"))
    t = (await harness.client.get("/templates/KZ/family", params={"language": "kk"})).json()
    assert "Отбасылық" in t["template"]["title"] and {r["code"] for r in t["required"]} == KZ_REQUIRED
    assert all("401-IV" in r["citation"] for r in t["required"])
    assert (await harness.client.get("/templates/XX/civil")).status_code == 422
    assert (await harness.client.get("/templates/KZ/piracy")).status_code == 422
    assert (await harness.client.get("/templates/KZ/civil", params={"language": "de"})).status_code == 422


@pytest.mark.parametrize("language, title", [("kk", "Азаматтық"), ("ru", "гражданского"), ("en", "civil")])
async def test_a_new_draft_starts_from_the_template_in_its_language(harness, language, title):
    case_id = await harness.case(category="civil")
    draft = await harness.draft(case_id, language=language)
    assert title in draft["content"]["title"]
    assert draft["content"]["consequences"] and draft["content"]["procedure"]
    assert draft["version"] == 1 and draft["status"] == "draft"
    # an empty KZ draft lacks what the law requires, except what the template supplies
    assert {m["code"] for m in draft["missing"]} == {"parties", "mediator", "subject", "terms", "performance"}


async def test_an_incomplete_kz_draft_cannot_be_sent_and_the_problem_lists_what_is_missing(harness):
    case_id = await harness.case()
    content = complete_content(subject=None, consequences="   ")
    content["obligations"][0].pop("deadline")
    content["parties"] = content["parties"][:1]
    draft = await harness.draft(case_id, language="en", content=content)
    r = await harness.client.post(f"/agreements/{draft['id']}/signature-request", json={"version": 1},
                                  headers=harness.mediator(case_id))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"].endswith("/incomplete-agreement")
    assert {m["code"] for m in problem["missing"]} == {"parties", "subject", "performance", "consequences"}
    assert all(m["citation"] and m["message"] for m in problem["missing"])
    assert "subject" in problem["detail"]
    v = (await harness.client.get(f"/agreements/{draft['id']}/validation", headers=harness.claimant(case_id))).json()
    assert v["complete"] is False and len(v["missing"]) == 4


async def test_required_content_differs_per_jurisdiction(harness):
    minimal = {"parties": complete_content()["parties"], "free_text": "Стороны договорились о мировом."}
    kz = await harness.draft(await harness.case(jurisdiction="KZ"), content=minimal)
    eu = await harness.draft(await harness.case(jurisdiction="EU"), content=minimal)
    assert {m["code"] for m in kz["missing"]} == {"mediator", "subject"}
    assert eu["missing"] == []
    assert (await harness.send_for_signature(eu))["status"] == "signing"
    # a jurisdiction without a rule set cannot be drafted
    r = await harness.client.post("/agreements", json={"case_id": await harness.case(jurisdiction="ZZ")},
                                  headers=harness.admin())
    assert r.status_code == 422 and r.json()["type"].endswith("/unsupported-jurisdiction")


async def test_versions_have_a_readable_diff_and_comments_are_kept(harness):
    case_id = await harness.case()
    draft = await harness.draft(case_id, content=complete_content())
    edit = complete_content(subject="Предмет спора: новая редакция")
    edit["obligations"][0]["amount"] = "1200000.00"
    r = await harness.client.put(f"/agreements/{draft['id']}/content", headers=harness.mediator(case_id),
                                 json={"base_version": 1, "content": edit})
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = await harness.client.put(f"/agreements/{draft['id']}/content", headers=harness.mediator(case_id),
                                     json={"base_version": 1, "content": edit})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    d = (await harness.client.get(f"/agreements/{draft['id']}/diff", params={"from": 1, "to": 2},
                                  headers=harness.respondent(case_id))).json()["diff"]
    assert "-  Взыскание задолженности" in d and "+  Предмет спора: новая редакция" in d
    # sums as the agreement's language writes them (no-break spaces between thousands)
    assert "-     Сумма: 1\u00a0500\u00a0000,00\u00a0KZT" in d and "+     Сумма: 1\u00a0200\u00a0000,00\u00a0KZT" in d
    versions = (await harness.client.get(f"/agreements/{draft['id']}/versions", headers=harness.claimant(case_id))).json()
    assert [v["version"] for v in versions["items"]] == [1, 2]
    v1 = (await harness.client.get(f"/agreements/{draft['id']}/versions/1", headers=harness.claimant(case_id))).json()
    assert v1["document"]["content"]["subject"].startswith("Взыскание")
    assert (await harness.client.get(f"/agreements/{draft['id']}/versions/9", headers=harness.claimant(case_id))).status_code == 404

    for headers, text in ((harness.claimant(case_id), "Прошу рассрочку"), (harness.mediator(case_id), "Учтено")):
        r = await harness.client.post(f"/agreements/{draft['id']}/comments", json={"text": text}, headers=headers)
        assert r.status_code == 201
    comments = (await harness.client.get(f"/agreements/{draft['id']}/comments", headers=harness.respondent(case_id))).json()
    assert [(c["author_role"], c["text"]) for c in comments["items"]] == [("party", "Прошу рассрочку"), ("mediator", "Учтено")]
    # parties comment but do not edit
    r = await harness.client.put(f"/agreements/{draft['id']}/content", headers=harness.claimant(case_id),
                                 json={"base_version": 2, "content": edit})
    assert r.status_code == 403


async def test_accepted_session_proposals_can_seed_a_draft(harness):
    case_id = await harness.case()
    evt = ProposalAccepted(case_id=case_id, session_id="s-1", proposal_id="p-77")
    async with harness.runtime.uow() as uow:
        await events.on_proposal_accepted(uow.session, evt, envelope(evt, source="/odr/sessions"))
        await uow.commit()
    listed = (await harness.client.get(f"/cases/{case_id}/accepted-proposals", headers=harness.mediator(case_id))).json()
    assert [p["proposal_id"] for p in listed["items"]] == ["p-77"] and "sessions" in listed["note"]
    draft = await harness.draft(case_id, proposal_ids=["p-77"])
    assert draft["source_proposals"] == ["p-77"]
    listed = (await harness.client.get(f"/cases/{case_id}/accepted-proposals", headers=harness.mediator(case_id))).json()
    assert listed["items"][0]["agreement_id"] == draft["id"]
    r = await harness.client.post("/agreements", json={"case_id": case_id, "proposal_ids": ["nope"]},
                                  headers=harness.mediator(case_id))
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-proposal")


@pytest.mark.parametrize("patch, field", [
    ({"obligations": [{"obligor": "respondent", "obligee": "respondent", "what": "x"}]}, "obligations"),
    ({"obligations": [{"obligor": "respondent", "obligee": "claimant", "what": "x", "amount": "10"}]}, "obligations"),
    ({"obligations": [{"obligor": "respondent", "obligee": "claimant", "what": "x", "amount": "1e9",
                       "currency": "KZT"}]}, "amount"),
    ({"obligations": [{"obligor": "x", "obligee": "claimant", "what": "x"}]}, "obligor"),
    ({"obligations": [{"obligor": "respondent", "obligee": "claimant", "what": "x", "deadline": "soon"}]}, "deadline"),
    ({"parties": [{"side": "claimant", "name": ""}]}, "name"),
    ({"subject": "x" * 5001}, "subject"),
    ({"unknown": 1}, "unknown"),
])
async def test_bad_content_gets_a_problem_naming_the_field_without_echoing_it(harness, patch, field):
    case_id = await harness.case()
    r = await harness.client.post("/agreements", json={"case_id": case_id, "content": patch},
                                  headers=harness.mediator(case_id))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any(field in map(str, e["loc"]) for e in r.json()["errors"]), r.json()
    assert "x" * 100 not in r.text


async def test_other_bad_requests_are_clear_problems(harness):
    case_id = await harness.case()
    m = harness.mediator(case_id)
    r = await harness.client.post("/agreements", content=b"{nope", headers={**m, "content-type": "application/json"})
    assert r.status_code == 422
    r = await harness.client.post("/agreements", json={"case_id": case_id, "language": "de"}, headers=m)
    assert r.status_code == 422
    r = await harness.client.post("/agreements", json={"case_id": case_id, "category": "piracy"}, headers=m)
    assert r.status_code == 422 and r.json()["type"].endswith("/no-template")
    r = await harness.client.post("/agreements", json={"case_id": case_id})
    assert r.status_code == 401
    r = await harness.client.post("/agreements", json={"case_id": case_id}, headers=harness.claimant(case_id))
    assert r.status_code == 403
    draft = await harness.draft(case_id)
    r = await harness.client.get(f"/agreements/{draft['id']}/diff", params={"from": 0, "to": 1}, headers=m)
    assert r.status_code == 422
    r = await harness.client.post(f"/agreements/{draft['id']}/signature-request", json={"version": 7}, headers=m)
    assert r.status_code == 409 and r.json()["type"].endswith("/stale-version")
    r = await harness.client.post(f"/agreements/{draft['id']}/comments", json={"text": ""}, headers=m)
    assert r.status_code == 422
    unknown_case = harness.mediator("not-yet-known")
    r = await harness.client.post("/agreements", json={"case_id": "not-yet-known"}, headers=unknown_case)
    assert r.status_code == 409 and r.json()["type"].endswith("/case-not-known-yet")
    assert datetime.now(timezone.utc)
