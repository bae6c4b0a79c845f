"""The eligibility engine: every Kazakhstan rule with a case that fires it and one that does not,
the EU rule set, decisions that name the rule-set version and the rules fired, the dry run, and
ineligible filings refused with the citation in the filer's language."""

from __future__ import annotations

import json

import pytest

from services.intake import eligibility
from services.intake.filing import CaseFacts

from .conftest import bearer, criminal_parties, parties


def facts(**kw) -> dict:
    body = {"jurisdiction": "KZ", "category": "civil"}
    body.update(kw)
    return CaseFacts.model_validate(body).rule_facts()


def party(side: str, **kw) -> dict:
    return {"side": side, "name": f"{side} name", **kw}


TWO = [party("claimant"), party("respondent")]
CRIMINAL = {"category": "criminal"}
# a grave crime that Criminal Code Art. 68(2) lets be mediated
ART_68_2 = {"gravity": "grave", "first_offence": True, "suspect_circumstances": ["woman_aged_58_or_over"]}

# rule id -> (facts that fire it, facts that do not)
KZ_CASES = {
    "kz.mediable.private_law": (facts(category="labour"), facts(category="administrative")),
    "kz.mediable.administrative": (facts(category="administrative"), facts(category="family")),
    "kz.mediable.administrative_offence": (facts(category="administrative_offence"), facts(category="commercial")),
    "kz.criminal.minor_medium": (facts(**CRIMINAL, offence={"gravity": "medium"}),
                                 facts(**CRIMINAL, offence={"gravity": "grave"})),
    "kz.criminal.caused_death": (facts(**CRIMINAL, offence={"gravity": "medium", "caused_death": True}),
                                 facts(**CRIMINAL, offence={"gravity": "medium"})),
    "kz.criminal.grave.art68_2": (facts(**CRIMINAL, offence=ART_68_2),
                                  facts(**CRIMINAL, offence={**ART_68_2, "first_offence": False})),
    "kz.criminal.grave.not_first_offence": (facts(**CRIMINAL, offence={**ART_68_2, "first_offence": None}),
                                            facts(**CRIMINAL, offence=ART_68_2)),
    "kz.criminal.grave.grave_harm": (facts(**CRIMINAL, offence={**ART_68_2, "caused_grave_harm": True}),
                                     facts(**CRIMINAL, offence=ART_68_2)),
    "kz.criminal.grave.circumstances": (facts(**CRIMINAL, offence={**ART_68_2, "suspect_circumstances": []}),
                                        facts(**CRIMINAL, offence=ART_68_2)),
    "kz.criminal.harm_to_make_good": (facts(**CRIMINAL, offence={"gravity": "minor"}),
                                      facts(**CRIMINAL, offence={"gravity": "minor", "harm_made_good": True})),
    "kz.criminal.especially_grave": (facts(**CRIMINAL, offence={"gravity": "especially_grave"}),
                                     facts(**CRIMINAL, offence={"gravity": "grave"})),
    "kz.criminal.corruption": (facts(**CRIMINAL, offence={"gravity": "minor", "corruption": True}),
                               facts(**CRIMINAL, offence={"gravity": "minor"})),
    "kz.criminal.public_service": (facts(**CRIMINAL, offence={"gravity": "medium", "against_public_service": True}),
                                   facts(**CRIMINAL, offence={"gravity": "medium", "corruption": False})),
    "kz.state_body_party": (facts(category="labour", parties=[party("claimant"), party("respondent", kind="state_body")]),
                            facts(category="administrative",
                                  parties=[party("claimant"), party("respondent", kind="state_body")])),
    "kz.third_parties": (facts(affects_third_parties=True), facts(affects_third_parties=False)),
    "kz.incapacity": (facts(parties=[party("claimant", legal_capacity="limited"), party("respondent")]),
                      facts(parties=TWO)),
}
KZ_OUTCOME = {
    "kz.criminal.caused_death": "ineligible", "kz.criminal.grave.not_first_offence": "ineligible",
    "kz.criminal.grave.grave_harm": "ineligible", "kz.criminal.grave.circumstances": "ineligible",
    "kz.criminal.especially_grave": "ineligible",
    "kz.criminal.corruption": "ineligible", "kz.criminal.public_service": "ineligible",
    "kz.state_body_party": "ineligible", "kz.third_parties": "ineligible", "kz.incapacity": "ineligible",
}


