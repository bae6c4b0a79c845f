"""Signing one exact version, voiding on change, withdrawal, execution with the platform seal,
the PDF and public verification."""

from __future__ import annotations

import io
import logging
import json

from pypdf import PdfReader

from .conftest import CLAIMANT_NAME, SECRET_TERM, complete_content


async def test_a_draft_becomes_a_signed_sealed_agreement(harness):
    case_id = await harness.case(court="almaty-civil")
    draft = await harness.draft(case_id, language="kk", content=complete_content())
    assert draft["status"] == "draft" and draft["missing"] == []
    sent = await harness.send_for_signature(draft)
    assert sent["status"] == "signing" and sent["signers"] == ["claimant", "respondent", "mediator"]
    await harness.sign(sent, harness.claimant(case_id))
    half = await harness.sign(sent, harness.respondent(case_id))
    assert half["status"] == "signing" and len(half["signatures"]) == 2
    done = await harness.sign(sent, harness.mediator(case_id))
    assert done["status"] == "executed" and done["executed_at"]
    sig = next(s for s in done["signatures"] if s["slot"] == "claimant")
    assert sig["signer"] == f"claimant:{case_id}" and sig["document_hash"] == sent["document_hash"]
    assert sig["assurance"]["credential"] == "bearer-token" and sig["assurance"]["token_id"]

    sealed = (await harness.client.get(f"/agreements/{done['id']}/document", headers=harness.claimant(case_id))).json()
    assert sealed["seal"]["alg"] == "Ed25519"
    assert sealed["seal"]["payload"]["document_hash"] == sent["document_hash"]
    assert [s["slot"] for s in sealed["seal"]["payload"]["signers"]] == ["claimant", "respondent", "mediator"]
    result = (await harness.client.post("/verify", json=sealed)).json()
    assert result["valid"] is True and result["agreement_id"] == done["id"], result

    # everything after execution is refused
    r = await harness.client.put(f"/agreements/{done['id']}/content", headers=harness.mediator(case_id),
                                 json={"base_version": 1, "content": complete_content(subject="другое")})
    assert r.status_code == 409 and r.json()["type"].endswith("/agreement-executed")
    r = await harness.client.post(f"/agreements/{done['id']}/signatures/withdraw", headers=harness.claimant(case_id))
    assert r.status_code == 409


