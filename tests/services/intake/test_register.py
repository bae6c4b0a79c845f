"""The mediator register: accounts and login, eligibility per jurisdiction, conflict-of-interest
checks that block a proposal, and ranking."""

from __future__ import annotations

from .conftest import bearer, parties


async def test_a_declared_relation_or_organisation_blocks_the_mediator(app_client, flow):
    admin = await flow.admin()
    related, _ = await flow.mediator(admin, relations=[{"name": "  too «Dala   Trade» ", "relationship": "client"}])
    by_id, _ = await flow.mediator(admin, relations=[{"name": "Someone Else", "id_number": "900101300123"}])
    by_org, _ = await flow.mediator(admin, organisations=["Bekov & Partners"])
    clean, _ = await flow.mediator(admin, relations=[{"name": "Dala Trading"}], organisations=["Other LLP"])
    case_id, claimant, respondent = await flow.to_eligible()

    listed = [m["mediator_id"] for m in (await app_client.get(f"/cases/{case_id}/mediator-candidates",
                                                              headers=claimant)).json()]
    assert clean in listed and not {related, by_id, by_org} & set(listed)
    for mediator_id, who in ((related, "party (respondent)"), (by_id, "party (claimant)"),
                             (by_org, "representative (claimant)")):
        r = await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": mediator_id},
                                  headers=respondent)
        assert r.status_code == 409 and r.json()["type"].endswith("/conflict-of-interest")
        assert any(who in c for c in r.json()["conflicts"])
        assert "Dala" not in r.text and "Bekov" not in r.text and "900101300123" not in r.text
    r = await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": clean}, headers=respondent)
    assert r.status_code == 201


async def test_a_conflict_declared_after_the_proposal_still_blocks_acceptance(app_client, flow):
    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    case_id, claimant, respondent = await flow.to_eligible()
    proposal = (await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": mediator_id},
                                      headers=claimant)).json()["id"]
    await app_client.post(f"/cases/{case_id}/mediator-proposals/{proposal}/accept", headers=respondent)
    profile = {"full_name": "Mediator", "kind": "professional", "register_number": "R", "registry": "chamber",
               "languages": ["ru"], "jurisdictions": ["KZ"], "relations": [{"name": "Aigerim Nurlanovna"}]}
    assert (await app_client.put(f"/admin/mediators/{mediator_id}", json=profile, headers=admin)).status_code == 200
    mediator = await flow.login(username)
    r = await app_client.post(f"/cases/{case_id}/mediator-proposals/{proposal}/decision", headers=mediator,
                              json={"decision": "accept", "impartiality_declaration": True})
    assert r.status_code == 409 and r.json()["type"].endswith("/conflict-of-interest")
    assert await flow.status(case_id, claimant) == "eligible"


async def test_jurisdiction_rules_decide_who_may_serve(app_client, flow):
    admin = await flow.admin()
    young, _ = await flow.mediator(admin, kind="public", birth_date="1995-05-01", registry="Almaty akimat")
    unregistered, _ = await flow.mediator(admin, register_number=None)
    elsewhere, _ = await flow.mediator(admin, jurisdictions=["EU"])
    senior, _ = await flow.mediator(admin, kind="public", birth_date="1970-05-01", registry="Almaty akimat")
    case_id, claimant, _ = await flow.to_eligible()
    listed = [m["mediator_id"] for m in (await app_client.get(f"/cases/{case_id}/mediator-candidates",
                                                              headers=claimant)).json()]
    assert senior in listed and not {young, unregistered, elsewhere} & set(listed)
    r = await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": young}, headers=claimant)
    assert r.status_code == 422 and r.json()["rules"][0]["rule"] == "kz.mediator.public_age"
    r = await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": unregistered},
                              headers=claimant)
    assert r.status_code == 422 and r.json()["rules"][0]["rule"] == "kz.mediator.register"


async def test_ranking_prefers_language_specialisation_and_free_capacity(app_client, flow):
    admin = await flow.admin()
    english, _ = await flow.mediator(admin, languages=["en"], specialisations=["family"])
    both_langs_civil, _ = await flow.mediator(admin, languages=["kk", "ru"], specialisations=["civil"])
    both_langs, _ = await flow.mediator(admin, languages=["kk", "ru"], specialisations=[])
    case_id, claimant, _ = await flow.to_eligible()
    ranked = (await app_client.get(f"/cases/{case_id}/mediator-candidates", headers=claimant)).json()
    order = [m["mediator_id"] for m in ranked]
    assert order.index(both_langs_civil) < order.index(both_langs) < order.index(english)
    # The reasons are read by the party choosing: in their language (the claimant's is Kazakh), or
    # in the language of the page that asks.
    assert "барлық тараптың тілінде сөйлейді" in ranked[0]["reasons"]
    assert "азаматтық дауларына маманданған" in ranked[0]["reasons"]
    assert ranked[0]["reason_codes"][:2] == ["all_languages", "specialised"]
    in_russian = (await app_client.get(f"/cases/{case_id}/mediator-candidates?lang=ru", headers=claimant)).json()
    assert in_russian[0]["reasons"][:2] == ["говорит на языках всех сторон", "специализируется на спорах: гражданских"]
    assert in_russian[0]["reasons"][2].startswith("сейчас ведёт дел: 0 из")
    in_english = (await app_client.get(f"/cases/{case_id}/mediator-candidates?lang=en", headers=claimant)).json()
    assert "speaks every party's language" in in_english[0]["reasons"]