def test_every_kazakhstan_case_rule_has_a_test_here():
    rs = eligibility.current("KZ")
    assert {r.id for r in rs.case_rules} == set(KZ_CASES)


@pytest.mark.parametrize("rule_id", sorted(KZ_CASES))
def test_each_kazakhstan_rule_fires_when_it_should_and_not_otherwise(rule_id):
    rs = eligibility.current("KZ")
    fires, does_not = KZ_CASES[rule_id]
    decision = eligibility.evaluate_case(rs, fires)
    assert rule_id in decision.rules_fired
    assert decision.outcome == KZ_OUTCOME.get(rule_id, "eligible")
    assert decision.rule_set == "KZ@2026.1"
    assert rule_id not in eligibility.evaluate_case(rs, does_not).rules_fired


@pytest.mark.parametrize("kind, age, outcome", [("public", 39, "ineligible"), ("public", 40, "eligible"),
                                                ("public", None, "ineligible"), ("professional", 30, "eligible")])
def test_the_kazakh_age_rule_for_public_mediators(kind, age, outcome):
    rs = eligibility.current("KZ")
    decision = eligibility.evaluate_mediator(rs, {"kind": kind, "age": age, "register_number": "1", "registry": "akimat"})
    assert decision.outcome == outcome
    assert ("kz.mediator.public_age" in decision.rules_fired) == (outcome == "ineligible")


def test_register_membership_is_required_in_kazakhstan():
    rs = eligibility.current("KZ")
    off = eligibility.evaluate_mediator(rs, {"kind": "professional", "register_number": None, "registry": "x"})
    on = eligibility.evaluate_mediator(rs, {"kind": "professional", "register_number": "7", "registry": "x"})
    assert off.rules_fired == ["kz.mediator.register"] and on.outcome == "eligible"


@pytest.mark.parametrize("body, outcome, rule", [
    ({"category": "commercial", "cross_border": True}, "eligible", "eu.scope.civil_commercial"),
    ({"category": "commercial", "cross_border": False}, "needs_review", "eu.scope.not_cross_border"),
    ({"category": "administrative"}, "ineligible", "eu.excluded.public_law"),
    ({"category": "family", "cross_border": True}, "needs_review", "eu.scope.not_at_disposal"),
    ({"category": "civil", "cross_border": True, "parties": [party("claimant"), party("respondent", kind="state_body")]},
     "needs_review", "eu.excluded.acta_iure_imperii"),
])
def test_the_eu_directive_rule_set(body, outcome, rule):
    decision = eligibility.evaluate_case(eligibility.current("EU"), facts(jurisdiction="EU", **body))
    assert decision.outcome == outcome and rule in decision.rules_fired


def test_every_rule_explains_and_cites_itself_in_each_language_of_its_rule_set():
    for versions in eligibility.load_rule_sets().values():
        for rs in versions.values():
            for rule in [*rs.case_rules, *rs.mediator_rules]:
                for text in (rule.explanation, rule.citation):
                    in_each = {text.get(lang) for lang in rs.languages}
                    assert len(in_each) == len(rs.languages) and all(in_each), (rs.ref, rule.id)


def test_a_rule_set_missing_a_language_it_declares_is_refused(tmp_path):
    incomplete = json.loads((eligibility.RULESETS / "KZ-2023.1.json").read_text())
    del incomplete["case_rules"][0]["citation"]["kk"]
    (tmp_path / "KZ-2023.1.json").write_text(json.dumps(incomplete))
    with pytest.raises(ValueError, match="kz.mediable.private_law.citation"):
        eligibility.load_rule_sets(tmp_path)


