"""The agreement names its case as people do: the reference (KZ-2026-000123) is signed with the
document, printed on the PDF instead of the case id, and given to the court in its case list and
feed."""

from __future__ import annotations

import io

from pypdf import PdfReader

REFERENCE = "KZ-2026-000123"


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_the_pdf_shows_the_reference_and_not_the_case_id(harness):
    done = await harness.executed(court="court-a", reference=REFERENCE, language="ru")
    r = await harness.client.get(f"/agreements/{done['id']}/pdf", headers=harness.claimant(done["case_id"]))
    assert r.status_code == 200
    text = _text(r.content)
    assert REFERENCE in text
    # (the test's dev tokens name signers by subjects that contain the case id; real signers have names)
    for subject in ("claimant:", "respondent:"):
        text = text.replace(subject + done["case_id"], "")
    assert done["case_id"][:8] not in text
    # the reference is part of what was signed and sealed, and the PDF still verifies
    sealed = await harness.client.get(f"/agreements/{done['id']}/document", headers=harness.claimant(done["case_id"]))
    assert sealed.json()["document"]["case_reference"] == REFERENCE
    verified = await harness.client.post("/verify", content=r.content, headers={"content-type": "application/pdf"})
    assert verified.json()["valid"] is True


async def test_the_court_reads_the_reference_in_its_cases_and_feed(harness):
    done = await harness.executed(court="court-a", reference=REFERENCE)
    court = harness.court("court-a")
    cases = (await harness.client.get("/court/v1/cases", headers=court)).json()["items"]
    assert [(c["case_id"], c["case_reference"]) for c in cases] == [(done["case_id"], REFERENCE)]
    [item] = (await harness.client.get("/court/v1/feed", headers=court)).json()["items"]
    assert item["case_reference"] == REFERENCE and item["case_id"] == done["case_id"]
    pdf = (await harness.client.get(f"/court/v1/agreements/{done['id']}/pdf", headers=court)).content
    assert REFERENCE in _text(pdf)


async def test_a_case_known_before_references_keeps_its_documents_verifiable(harness):
    """Cases recorded from events without a reference: the document has no reference field (its
    hash is what it always was) and the PDF names no case number rather than an internal id (the
    attached sealed JSON still carries the id, for /verify)."""
    done = await harness.executed(court="court-a")
    r = await harness.client.get(f"/agreements/{done['id']}/pdf", headers=harness.claimant(done["case_id"]))
    assert done["case_id"] not in _text(r.content) and done["id"] not in _text(r.content)
    assert (await harness.client.post("/verify", content=r.content,
                                      headers={"content-type": "application/pdf"})).json()["valid"] is True
