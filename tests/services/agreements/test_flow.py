"""The whole path through the running platform: a court refers a case at intake, agreements
learns of it from the bus, the mediator drafts, both parties and the mediator sign, the court
client reads the executed agreement through its feed, verifies the PDF and approves it. Once on
the embedded run (SQLite + embedded log) and once on PostgreSQL + Kafka."""

from __future__ import annotations

from shared.config import Settings
from odr.gateway import create_gateway
from tests.support.apps import running
from tests.support.waiting import eventually

from .conftest import complete_content


async def _court_token(client, court_id: str) -> dict:
    admin = (await client.post("/intake/dev/token", json={"subject": "ops", "role": "admin"})).json()["access_token"]
    created = await client.post("/intake/admin/court-clients", json={"court_id": court_id, "name": court_id},
                                headers={"Authorization": f"Bearer {admin}"})
    assert created.status_code == 201, created.text
    creds = created.json()
    r = await client.post("/intake/auth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                                                      "client_secret": creds["client_secret"]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _flow(app, client) -> None:
    tokens = app.state.services["agreements"].state.runtime.tokens

    def bearer(**claims):
        return {"Authorization": f"Bearer {tokens.issue(**claims)}"}

    court = await _court_token(client, "almaty-civil")
    referral = await client.post("/intake/court/v1/referrals", headers=court,
                                 json={"jurisdiction": "KZ", "category": "civil", "description": "unpaid works",
                                       "docket_number": "2-77/2026"})
    assert referral.status_code == 201, referral.text
    case_id = referral.json()["id"]
    mediator = bearer(subject="mediator-7", role="mediator", cases=[case_id])
    claimant = bearer(subject=f"claimant:{case_id}", role="party", cases=[case_id], party_side="claimant")
    respondent = bearer(subject=f"respondent:{case_id}", role="party", cases=[case_id], party_side="respondent")

    async def drafted():
        r = await client.post("/agreements/agreements", headers=mediator,
                              json={"case_id": case_id, "language": "ru", "content": complete_content()})
        return r.json() if r.status_code == 201 else None

    draft = await eventually(drafted, message="agreements learned of the referral and accepted a draft")
    assert draft["content"]["title"].startswith("Соглашение")
    sent = await client.post(f"/agreements/agreements/{draft['id']}/signature-request", json={"version": 1},
                             headers=mediator)
    assert sent.status_code == 200, sent.text
    for who in (claimant, respondent, mediator):
        r = await client.post(f"/agreements/agreements/{draft['id']}/signatures", headers=who,
                              json={"version": 1, "document_hash": draft["document_hash"]})
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "executed"

    page = (await client.get("/agreements/court/v1/feed", headers=court)).json()
    assert [(i["type"], i["agreement_id"]) for i in page["items"]] == [("odr.agreement.signed.v1", draft["id"])]
    sealed = (await client.get(f"/agreements/court/v1/agreements/{draft['id']}", headers=court)).json()
    assert sealed["document"]["content"]["subject"] == complete_content()["subject"]
    pdf = await client.get(f"/agreements/court/v1/agreements/{draft['id']}/pdf", headers=court)
    verdict = (await client.post("/agreements/verify", content=pdf.content,
                                 headers={"content-type": "application/pdf"})).json()
    assert verdict["valid"] is True, verdict
    assert (await client.post(f"/agreements/court/v1/agreements/{draft['id']}/acknowledgement",
                              headers=court)).status_code == 200
    decided = await client.post(f"/agreements/court/v1/agreements/{draft['id']}/decision", headers=court,
                                json={"decision": "approved", "reference": "2-77/2026"})
    assert decided.status_code == 200, decided.text
    page = (await client.get("/agreements/court/v1/feed", params={"after": page["next_cursor"]}, headers=court)).json()
    assert [i["type"] for i in page["items"]] == ["odr.agreement.approved.v1"]
    other = await _court_token(client, "astana-civil")
    assert (await client.get("/agreements/court/v1/feed", headers=other)).json()["items"] == []
    assert (await client.get(f"/agreements/court/v1/agreements/{draft['id']}", headers=other)).status_code == 404
    chain = (await client.get(f"/agreements/agreements/{draft['id']}/audit", headers=mediator)).json()
    assert chain["verification"]["valid"] is True


async def test_the_flow_on_the_embedded_run(tmp_path):
    app = create_gateway(Settings(data_dir=tmp_path, dev_mode=True, log_format="text"))
    async with running(app) as client:
        await _flow(app, client)


async def test_the_flow_on_postgresql_and_kafka(tmp_path, kafka, pg_database_template, monkeypatch):
    base, names = pg_database_template
    for svc, name in names.items():
        monkeypatch.setenv(f"ODR_{svc.upper()}_DATABASE_URL", f"{base}/{name}")
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="text", bus="kafka",
                        kafka_bootstrap=kafka.bootstrap, kafka_client_id="odr-agreements-test")
    app = create_gateway(settings)
    assert app.state.services["agreements"].state.runtime.database_url.startswith("postgresql+asyncpg://")
    async with running(app) as client:
        await _flow(app, client)