async def test_the_proposed_mediator_reads_the_parties_representatives_and_dispute_before_accepting(app_client, flow):
    """Before the impartiality declaration the proposed mediator sees who the people are (names,
    IIN/BIN, the representative and their firm) and what the dispute is about; the parties see
    no one's IIN/BIN through the case and no filed description of the other side's."""
    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    case_id, claimant, respondent = await flow.to_eligible()
    proposal = (await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": mediator_id},
                                      headers=claimant)).json()["id"]
    await app_client.post(f"/cases/{case_id}/mediator-proposals/{proposal}/accept", headers=respondent)
    mediator = await flow.login(username)
    r = await app_client.get(f"/cases/{case_id}?lang=kk", headers=mediator)
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["description"] == "Unpaid invoice for deliveries"
    people = {p["name"]: p for p in case["participants"]}
    assert people["Aigerim Nurlanovna"]["id_number"] == "900101300123"
    assert people["TOO Dala Trade"]["id_number"] == "180440012345"
    rep = people["Serik Bekov"]
    assert rep["role"] == "representative" and rep["organisation"] == "Bekov & Partners"
    assert rep["represents_id"] == people["Aigerim Nurlanovna"]["id"]
    # the explanation follows the page's language (the case's own is Kazakh here, so ask for Russian)
    in_russian = (await app_client.get(f"/cases/{case_id}?lang=ru", headers=mediator)).json()
    assert in_russian["eligibility"]["explanation"] and all(not e["explanation"].isascii()
               for e in in_russian["eligibility"]["explanation"])
    for party in (claimant, respondent):
        seen = (await app_client.get(f"/cases/{case_id}", headers=party)).json()
        assert seen["description"] is None and all(p["id_number"] is None for p in seen["participants"])


async def test_the_agreement_to_mediate_is_shown_in_the_readers_language(app_client, flow):
    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    case_id, claimant, respondent = await flow.to_eligible()
    mediator = await flow.assign(case_id, claimant, respondent, mediator_id, username)
    texts = {lang: (await app_client.get(f"/cases/{case_id}/agreement-to-mediate?lang={lang}",
                                         headers=mediator)).json()["text"] for lang in ("kk", "ru", "en")}
    assert texts["kk"].startswith("Тараптар мен медиатор") and texts["ru"].startswith("Стороны и медиатор")
    assert texts["en"].isascii()
    # without a language: a party reads it in their own (the claimant's is Kazakh, the respondent's Russian)
    own = (await app_client.get(f"/cases/{case_id}/agreement-to-mediate", headers=respondent)).json()["text"]
    assert own == texts["ru"]


async def test_capacity_and_availability(app_client, flow):
    admin = await flow.admin()
    busy, username = await flow.mediator(admin, capacity=1)
    away, _ = await flow.mediator(admin, available=False)
    first, claimant, respondent = await flow.to_eligible()
    await flow.assign(first, claimant, respondent, busy, username)
    second, claimant2, _ = await flow.to_eligible()
    listed = [m["mediator_id"] for m in (await app_client.get(f"/cases/{second}/mediator-candidates",
                                                              headers=claimant2)).json()]
    assert busy not in listed and away not in listed
    r = await app_client.post(f"/cases/{second}/mediator-proposals", json={"mediator_id": busy}, headers=claimant2)
    assert r.status_code == 409 and r.json()["type"].endswith("/mediator-unavailable")


async def test_accounts_login_and_what_a_mediator_token_reaches(app_client, flow):
    admin = await flow.admin()
    r = await app_client.post("/admin/accounts", json={"username": "ops", "password": "a long admin password"},
                              headers=admin)
    assert r.status_code == 201
    r = await app_client.post("/admin/accounts", json={"username": "ops", "password": "a long admin password"},
                              headers=admin)
    assert r.status_code == 409
    ops = await app_client.post("/auth/login", json={"username": "ops", "password": "a long admin password"})
    assert ops.status_code == 200
    bad = await app_client.post("/auth/login", json={"username": "ops", "password": "wrong"})
    nobody = await app_client.post("/auth/login", json={"username": "nobody", "password": "wrong"})
    assert bad.status_code == nobody.status_code == 401 and bad.json()["type"] == nobody.json()["type"]
    r = await app_client.post("/admin/accounts", json={"username": "weak", "password": "hunter2"}, headers=admin)
    assert r.status_code == 422 and "hunter2" not in r.text

    mediator_id, username = await flow.mediator(bearer(ops.json()["access_token"]))
    mine, claimant, respondent = await flow.to_eligible()
    token = await flow.assign(mine, claimant, respondent, mediator_id, username)
    other, other_claimant = await flow.file(parties=parties(respondent="Someone"))
    assert (await app_client.get(f"/cases/{mine}", headers=token)).status_code == 200
    assert (await app_client.get(f"/cases/{other}", headers=token)).status_code == 404
    assert (await app_client.get("/admin/mediators", headers=token)).status_code == 403
    assert (await app_client.get("/admin/mediators", headers=other_claimant)).status_code == 403
    listed = (await app_client.get("/admin/mediators", headers=admin)).json()
    assert [m["active_cases"] for m in listed if m["id"] == mediator_id] == [1]
    relogin = await flow.login(username)  # a new login carries the assigned cases
    assert (await app_client.get(f"/cases/{mine}", headers=relogin)).status_code == 200