async def test_a_modified_document_fails_seal_verification(harness):
    done = await harness.executed()
    sealed = (await harness.client.get(f"/agreements/{done['id']}/document",
                                       headers=harness.claimant(done["case_id"]))).json()
    tampered = json.loads(json.dumps(sealed))
    tampered["document"]["content"]["obligations"][0]["amount"] = "1.00"
    result = (await harness.client.post("/verify", json=tampered)).json()
    assert result["valid"] is False and result["checks"]["document_hash"] is False
    assert result["agreement_id"] is None and any("altered" in r for r in result["reasons"])

    forged = json.loads(json.dumps(sealed))
    forged["document"]["content"]["obligations"][0]["amount"] = "1.00"
    from services.agreements.documents import document_hash

    forged["seal"]["payload"]["document_hash"] = document_hash(forged["document"])  # re-hash, cannot re-sign
    result = (await harness.client.post("/verify", json=forged)).json()
    assert result["valid"] is False and result["checks"]["seal_signature"] is False

    swapped = json.loads(json.dumps(sealed))
    swapped["signatures"][0]["signer"] = "someone-else"
    assert (await harness.client.post("/verify", json=swapped)).json()["checks"]["signers"] is False

    assert (await harness.client.post("/verify", json={"hello": 1})).json()["valid"] is False
    r = await harness.client.post("/verify", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = await harness.client.post("/verify", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415

    keys = (await harness.client.get("/seal/keys")).json()["keys"]
    assert keys and keys[0]["crv"] == "Ed25519" and keys[0]["kid"] == sealed["seal"]["kid"]


async def test_the_pdf_renders_kazakh_and_russian_and_verifies_until_edited(harness):
    content = complete_content(free_text="Тараптар келісімге келді. Стороны пришли к соглашению.")
    done = await harness.executed(language="kk", content=content)
    r = await harness.client.get(f"/agreements/{done['id']}/pdf", headers=harness.respondent(done["case_id"]))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (CLAIMANT_NAME, "Қарызды бөліп төлеу", "Тараптар келісімге келді", "Стороны пришли к соглашению",
                     "Орындамаудың салдары", "Қолдар", done["document_hash"][:32]):
        assert expected in text.replace("\n", " ") or expected in text, expected
    fonts = {str(f) for page in reader.pages for f in page["/Resources"]["/Font"].values()
             for f in [f.get_object()["/BaseFont"]]}
    assert any("OpenSans" in f for f in fonts)

    ok = (await harness.client.post("/verify", content=pdf, headers={"content-type": "application/pdf"})).json()
    assert ok["valid"] is True and ok["checks"]["pdf_issued"] is True and ok["document_hash"] == done["document_hash"]

    edited = pdf.replace(b"/Producer (ODR agreements)", b"/Producer (ODR agreementz)")
    assert edited != pdf
    bad = (await harness.client.post("/verify", content=edited, headers={"content-type": "application/pdf"})).json()
    assert bad["valid"] is False and bad["checks"]["pdf_issued"] is False
    junk = (await harness.client.post("/verify", content=b"%PDF-1.7 garbage", headers={"content-type": "application/pdf"})).json()
    assert junk["valid"] is False


async def test_any_change_after_a_signature_voids_every_signature(harness):
    case_id = await harness.case()
    draft = await harness.send_for_signature(await harness.draft(case_id, content=complete_content()))
    await harness.sign(draft, harness.claimant(case_id))
    await harness.sign(draft, harness.mediator(case_id))
    edited = await harness.client.put(f"/agreements/{draft['id']}/content", headers=harness.mediator(case_id),
                                      json={"base_version": 1, "content": complete_content(place="Алматы")})
    assert edited.status_code == 200, edited.text
    edited = edited.json()
    assert edited["status"] == "draft" and edited["version"] == 2 and edited["requested_version"] is None
    assert {s["status"] for s in edited["signatures"]} == {"void"} and len(edited["signatures"]) == 2
    assert edited["document_hash"] != draft["document_hash"]
    # the old version can no longer be signed
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures", headers=harness.respondent(case_id),
                                  json={"version": 1, "document_hash": draft["document_hash"]})
    assert r.status_code == 409 and r.json()["type"].endswith("/not-open-for-signature")
    resent = await harness.send_for_signature(edited)
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures", headers=harness.respondent(case_id),
                                  json={"version": 2, "document_hash": draft["document_hash"]})
    assert r.status_code == 409 and r.json()["type"].endswith("/document-changed")
    for h in (harness.claimant(case_id), harness.respondent(case_id)):
        await harness.sign(resent, h)
    done = await harness.sign(resent, harness.mediator(case_id))
    assert done["status"] == "executed"
    valid = [s for s in done["signatures"] if s["status"] == "valid"]
    assert len(valid) == 3 and {s["version"] for s in valid} == {2}


async def test_a_party_may_withdraw_before_everyone_has_signed(harness):
    case_id = await harness.case()
    draft = await harness.send_for_signature(await harness.draft(case_id, content=complete_content()))
    await harness.sign(draft, harness.claimant(case_id))
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures/withdraw", headers=harness.claimant(case_id))
    assert r.status_code == 200
    assert [s["status"] for s in r.json()["signatures"]] == ["withdrawn"]
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures/withdraw", headers=harness.claimant(case_id))
    assert r.status_code == 409 and r.json()["type"].endswith("/not-signed")
    await harness.sign(draft, harness.respondent(case_id))
    await harness.sign(draft, harness.mediator(case_id))
    # without the claimant's signature nothing is executed; signing again completes it
    again = await harness.sign(draft, harness.claimant(case_id))
    assert again["status"] == "executed"


async def test_signing_needs_the_right_signer_and_hash(harness):
    case_id = await harness.case()
    draft = await harness.draft(case_id, content=complete_content())
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures", headers=harness.claimant(case_id),
                                  json={"version": 1, "document_hash": draft["document_hash"]})
    assert r.status_code == 409  # not sent for signature yet
    draft = await harness.send_for_signature(draft)
    sideless = harness.token("party", "someone", cases=[case_id])
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures", headers=sideless,
                                  json={"version": 1, "document_hash": draft["document_hash"]})
    assert r.status_code == 403
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures", headers=harness.admin(),
                                  json={"version": 1, "document_hash": draft["document_hash"]})
    assert r.status_code == 403
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures", headers=harness.claimant(case_id),
                                  json={"version": 1, "document_hash": "0" * 64})
    assert r.status_code == 409 and r.json()["document_hash"] == draft["document_hash"]
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures", headers=harness.claimant(case_id),
                                  json={"version": 1, "document_hash": "nothex"})
    assert r.status_code == 422
    # a qualified e-signature is an adapter that is not configured: a clear refusal, not a fake
    r = await harness.client.post(f"/agreements/{draft['id']}/signatures", headers=harness.claimant(case_id),
                                  json={"version": 1, "document_hash": draft["document_hash"], "method": "qualified",
                                        "qualified": {"provider": "kz-nca", "cms": "MIIB"}})
    assert r.status_code == 501 and r.json()["type"].endswith("/qualified-signature-unavailable")
    # signing twice is idempotent
    await harness.sign(draft, harness.claimant(case_id))
    twice = await harness.sign(draft, harness.claimant(case_id))
    assert len([s for s in twice["signatures"] if s["status"] == "valid"]) == 1


