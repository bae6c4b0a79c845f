"""Documents from the room attached to the agreement as annexes: a draft may list only documents the
mediator attached in the room (``odr.document.annexed.v1``), with their hash; the sealed PDF lists
each with the SHA-256 of its bytes, the sealed document carries them, and agreements made without
annexes keep the canonical form (and so the hashes) they had before annexes existed."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timezone

from pypdf import PdfReader

from services.agreements import events
from services.agreements.documents import AgreementContent, canonical_document
from shared.contracts.sessions import DocumentAnnexed
from tests.services.agreements.conftest import complete_content

RECEIPT = hashlib.sha256(b"the receipt's bytes").hexdigest()
PHOTO = hashlib.sha256(b"the photo's bytes").hexdigest()


async def annexed(harness, case_id: str, document_id: str, sha256: str) -> None:
    """As the ``session-events`` consumer records sessions' ``odr.document.annexed.v1``."""
    evt = DocumentAnnexed(case_id=case_id, session_id="s-1", document_id=document_id, sha256=sha256)
    envelope = type("Envelope", (), {"time": datetime.now(timezone.utc)})
    async with harness.runtime.uow() as uow:
        await events.on_document_annexed(uow.session, evt, envelope)
        await uow.commit()


async def test_the_sealed_pdf_lists_the_annexes_with_their_sha256(harness):
    annexes = [{"document_id": "a" * 32, "title": "Түбіртек-жөндеу.pdf", "sha256": RECEIPT},
               {"document_id": "b" * 32, "title": "Фото повреждений.png", "sha256": PHOTO}]
    case_id = await harness.case()
    for a in annexes:
        await annexed(harness, case_id, a["document_id"], a["sha256"])
    draft = await harness.draft(case_id, language="kk", content=complete_content(annexes=annexes))
    draft = await harness.send_for_signature(draft)
    await harness.sign(draft, harness.claimant(case_id))
    await harness.sign(draft, harness.respondent(case_id))
    done = await harness.sign(draft, harness.mediator(case_id))
    assert done["status"] == "executed"
    r = await harness.client.get(f"/agreements/{done['id']}/pdf", headers=harness.claimant(done["case_id"]))
    assert r.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    flat = "".join(text.split())
    assert "Қосымшалар" in text
    for annex in annexes:
        assert "".join(annex["title"].split()) in flat and annex["sha256"] in flat
    sealed = (await harness.client.get(f"/agreements/{done['id']}/document",
                                       headers=harness.respondent(done["case_id"]))).json()
    assert sealed["document"]["content"]["annexes"] == annexes
    ok = (await harness.client.post("/verify", content=r.content, headers={"content-type": "application/pdf"})).json()
    assert ok["valid"] is True


async def test_an_annex_must_be_attached_in_the_room_with_its_hash(harness):
    case_id = await harness.case()
    await annexed(harness, case_id, "x", RECEIPT)
    other_case = await harness.case()
    await annexed(harness, other_case, "y", PHOTO)
    for bad in ({"document_id": "x", "title": "a.pdf", "sha256": "not-a-hash"},
                {"document_id": "x", "title": "", "sha256": RECEIPT},
                {"document_id": "../x", "title": "a.pdf", "sha256": RECEIPT},
                {"document_id": "x", "title": "a.pdf", "sha256": PHOTO},  # another hash than the room's
                {"document_id": "z", "title": "a.pdf", "sha256": RECEIPT},  # never attached
                {"document_id": "y", "title": "b.png", "sha256": PHOTO}):  # attached in another case
        r = await harness.client.post("/agreements", json={"case_id": case_id, "language": "ru",
                                                           "content": complete_content(annexes=[bad])},
                                      headers=harness.mediator(case_id))
        assert r.status_code == 422, (bad, r.text)
    draft = await harness.draft(case_id, content=complete_content())
    r = await harness.client.put(f"/agreements/{draft['id']}/content", headers=harness.mediator(case_id), json={
        "base_version": draft["version"],
        "content": complete_content(annexes=[{"document_id": "x", "title": "a.pdf", "sha256": PHOTO}])})
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-annex"), r.text
    r = await harness.client.put(f"/agreements/{draft['id']}/content", headers=harness.mediator(case_id), json={
        "base_version": draft["version"],
        "content": complete_content(annexes=[{"document_id": "x", "title": "a.pdf", "sha256": RECEIPT}])})
    assert r.status_code == 200, r.text


def test_content_without_annexes_keeps_its_canonical_form():
    content = AgreementContent.model_validate(complete_content())
    doc = canonical_document(agreement_id="a", case_id="c", version=1, jurisdiction="KZ", category="civil",
                             language="ru", content=content)
    assert "annexes" not in doc["content"]