def test_a_broken_rule_set_file_is_refused(tmp_path):
    good = json.loads((eligibility.RULESETS / "KZ-2023.1.json").read_text())
    good["case_rules"][0]["condition"] = {"fact": "category", "roughly": "civil"}
    (tmp_path / "KZ-2023.1.json").write_text(json.dumps(good))
    with pytest.raises(ValueError, match="exactly one"):
        eligibility.load_rule_sets(tmp_path)


async def test_the_dry_run_explains_in_the_requested_language(app_client):
    body = {"jurisdiction": "KZ", "category": "criminal", "offence": {"gravity": "minor", "corruption": True}}
    r = await app_client.post("/eligibility/dry-run", json=body, params={"lang": "ru"})
    assert r.status_code == 200
    assert r.json()["outcome"] == "ineligible" and r.json()["rule_set"] == "KZ@2026.1"
    assert r.json()["explanation"][0]["rule"] == "kz.criminal.corruption"
    assert "коррупционным" in r.json()["explanation"][0]["explanation"]
    r = await app_client.get("/rulesets")
    assert {i["jurisdiction"] for i in r.json()["items"]} == {"EU", "KG", "KZ"}


@pytest.mark.parametrize("lang, words, citation", [
    ("kk", "Сыбайлас жемқорлық", "№ 401-IV Заң, 1-бап, 3-тармақ"),
    ("ru", "коррупционным", "Закон № 401-IV, ст. 1 п. 3"),
    ("en", "corruption", "Law No. 401-IV, Art. 1(3)")])
async def test_an_ineligible_case_is_refused_with_the_citation_in_the_filers_language(app_client, lang, words, citation):
    body = {"jurisdiction": "KZ", "category": "criminal", "description": "bribe", "language": lang,
            "offence": {"gravity": "minor", "corruption": True}}
    r = await app_client.post("/cases", json=body, headers={"Idempotency-Key": f"k-{lang}"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"].endswith("/case-ineligible") and problem["language"] == lang
    assert words in problem["detail"]
    assert problem["rules"][0]["citation"] == citation
    assert problem["rule_set"] == "KZ@2026.1"
    again = await app_client.post("/cases", json=body, headers={"Idempotency-Key": f"k-{lang}"})
    assert again.status_code == 422 and again.json()["case_id"] == problem["case_id"]


async def test_the_decision_is_stored_with_the_filed_case(flow, app_client):
    case_id, claimant = await flow.file(category="criminal", offence=ART_68_2, parties=criminal_parties())
    case = (await app_client.get(f"/cases/{case_id}", headers=claimant)).json()
    assert case["eligibility"]["outcome"] == "eligible"
    assert case["eligibility"]["rules_fired"] == ["kz.criminal.grave.art68_2", "kz.criminal.harm_to_make_good"]
    # the victim reads the explanation in Kazakh, their language
    assert "ҚК 68-бап, 2-бөлік" in case["eligibility"]["explanation"][0]["explanation"]


async def test_needs_review_waits_for_an_administrator(flow, app_client):
    # a commercial dispute under the EU Directive that is not cross-border: a person decides
    case_id, claimant = await flow.file(jurisdiction="EU", category="commercial", cross_border=False)
    inv = await flow.invite(case_id, claimant)
    r = await app_client.post(f"/invitations/{inv['link_token']}/answer",
                              json={"decision": "consent", "text_version": "EU-consent-2008.1"})
    assert r.status_code == 200, r.text
    respondent = bearer(r.json()["access_token"])
    await flow.screen(case_id, claimant)
    await flow.screen(case_id, respondent)
    assert await flow.status(case_id, claimant) == "needs_review"
    admin = await flow.admin()
    r = await app_client.post(f"/admin/cases/{case_id}/eligibility-review", headers=admin,
                              json={"outcome": "eligible", "reason": "national law applies the Directive's rules"})
    assert r.status_code == 200 and r.json()["status"] == "eligible"
    r = await app_client.post(f"/admin/cases/{case_id}/eligibility-review", headers=admin,
                              json={"outcome": "eligible", "reason": "again"})
    assert r.status_code == 409
