"""Intake's first routes: filing with idempotency keys, access by scope, problems for bad input,
and logs that never carry what a party wrote."""

from __future__ import annotations

import logging

import pytest

from services.intake.app import create_app
from shared.config import Settings
from tests.support.apps import running
from tests.support.keys import production_settings

FILING = {"jurisdiction": "KZ", "category": "labour", "description": "unpaid wages"}


@pytest.fixture
async def client(tmp_path):
    async with running(create_app(Settings(data_dir=tmp_path, dev_mode=True, log_format="json"), configure_logs=False)) as c:
        yield c


async def test_the_same_idempotency_key_files_one_case(client):
    first = await client.post("/cases", json=FILING, headers={"Idempotency-Key": "abc-1"})
    again = await client.post("/cases", json=FILING, headers={"Idempotency-Key": "abc-1"})
    other = await client.post("/cases", json=FILING, headers={"Idempotency-Key": "abc-2"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json()["case"]["id"] == again.json()["case"]["id"] != other.json()["case"]["id"]


async def test_a_party_sees_only_their_own_case(client):
    mine = (await client.post("/cases", json=FILING)).json()
    theirs = (await client.post("/cases", json=FILING)).json()
    headers = {"Authorization": f"Bearer {mine['access_token']}"}
    assert (await client.get(f"/cases/{mine['case']['id']}", headers=headers)).status_code == 200
    hidden = await client.get(f"/cases/{theirs['case']['id']}", headers=headers)
    assert hidden.status_code == 404 and hidden.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/cases/{mine['case']['id']}")).status_code == 401


@pytest.mark.parametrize("body, field", [
    ({**FILING, "jurisdiction": "kazakhstan"}, "jurisdiction"),
    ({**FILING, "category": "piracy"}, "category"),
    ({**FILING, "description": "x" * 20001}, "description"),
    ({**FILING, "unexpected": 1}, "unexpected"),
    ({"category": "civil"}, "jurisdiction"),
])
async def test_bad_filings_get_a_problem_naming_the_field(client, body, field):
    r = await client.post("/cases", json=body)
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/validation-error") and problem["status"] == 422
    assert any(field in map(str, e["loc"]) for e in problem["errors"])
    assert "x" * 100 not in r.text  # input is never echoed back


async def test_malformed_json_and_wrong_roles_are_problems_not_crashes(client):
    r = await client.post("/cases", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["status"] == 422
    party = (await client.post("/cases", json=FILING)).json()["access_token"]
    r = await client.post("/admin/court-clients", json={"court_id": "c1", "name": "C"},
                          headers={"Authorization": f"Bearer {party}"})
    assert r.status_code == 403 and r.json()["type"].endswith("/forbidden")
    r = await client.get("/cases/x", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and "malformed" in r.json()["detail"]
    assert (await client.get("/no-such-route")).json()["status"] == 404


async def test_dev_tokens_exist_only_in_dev_mode(tmp_path):
    app = create_app(production_settings(tmp_path, "intake"), configure_logs=False)
    async with running(app) as c:
        r = await c.post("/dev/token", json={"subject": "x", "role": "admin"})
        assert r.status_code == 403


async def test_request_ids_are_echoed_and_logs_never_carry_what_a_party_wrote(client, caplog):
    caplog.set_level(logging.INFO)
    secret = "my husband threatened me"
    r = await client.post("/cases", json={**FILING, "description": secret}, headers={"X-Request-ID": "req-123"})
    assert r.headers["x-request-id"] == "req-123"
    await client.post("/cases", json={**FILING, "description": secret, "category": "bogus"})
    logged = "\n".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records)
    assert "request" in logged
    assert secret not in logged


PARTY = {"side": "claimant", "name": "A"}


@pytest.mark.parametrize("extra, needle", [
    ({"parties": [PARTY]}, "at least one claimant and one respondent"),
    ({"parties": [PARTY, {"side": "defendant", "name": "B"}]}, "side"),
    ({"parties": [PARTY, {"side": "respondent", "name": "B" * 301}]}, "name"),
    ({"parties": [PARTY, {"side": "respondent", "name": "B", "members": ["x"]}]}, "only a group has members"),
    ({"parties": [PARTY, {"side": "respondent", "name": "B", "language": "de"}]}, "language"),
    ({"parties": [PARTY, {"side": "respondent", "name": "B", "representatives": [{"name": ""}]}]}, "representatives"),
    ({"parties": [PARTY] * 21}, "parties"),
    # an address without a dotted domain would never be delivered: refused, not kept silently
    ({"parties": [PARTY, {"side": "respondent", "name": "B", "contact": {"email": "maria@mail"}}]}, "email"),
    ({"category": "criminal"}, "needs `offence`"),
    ({"offence": {"gravity": "minor"}}, "only to criminal"),
    ({"amount": {"value": "-1", "currency": "KZT"}}, "amount"),
])
async def test_malformed_parties_and_facts_are_problems_naming_what_is_wrong(client, extra, needle):
    r = await client.post("/cases", json={**FILING, **extra})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert needle in r.text
    assert "B" * 301 not in r.text


async def test_an_unknown_jurisdiction_is_a_problem_listing_the_supported_ones(client):
    r = await client.post("/cases", json={**FILING, "jurisdiction": "FR"})
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-jurisdiction")
    assert r.json()["supported"] == ["EU", "KG", "KZ"]
    r = await client.post("/eligibility/dry-run", json={"jurisdiction": "ZZ", "category": "civil"})
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-jurisdiction")


async def test_oversized_and_odd_inputs_elsewhere_are_4xx(client):
    filed = (await client.post("/cases", json=FILING)).json()
    party = {"Authorization": f"Bearer {filed['access_token']}"}
    case = filed["case"]["id"]
    assert (await client.post(f"/cases/{case}/mediator/recusal", json={"reason": "r" * 2001},
                              headers=party)).status_code == 422
    assert (await client.post(f"/cases/{case}/invitations", json={"side": "mediator"}, headers=party)).status_code == 422
    assert (await client.get("/invitations/short")).status_code == 422
    assert (await client.get("/invitations/" + "x" * 40)).status_code == 404
    assert (await client.post(f"/cases/{case}/invitations", json={"side": "claimant"},
                              headers=party)).status_code == 403
    assert (await client.get("/cases/" + "c" * 65, headers=party)).status_code == 422
    r = await client.post("/cases", json={**FILING, "consent_text_version": "old"})
    assert r.status_code == 422 and r.json()["current_version"] == "KZ-consent-2023.1"
