"""Documents from the room attached to the agreement as annexes: the sealed PDF lists each with the
SHA-256 of its bytes, the sealed document carries them, and agreements made without annexes keep
the canonical form (and so the hashes) they had before annexes existed."""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader

from services.agreements.documents import AgreementContent, canonical_document
from tests.services.agreements.conftest import complete_content

RECEIPT = hashlib.sha256(b"the receipt's bytes").hexdigest()
PHOTO = hashlib.sha256(b"the photo's bytes").hexdigest()


async def test_the_sealed_pdf_lists_the_annexes_with_their_sha256(harness):
    annexes = [{"document_id": "a" * 32, "title": "Түбіртек-жөндеу.pdf", "sha256": RECEIPT},
               {"document_id": "b" * 32, "title": "Фото повреждений.png", "sha256": PHOTO}]
    done = await harness.executed(content=complete_content(annexes=annexes), language="kk")
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


async def test_an_annex_needs_a_real_sha256_and_a_title(harness):
    case_id = await harness.case()
    for bad in ({"document_id": "x", "title": "a.pdf", "sha256": "not-a-hash"},
                {"document_id": "x", "title": "", "sha256": RECEIPT},
                {"document_id": "../x", "title": "a.pdf", "sha256": RECEIPT}):
        r = await harness.client.post("/agreements", json={"case_id": case_id, "language": "ru",
                                                           "content": complete_content(annexes=[bad])},
                                      headers=harness.mediator(case_id))
        assert r.status_code == 422, r.text


def test_content_without_annexes_keeps_its_canonical_form():
    content = AgreementContent.model_validate(complete_content())
    doc = canonical_document(agreement_id="a", case_id="c", version=1, jurisdiction="KZ", category="civil",
                             language="ru", content=content)
    assert "annexes" not in doc["content"]
