"""A criminal case through the running platform (embedded run): an investigator refers a grave
crime that Criminal Code Art. 68(2) lets be mediated, with the criminal case number; the mediator
drafts the reconciliation agreement from the template (harm compensation terms, victim and
suspect), both sides and the mediator sign, and the outcome reaches the investigator on its feed
and through a signed webhook, naming the article the reconciliation enables. Another body's feed
stays empty."""

from __future__ import annotations

import json

from odr.gateway import create_gateway
from services.agreements import documents
from shared.config import Settings
from tests.services.notifications.servers import WebhookReceiver
from tests.support.apps import running
from tests.support.waiting import eventually

from .conftest import MEDIATOR_NAME

INVESTIGATOR = "dp-almaty-investigations"


async def _body_token(client, body_id: str, kind: str) -> dict:
    admin = (await client.post("/intake/dev/token", json={"subject": "ops", "role": "admin"})).json()["access_token"]
    created = await client.post("/intake/admin/court-clients", headers={"Authorization": f"Bearer {admin}"},
                                json={"court_id": body_id, "name": f"{kind} {body_id}", "kind": kind})
    assert created.status_code == 201, created.text
    creds = created.json()
    r = await client.post("/intake/auth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                                                      "client_secret": creds["client_secret"]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _reconciliation(victim: str, suspect: str) -> dict:
    """What the mediator fills in; the template supplies title, subject and the harm-compensation terms."""
    return {
        "parties": [{"side": "claimant", "name": victim}, {"side": "respondent", "name": suspect,
                                                           "representative": "Гульнара Оспанова (законный представитель)"}],
        "mediator": {"name": MEDIATOR_NAME, "register_number": "MED-042"},
        "obligations": [{"id": "harm-1", "obligor": "respondent", "obligee": "claimant",
                         "what": "Возмещение материального ущерба за повреждённый автомобиль",
                         "amount": "450000.00", "currency": "KZT", "deadline": "2030-02-01",
                         "manner": "банковский перевод"}],
    }


async def test_an_investigators_criminal_referral_ends_on_its_feed_with_the_article(tmp_path, monkeypatch):
    monkeypatch.setenv("ODR_NOTIFICATIONS_WEBHOOK_ALLOW_INSECURE_URLS", "true")
    monkeypatch.setenv("ODR_NOTIFICATIONS_WEBHOOK_POLL_SECONDS", "0.2")
    app = create_gateway(Settings(data_dir=tmp_path, dev_mode=True, log_format="text"))
    receiver = WebhookReceiver()
    async with running(app) as client, receiver.running():
        tokens = app.state.services["agreements"].state.runtime.tokens

        def bearer(**claims):
            return {"Authorization": f"Bearer {tokens.issue(**claims)}"}

        investigator = await _body_token(client, INVESTIGATOR, "investigator")
        hook = await client.post("/notifications/court/v1/webhooks", headers=investigator,
                                 json={"url": receiver.url, "event_types": ["odr.agreement.signed.v1"]})
        assert hook.status_code == 201, hook.text
        receiver.secrets.append(hook.json()["secret"])

        referral = await client.post("/intake/court/v1/referrals", headers=investigator, json={
            "jurisdiction": "KZ", "category": "criminal", "description": "a car damaged in a yard",
            "criminal_case_number": "247500031000123", "language": "ru",
            "offence": {"gravity": "grave", "first_offence": True, "suspect_circumstances": ["minor"]},
            "parties": [{"side": "victim", "name": "Айгерим Нурлановна"},
                        {"side": "suspect", "name": "Данияр Оспанов",
                         "legal_representatives": [{"name": "Гульнара Оспанова"}]}]})
        assert referral.status_code == 201, referral.text
        case = referral.json()
        assert case["referred_by"] == "investigator" and case["criminal_case_number"] == "247500031000123"
        assert case["eligibility"]["outcome"] == "eligible" and case["legal_effect"]["code"] == "KZ-CC-68-2"
        case_id = case["id"]

        mediator = bearer(subject="mediator-7", role="mediator", cases=[case_id])
        victim = bearer(subject=f"victim:{case_id}", role="party", cases=[case_id], party_side="claimant")
        suspect = bearer(subject=f"suspect:{case_id}", role="party", cases=[case_id], party_side="respondent")

        async def drafted():
            r = await client.post("/agreements/agreements", headers=mediator, json={
                "case_id": case_id, "language": "ru", "content": _reconciliation("Айгерим Нурлановна", "Данияр Оспанов")})
            return r.json() if r.status_code == 201 else None

        draft = await eventually(drafted, message="agreements learned of the referral and accepted a draft")
        content = draft["content"]
        assert content["title"].startswith("Соглашение о примирении")
        assert "заглаживание вреда" in content["subject"]
        assert "статья 68 Уголовного кодекса" in content["free_text"] and "заглаживает вред" in content["free_text"]
        assert "орган" in content["consequences"]
        # the readable text names the sides by their procedural roles
        changed = {**content, "obligations": [{**content["obligations"][0], "amount": "500000.00"}]}
        v2 = await client.put(f"/agreements/agreements/{draft['id']}/content", headers=mediator,
                              json={"base_version": draft["version"], "content": changed})
        assert v2.status_code == 200, v2.text
        diff = (await client.get(f"/agreements/agreements/{draft['id']}/diff", headers=mediator,
                                 params={"from": 1, "to": 2})).json()
        # (the changed obligation's lines: "Обязанная сторона: Подозреваемый (обвиняемый); ... Потерпевший")
        assert "Потерпевший" in diff["diff"] and "Подозреваемый (обвиняемый)" in diff["diff"]
        version = (await client.get(f"/agreements/agreements/{draft['id']}/versions/2", headers=mediator)).json()
        assert "Потерпевший: Айгерим Нурлановна" in "\n".join(documents.render_lines(version["document"]))
        draft = v2.json()

        sent = await client.post(f"/agreements/agreements/{draft['id']}/signature-request",
                                 json={"version": draft["version"]}, headers=mediator)
        assert sent.status_code == 200, sent.text
        for who in (victim, suspect, mediator):
            r = await client.post(f"/agreements/agreements/{draft['id']}/signatures", headers=who,
                                  json={"version": draft["version"], "document_hash": draft["document_hash"]})
            assert r.status_code == 200, r.text
        assert r.json()["status"] == "executed"

        page = (await client.get("/agreements/court/v1/feed", headers=investigator)).json()
        assert [(i["type"], i["case_id"], i["agreement_id"]) for i in page["items"]] == [
            ("odr.agreement.signed.v1", case_id, draft["id"])]
        effect = page["items"][0]["legal_effect"]
        assert effect["code"] == "KZ-CC-68-2"
        assert "ст. 68 ч. 2" in effect["article"]["ru"] and "Art. 68(2)" in effect["article"]["en"]
        assert "68-бап, 2-бөлік" in effect["article"]["kk"]
        sealed = await client.get(f"/agreements/court/v1/agreements/{draft['id']}", headers=investigator)
        assert sealed.status_code == 200 and sealed.json()["document"]["content"]["obligations"][0]["amount"] == "500000.00"

        async def delivered():
            return [d for d in receiver.deliveries if d.verified] or None

        hooks = await eventually(delivered, timeout=120, message="the signed webhook reached the investigator")
        body = json.loads(hooks[0].body)
        assert body["type"] == "odr.agreement.signed.v1"
        assert body["data"]["case_id"] == case_id and body["data"]["agreement_id"] == draft["id"]
        assert body["data"]["legal_effect"]["code"] == "KZ-CC-68-2"
        assert "Art. 68(2)" in body["data"]["legal_effect"]["article"]["en"]
        # ids, status and the article only: never the terms
        assert "500000" not in hooks[0].body.decode() and "Оспанов" not in hooks[0].body.decode()

        prosecutor = await _body_token(client, "prosecutor-almaty", "prosecutor")
        assert (await client.get("/agreements/court/v1/feed", headers=prosecutor)).json()["items"] == []
        assert (await client.get(f"/agreements/court/v1/agreements/{draft['id']}", headers=prosecutor)).status_code == 404
