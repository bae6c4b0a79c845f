"""Who may see what: parties and mediators only their own cases, courts only executed agreements
of the cases they referred (never another court's), and "not yours" looks like "absent"."""

from __future__ import annotations

from .conftest import complete_content


async def test_parties_and_mediators_see_only_their_own_cases(harness):
    mine = await harness.case()
    theirs = await harness.case()
    draft = await harness.draft(theirs, content=complete_content())
    base = f"/agreements/{draft['id']}"
    for headers in (harness.claimant(mine), harness.respondent(mine), harness.mediator(mine, "mediator-2")):
        for path in ("", "/versions", "/versions/1", "/comments", "/validation", "/audit", "/obligations"):
            r = await harness.client.get(base + path, headers=headers)
            assert r.status_code == 404 and r.json()["type"].endswith("/not-found"), (path, r.text)
        r = await harness.client.post(base + "/comments", json={"text": "hi"}, headers=headers)
        assert r.status_code == 404
        r = await harness.client.get("/agreements", params={"case_id": theirs}, headers=headers)
        assert r.status_code == 404
    assert (await harness.client.get(base, headers=harness.claimant(theirs))).status_code == 200
    listed = (await harness.client.get("/agreements", params={"case_id": theirs}, headers=harness.respondent(theirs))).json()
    assert [a["id"] for a in listed["items"]] == [draft["id"]]
    assert (await harness.client.get(base, headers=harness.admin())).status_code == 200
    assert (await harness.client.get(base)).status_code == 401
    # a party of another case cannot sign it either
    await harness.send_for_signature(draft)
    r = await harness.client.post(base + "/signatures", headers=harness.claimant(mine),
                                  json={"version": 1, "document_hash": draft["document_hash"]})
    assert r.status_code == 404


async def test_court_a_never_reads_court_b_agreements_or_events(harness):
    a = await harness.executed(court="court-a")
    b = await harness.executed(court="court-b")
    court_a, court_b = harness.court("court-a"), harness.court("court-b")

    feed_a = (await harness.client.get("/court/v1/feed", headers=court_a)).json()["items"]
    feed_b = (await harness.client.get("/court/v1/feed", headers=court_b)).json()["items"]
    assert {i["agreement_id"] for i in feed_a} == {a["id"]} and {i["agreement_id"] for i in feed_b} == {b["id"]}
    assert (await harness.client.get("/court/v1/cases", headers=court_a)).json()["items"][0]["case_id"] == a["case_id"]

    for path in ("", "/pdf"):
        assert (await harness.client.get(f"/court/v1/agreements/{a['id']}{path}", headers=court_a)).status_code == 200
        r = await harness.client.get(f"/court/v1/agreements/{a['id']}{path}", headers=court_b)
        assert r.status_code == 404 and r.json()["type"].endswith("/not-found")
    for verb, path, body in (("post", "/acknowledgement", None), ("post", "/decision", {"decision": "approved"})):
        r = await harness.client.request(verb.upper(), f"/court/v1/agreements/{a['id']}{path}", json=body, headers=court_b)
        assert r.status_code == 404
    # a court without a court claim, or a court reading the parties' routes, gets nothing
    nameless = harness.token("court", "client-x")
    assert (await harness.client.get(f"/court/v1/agreements/{a['id']}", headers=nameless)).status_code == 404
    assert (await harness.client.get("/court/v1/feed", headers=nameless)).json()["items"] == []
    assert (await harness.client.get(f"/agreements/{a['id']}", headers=court_a)).status_code == 403
    # parties cannot use the court API
    assert (await harness.client.get("/court/v1/feed", headers=harness.claimant(a["case_id"]))).status_code == 403


async def test_courts_see_only_executed_agreements(harness):
    case_id = await harness.case(court="court-a")
    draft = await harness.draft(case_id, content=complete_content())
    r = await harness.client.get(f"/court/v1/agreements/{draft['id']}", headers=harness.court("court-a"))
    assert r.status_code == 404
    assert (await harness.client.get("/court/v1/feed", headers=harness.court("court-a"))).json()["items"] == []