async def test_the_audit_chain_records_every_action_and_detects_tampering(harness):
    done = await harness.executed(court="almaty-civil")
    headers = harness.mediator(done["case_id"])
    await harness.client.get(f"/agreements/{done['id']}", headers=headers)
    chain = (await harness.client.get(f"/agreements/{done['id']}/audit", headers=headers)).json()
    actions = [e["action"] for e in chain["entries"]]
    assert actions[:2] == ["created", "signature_requested"]
    for action in ("signed", "executed", "sent_to_court", "viewed"):
        assert action in actions
    assert chain["verification"]["valid"] is True, chain["verification"]
    assert chain["verification"]["checkpoints"]  # the head was sealed at execution
    assert SECRET_TERM not in json.dumps(chain) and CLAIMANT_NAME not in json.dumps(chain)

    from sqlalchemy import update

    from services.agreements.models import AuditEntry

    async with harness.runtime.uow() as uow:
        await uow.session.execute(update(AuditEntry).where(AuditEntry.agreement_id == done["id"], AuditEntry.seq == 2)
                                  .values(actor="mallory"))
        await uow.commit()
    broken = (await harness.client.get(f"/agreements/{done['id']}/audit", headers=headers)).json()["verification"]
    assert broken["valid"] is False and "entry 2 was altered" in broken["problems"]


async def test_concurrent_signatures_execute_the_agreement_exactly_once(any_db_harness):
    """The three signers press "sign" at the same moment: every signature counts, the agreement is
    executed and sealed once, and one ``odr.agreement.signed.v1`` is published."""
    import asyncio

    from sqlalchemy import func, select

    from services.agreements.models import SealRecord, outbox

    harness = any_db_harness
    case_id = await harness.case(court="court-a")
    draft = await harness.send_for_signature(await harness.draft(case_id, content=complete_content()))
    signers = (harness.claimant(case_id), harness.respondent(case_id), harness.mediator(case_id))
    results = await asyncio.gather(*(harness.client.post(
        f"/agreements/{draft['id']}/signatures", headers=h,
        json={"version": 1, "document_hash": draft["document_hash"]}) for h in signers))
    assert [r.status_code for r in results] == [200, 200, 200], [r.text for r in results]
    final = (await harness.client.get(f"/agreements/{draft['id']}", headers=harness.mediator(case_id))).json()
    assert final["status"] == "executed" and len([s for s in final["signatures"] if s["status"] == "valid"]) == 3
    async with harness.runtime.session_factory() as s:
        signed = (await s.execute(select(func.count()).select_from(outbox)
                                  .where(outbox.c.type == "odr.agreement.signed.v1"))).scalar_one()
        seals = (await s.execute(select(func.count()).select_from(SealRecord))).scalar_one()
    assert signed == 1 and seals == 1
    feed = (await harness.client.get("/court/v1/feed", headers=harness.court("court-a"))).json()["items"]
    assert len(feed) == 1
    chain = (await harness.client.get(f"/agreements/{draft['id']}/audit", headers=harness.admin())).json()
    assert chain["verification"]["valid"] is True


async def test_rendering_the_pdf_logs_nothing_of_the_agreement(harness, caplog):
    """Issue 18, finding 11: fontTools logged the set of glyphs used in the document at INFO."""
    caplog.set_level(logging.DEBUG)
    done = await harness.executed(language="ru", content=complete_content(free_text="Секретное условие Ъ"))  # renders it
    r = await harness.client.get(f"/agreements/{done['id']}/pdf", headers=harness.claimant(done["case_id"]))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert [rec for rec in caplog.records if rec.name.startswith("fontTools") and rec.levelno < logging.WARNING] == []
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "Секретное" not in logged and "glyph" not in logged.lower()
