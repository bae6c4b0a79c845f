"""Kyrgyzstan's rule set (KG): every rule with a case that fires it and one that does not, read in
Kyrgyz, Russian and English; its mediator rules; and a Kyrgyz case screened by its own rule set
with explanations, citations and the consent text in Kyrgyz, through the API."""

from __future__ import annotations

import re

import pytest

from services.intake import eligibility
from services.intake.filing import CaseFacts

from .conftest import bearer

KYRGYZ = re.compile("[өүң]", re.I)  # letters Kyrgyz writes and Russian does not
KAZAKH_ONLY = re.compile("[әғқұһі]", re.I)  # letters Kazakh writes and Kyrgyz does not


def facts(**kw) -> dict:
    body = {"jurisdiction": "KG", "category": "civil"}
    body.update(kw)
    return CaseFacts.model_validate(body).rule_facts()


def party(side: str, **kw) -> dict:
    return {"side": side, "name": f"{side} name", **kw}


def criminal(gravity: str) -> dict:
    return facts(category="criminal", offence={"gravity": gravity})


# rule id -> (facts that fire it, facts that do not, outcome when it fires)
KG_CASES = {
    "kg.mediable.private_law": (facts(category="family"), facts(category="administrative"), "eligible"),
    "kg.criminal.minor_less_grave": (criminal("medium"), criminal("grave"), "eligible"),
    "kg.criminal.grave": (criminal("especially_grave"), criminal("minor"), "needs_review"),
    "kg.criminal.misdemeanour": (criminal("misdemeanour"), criminal("medium"), "needs_review"),
    "kg.scope.public_law": (facts(category="administrative_offence"), facts(category="labour"), "needs_review"),
    "kg.third_parties": (facts(affects_third_parties=True), facts(affects_third_parties=False), "needs_review"),
    "kg.incapacity": (facts(parties=[party("claimant"), party("respondent", legal_capacity="incapable")]),
                      facts(parties=[party("claimant", legal_capacity="limited"), party("respondent")]),
                      "needs_review"),
}
LANGS = ("ky", "ru", "en")


def test_kyrgyzstan_has_a_rule_set_of_its_own_in_kyrgyz_russian_and_english():
    rs = eligibility.current("KG")
    assert rs.ref == "KG@2025.1" and rs.languages == ["ky", "ru", "en"] and rs.time_zone == "Asia/Bishkek"
    assert "No. 256" in rs.law and "14 November 2025" in rs.law
    assert {r.id for r in rs.case_rules} == set(KG_CASES)
    assert {r.id for r in rs.mediator_rules} == {"kg.mediator.certificate", "kg.mediator.age", "kg.mediator.training"}
    assert "KG" in eligibility.jurisdictions()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("rule_id", sorted(KG_CASES))
def test_each_kyrgyz_rule_fires_when_it_should_and_not_otherwise(rule_id, lang):
    rs = eligibility.current("KG")
    fires, does_not, outcome = KG_CASES[rule_id]
    decision = eligibility.evaluate_case(rs, fires)
    assert rule_id in decision.rules_fired and decision.rule_set == "KG@2025.1"
    assert decision.outcome == outcome
    explained = {e["rule"]: e for e in decision.explain(lang)}[rule_id]
    rule = rs.rule(rule_id)
    assert explained["citation"] == rule.citation.get(lang) and explained["explanation"] == rule.explanation.get(lang)
    text = explained["citation"] + " " + explained["explanation"]
    if lang == "ky":
        assert KYRGYZ.search(text) and not KAZAKH_ONLY.search(text), text
    elif lang == "ru":
        assert re.search("[а-я]", text) and not KYRGYZ.search(text), text
    else:
        assert not re.search("[а-яё]", text, re.I), text
    assert rule_id not in eligibility.evaluate_case(rs, does_not).rules_fired


def test_each_citation_says_which_text_it_comes_from():
    rs = eligibility.current("KG")
    for rule in [*rs.case_rules, *rs.mediator_rules]:
        assert re.search(r"No\. (256|127|161)|Criminal Code|Code of Offences", rule.citation.en), rule.id
        assert re.search(r"№ (256|127|161)|Кодекс", rule.citation.ru), rule.id
        assert re.search(r"№ (256|127|161)|кодекс", rule.citation.ky, re.I), rule.id


