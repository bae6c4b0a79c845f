"""Kyrgyzstan's agreement templates: each category in Kyrgyz, Russian and English, the required
content with its citation and messages in the draft's language, and a Kyrgyz document that reads
and prints in Kyrgyz (headings, Kyrgyz letters kept in the PDF)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services.agreements import documents
from services.agreements.pdf import render_pdf

CATEGORIES = {"civil", "commercial", "family", "labour", "criminal"}


async def test_kyrgyz_templates_exist_in_kyrgyz_russian_and_english(harness):
    listed = (await harness.client.get("/templates")).json()["items"]
    kg = {t["category"]: t["languages"] for t in listed if t["jurisdiction"] == "KG"}
    assert set(kg) == CATEGORIES and all(langs == ["en", "ky", "ru"] for langs in kg.values())
    r = await harness.client.get("/templates/KG/criminal", params={"language": "ky"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["template"]["title"] == "Кылмыш иши боюнча медиация тартибинде элдешүү жөнүндө келишим"
    assert "жабырлануучу" in body["template"]["consequences"]
    assert {m["code"] for m in body["required"]} == {"parties", "mediator", "subject", "terms", "performance",
                                                     "consequences"}
    assert all("No. 256" in m["citation"] for m in body["required"])
    assert next(m for m in body["required"] if m["code"] == "mediator")["message"] == "Медиатор көрсөтүлгөн эмес."
    assert "No. 256" in body["source"] and "No. 161" in body["source"]
    # a Kazakh text is not offered for Kyrgyzstan: Kyrgyz, Russian or English
    assert (await harness.client.get("/templates/KG/civil", params={"language": "kk"})).status_code == 422


@pytest.mark.parametrize("language, title", [("ky", "Эмгек талашын"), ("ru", "трудового спора"), ("en", "labour dispute")])
async def test_a_kyrgyz_draft_starts_from_the_kyrgyz_template_in_its_language(harness, language, title):
    case_id = await harness.case(jurisdiction="KG", category="labour")
    draft = await harness.draft(case_id, language=language)
    assert title in draft["content"]["title"] and draft["content"]["procedure"]
    missing = {m["code"]: m["message"] for m in draft["missing"]}
    assert set(missing) == {"parties", "mediator", "subject", "terms", "performance"}
    if language == "ky":
        assert missing["subject"] == "Талаштын предмети көрсөтүлгөн эмес."


def test_a_kyrgyz_agreement_reads_and_prints_in_kyrgyz():
    content = documents.from_template("KG", "family", "ky", documents.AgreementContent(
        subject="Балдардын алименти", parties=[documents.PartyEntry(side="claimant", name="Айпери Асанова"),
                                               documents.PartyEntry(side="respondent", name="Бакыт Осмонов")],
        mediator=documents.MediatorEntry(name="Гүлнара Токтогулова", register_number="МП-17")))
    document = documents.canonical_document(agreement_id="a-1", case_id="c-1", version=1, jurisdiction="KG",
                                            category="family", language="ky", content=content)
    lines = documents.render_lines(document)
    assert lines[0].startswith("Үй-бүлөлүк талашты") and "Версия: 1" in lines
    assert any(line.startswith("Тараптар") for line in lines)
    sealed = {"document": document, "signatures": [],
              "seal": {"alg": "EdDSA", "kid": "k1", "signature": "sig",
                       "payload": {"document_hash": documents.document_hash(document),
                                   "sealed_at": "2026-11-29T10:00:00+00:00"}}}
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(sealed, verify_url="https://odr.example/verify/x"))).pages)
    for words in ("Үй-бүлөлүк талашты", "Гүлнара Токтогулова", "Күбөлүктүн номери", "Аткарбоонун кесепеттери"):
        assert words in text, words
