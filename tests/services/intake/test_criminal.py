"""Criminal-process mediation in Kazakhstan at intake: the facts Criminal Code Art. 68 turns on,
each criminal rule firing and not firing in Kazakh, Russian and English, a grave crime admitted
under Art. 68(2) with the right citation (and refused without its conditions), victim and suspect
with their representatives and legal representatives, and referral by a prosecutor or an
investigator with the criminal case number."""

from __future__ import annotations

import pytest

from services.intake import eligibility

from .conftest import bearer, criminal_parties

LANGS = ("kk", "ru", "en")
ART_68_2 = {"gravity": "grave", "first_offence": True, "suspect_circumstances": ["pregnant"]}

# rule id -> (offence that fires it, offence that does not)
CRIMINAL_RULES = {
    "kz.criminal.minor_medium": ({"gravity": "minor"}, {"gravity": "minor", "caused_death": True}),
    "kz.criminal.caused_death": ({"gravity": "misdemeanour", "caused_death": True}, {"gravity": "misdemeanour"}),
    "kz.criminal.grave.art68_2": (ART_68_2, {**ART_68_2, "suspect_circumstances": []}),
    "kz.criminal.grave.not_first_offence": ({**ART_68_2, "first_offence": False}, ART_68_2),
    "kz.criminal.grave.grave_harm": ({**ART_68_2, "caused_grave_harm": True}, ART_68_2),
    "kz.criminal.grave.circumstances": ({**ART_68_2, "suspect_circumstances": []}, ART_68_2),
    "kz.criminal.harm_to_make_good": ({"gravity": "medium"}, {"gravity": "medium", "harm_made_good": True}),
}


async def _dry_run(client, offence: dict, lang: str) -> dict:
    r = await client.post("/eligibility/dry-run", params={"lang": lang},
                          json={"jurisdiction": "KZ", "category": "criminal", "offence": offence})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("rule_id", sorted(CRIMINAL_RULES))
async def test_each_criminal_rule_fires_or_not_and_explains_itself_in_the_readers_language(app_client, rule_id, lang):
    rule = eligibility.current("KZ").rule(rule_id)
    fires, does_not = CRIMINAL_RULES[rule_id]
    fired = {e["rule"]: e for e in (await _dry_run(app_client, fires, lang))["explanation"]}
    assert rule_id in fired
    assert fired[rule_id]["citation"] == rule.citation.get(lang)
    assert fired[rule_id]["explanation"] == rule.explanation.get(lang)
    assert rule_id not in {e["rule"] for e in (await _dry_run(app_client, does_not, lang))["explanation"]}


# Done when: a grave crime filed with the Art. 68(2) conditions is eligible with the right
# citation, and without them is refused, in kk, ru and en.
CITATION_68_2 = {"kk": "№ 401-IV Заң, 1-бап; ҚК 68-бап, 2-бөлік", "ru": "Закон № 401-IV, ст. 1; УК, ст. 68 ч. 2",
                 "en": "Law No. 401-IV, Art. 1; Criminal Code, Art. 68(2)"}
ARTICLE_68_2 = {"kk": "68-бап, 2-бөлік", "ru": "ст. 68 ч. 2", "en": "Art. 68(2)"}
REFUSED = {"kk": "алғаш рет", "ru": "впервые", "en": "first time"}


@pytest.mark.parametrize("lang", LANGS)
async def test_a_grave_crime_with_the_art_68_2_conditions_is_eligible_with_the_citation(app_client, lang):
    r = await app_client.post("/cases", json={
        "jurisdiction": "KZ", "category": "criminal", "description": "theft of a car", "language": lang,
        "offence": ART_68_2, "parties": criminal_parties(victim_language=lang)})
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    assert case["eligibility"]["outcome"] == "eligible"
    deciding = case["eligibility"]["explanation"][0]
    assert deciding["rule"] == "kz.criminal.grave.art68_2" and deciding["citation"] == CITATION_68_2[lang]
    assert case["legal_effect"]["code"] == "KZ-CC-68-2" and ARTICLE_68_2[lang] in case["legal_effect"]["article"]


@pytest.mark.parametrize("lang", LANGS)
async def test_a_grave_crime_without_the_art_68_2_conditions_is_refused_with_the_citation(app_client, lang):
    r = await app_client.post("/cases", json={
        "jurisdiction": "KZ", "category": "criminal", "description": "theft of a car", "language": lang,
        "offence": {"gravity": "grave", "first_offence": False}, "parties": criminal_parties(victim_language=lang)})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"].endswith("/case-ineligible") and problem["language"] == lang
    rules = {x["rule"]: x for x in problem["rules"]}
    assert set(rules) == {"kz.criminal.grave.not_first_offence", "kz.criminal.grave.circumstances"}
    assert {x["citation"] for x in rules.values()} == {eligibility.current("KZ").rule(
        "kz.criminal.grave.circumstances").citation.get(lang)}
    assert ARTICLE_68_2[lang].split(":")[0] in rules["kz.criminal.grave.circumstances"]["citation"]
    assert REFUSED[lang] in problem["detail"]