@pytest.mark.parametrize("mediator, fired", [
    ({"register_number": "C-17", "registry": "Chamber of Mediators", "age": 31, "training": "120 h"}, []),
    ({"register_number": None, "registry": "Chamber of Mediators", "age": 31, "training": "120 h"},
     ["kg.mediator.certificate"]),
    ({"register_number": "C-17", "registry": "Chamber of Mediators", "age": 24, "training": "120 h"},
     ["kg.mediator.age"]),
    ({"register_number": "C-17", "registry": "Chamber of Mediators", "age": 25, "training": "120 h"}, []),
    ({"register_number": "C-17", "registry": "Chamber of Mediators", "age": 40, "training": None},
     ["kg.mediator.training"]),
])
def test_the_kyrgyz_register_rules_for_mediators(mediator, fired):
    decision = eligibility.evaluate_mediator(eligibility.current("KG"), {"kind": "professional", **mediator})
    assert decision.rules_fired == fired
    assert decision.outcome == ("ineligible" if fired else "eligible")


async def test_the_dry_run_screens_a_kyrgyz_case_by_its_own_rule_set_in_kyrgyz(app_client):
    r = await app_client.post("/eligibility/dry-run", json={"jurisdiction": "KG", "category": "labour"},
                              params={"lang": "ky"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rule_set"] == "KG@2025.1" and body["outcome"] == "eligible"
    assert body["explanation"][0]["explanation"].startswith("Жарандык, үй-бүлөлүк жана эмгек")
    assert "№ 256 Мыйзам" in body["explanation"][0]["citation"]
    items = (await app_client.get("/rulesets")).json()["items"]
    assert "KG" in {i["jurisdiction"] for i in items}


async def test_a_kyrgyz_case_is_screened_by_its_own_rule_set_with_explanations_in_kyrgyz(app_client, flow):
    # A criminal case names its parties by their procedural roles: the victim files, the suspect answers.
    parties = [{"side": "victim", "name": "Айпери Асанова", "language": "ky"},
               {"side": "suspect", "name": "Бакыт Осмонов", "language": "ky"}]
    case_id, claimant = await flow.file(jurisdiction="KG", category="criminal", offence={"gravity": "minor"},
                                        language="ky", parties=parties,
                                        description="Телефонум уурдалды, зыян төлөнсө элдешүүгө макулмун")
    case = (await app_client.get(f"/cases/{case_id}", headers=claimant)).json()
    assert case["jurisdiction"] == "KG" and case["language"] == "ky"
    assert {p["procedural_role"] for p in case["participants"] if p["role"] == "party"} == {"victim", "suspect"}
    eligibility_view = case["eligibility"]
    assert eligibility_view["rule_set"] == "KG@2025.1" and eligibility_view["outcome"] == "eligible"
    [rule] = eligibility_view["explanation"]
    assert rule["rule"] == "kg.criminal.minor_less_grave"
    assert rule["explanation"].startswith("Анча оор эмес жана оордугу орточо")
    assert rule["citation"].startswith("№ 256 Мыйзам (2025)") and "Кылмыш-жаза кодекси" in rule["citation"]

    # The other side reads the invitation, the Kyrgyz consent text and its citation in Kyrgyz.
    inv = await flow.invite(case_id, claimant)
    view = (await app_client.get(f"/invitations/{inv['link_token']}", params={"lang": "ky"})).json()
    assert view["consent_text"].startswith("Медиацияга өз эрким менен катышууга макулмун")
    assert "платформанын демейки мөөнөтү" in view["answer_window_citation"]
    r = await app_client.post(f"/invitations/{inv['link_token']}/answer",
                              json={"decision": "consent", "text_version": "KG-consent-2025.1"})
    assert r.status_code == 200, r.text
    respondent = bearer(r.json()["access_token"])
    questions = (await app_client.get("/screening/questionnaire", params={"lang": "ky"})).json()
    assert all(KYRGYZ.search(q["text"]) or "?" in q["text"] for q in questions["questions"])
    assert questions["questions"][0]["text"].startswith("Экинчи тарап")
    assert (await app_client.get(f"/cases/{case_id}", headers=respondent)).json()["status"] == "screening"


async def test_a_refused_kyrgyz_filing_explains_in_the_filers_language(app_client):
    """No KG rule refuses a case outright (the law's limits are for a person to check), so the
    grave case waits for review, in every language."""
    for lang, words in (("ky", "адис текшерет"), ("ru", "проверит специалист"), ("en", "a person will check")):
        r = await app_client.post("/eligibility/dry-run", params={"lang": lang},
                                  json={"jurisdiction": "KG", "category": "criminal", "offence": {"gravity": "grave"}})
        assert r.json()["outcome"] == "needs_review" and words in r.json()["explanation"][0]["explanation"]


async def test_a_kyrgyz_filing_names_the_cases_time_zone_for_the_first_notices(app_client, flow):
    from .test_flow import outbox_events

    case_id, _ = await flow.file(jurisdiction="KG", category="labour", language="ky")
    [filed] = [e for e in await outbox_events(app_client.app, case_id) if e["type"] == "odr.case.filed.v1"]
    assert filed["data"]["time_zone"] == "Asia/Bishkek"