async def test_victim_and_suspect_with_their_representatives_and_legal_representatives(app_client):
    r = await app_client.post("/cases", json={
        "jurisdiction": "KZ", "category": "criminal", "description": "a fight outside a school",
        "offence": {"gravity": "medium"}, "parties": criminal_parties()})
    assert r.status_code == 201, r.text
    token = bearer(r.json()["access_token"])
    case = (await app_client.get(f"/cases/{r.json()['case']['id']}", headers=token)).json()
    people = {(p["name"], p["side"], p["role"], p["procedural_role"]) for p in case["participants"]}
    assert people == {
        ("Aigerim Nurlanovna", "claimant", "party", "victim"),
        ("Serik Bekov", "claimant", "representative", None),
        ("Daniyar Ospanov", "respondent", "party", "suspect"),
        ("Gulnara Ospanova", "respondent", "representative", "legal_representative"),
        ("Askar Temirov", "respondent", "representative", None),
    }
    assert case["legal_effect"]["code"] == "KZ-CC-68-1"
    assert case["referred_by"] is None and case["criminal_case_number"] is None


@pytest.mark.parametrize("body, words", [
    ({"category": "criminal", "offence": {"gravity": "minor"},
      "parties": [{"side": "claimant", "name": "A"}, {"side": "respondent", "name": "B"}]}, "victim"),
    ({"category": "civil", "parties": [{"side": "victim", "name": "A"}, {"side": "suspect", "name": "B"}]},
     "claimant"),
    ({"category": "criminal", "offence": {"gravity": "minor", "suspect_circumstances": ["tall"]}}, "suspect_circumstances"),
    ({"category": "criminal", "offence": {"gravity": "minor"},
      "parties": [{"side": "victim", "name": "A"},
                  {"side": "accused", "name": "B LLP", "kind": "legal_entity",
                   "legal_representatives": [{"name": "C"}]}]}, "legal representatives"),
])
async def test_criminal_filings_that_do_not_fit_are_refused(app_client, body, words):
    r = await app_client.post("/cases", json={"jurisdiction": "KZ", "description": "x", **body})
    assert r.status_code == 422 and words in r.text


async def _body_token(app_client, kind: str, body_id: str) -> dict:
    admin = (await app_client.post("/dev/token", json={"subject": "ops", "role": "admin"})).json()["access_token"]
    created = await app_client.post("/admin/court-clients", headers=bearer(admin),
                                    json={"court_id": body_id, "name": f"{kind} {body_id}", "kind": kind})
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == kind
    r = await app_client.post("/auth/token", data={"grant_type": "client_credentials",
                                                   "client_id": created.json()["client_id"],
                                                   "client_secret": created.json()["client_secret"]})
    assert r.status_code == 200, r.text
    return bearer(r.json()["access_token"])


@pytest.mark.parametrize("kind", ["investigator", "prosecutor"])
async def test_an_investigator_or_prosecutor_refers_criminal_cases_with_the_criminal_case_number(app_client, kind):
    body_token = await _body_token(app_client, kind, f"{kind}-almaty-1")
    criminal = {"jurisdiction": "KZ", "category": "criminal", "description": "damage to a neighbour's car",
                "offence": {"gravity": "minor"}, "parties": criminal_parties(suspect_role="accused")}
    missing = await app_client.post("/court/v1/referrals", headers=body_token, json=criminal)
    assert missing.status_code == 422 and "criminal_case_number" in missing.text
    civil = await app_client.post("/court/v1/referrals", headers=body_token,
                                  json={"jurisdiction": "KZ", "category": "civil", "description": "rent",
                                        "docket_number": "2-1/2026"})
    assert civil.status_code == 422 and civil.json()["type"].endswith("/referral-not-criminal")

    r = await app_client.post("/court/v1/referrals", headers=body_token,
                              json={**criminal, "criminal_case_number": "247500031000123"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["referred_by"] == kind and case["criminal_case_number"] == "247500031000123"
    assert case["court_id"] == f"{kind}-almaty-1" and case["docket_number"] is None
    assert case["legal_effect"]["code"] == "KZ-CC-68-1"
    roles = {p["procedural_role"] for p in case["participants"] if p["role"] == "party"}
    assert roles == {"victim", "accused"}
    seen = await app_client.get(f"/cases/{case['id']}", headers=body_token)
    assert seen.status_code == 200 and seen.json()["criminal_case_number"] == "247500031000123"


async def test_a_court_still_refers_civil_cases_with_its_docket_number(app_client):
    court = await _body_token(app_client, "court", "almaty-civil")
    r = await app_client.post("/court/v1/referrals", headers=court,
                              json={"jurisdiction": "KZ", "category": "civil", "description": "rent"})
    assert r.status_code == 422 and "docket_number" in r.text
    r = await app_client.post("/court/v1/referrals", headers=court,
                              json={"jurisdiction": "KZ", "category": "civil", "description": "rent",
                                    "docket_number": "2-1/2026"})
    assert r.status_code == 201 and r.json()["referred_by"] == "court" and r.json()["legal_effect"] is None
