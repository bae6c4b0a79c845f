"""The agreement as people read it: drafted in the language the parties chose (a bilingual kk/ru
text too), obligations as rows, and a PDF that names the parties with their IIN/BIN, the place, the
local date written for the language and a verification link a person can open; no internal ids,
no UTC ISO timestamps."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from .conftest import CLAIMANT_NAME, MEDIATOR_NAME, RESPONDENT_NAME, complete_content

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(T|\s\d{2}:)")


def referral_content(**overrides) -> dict:
    """What the mediator's client drafts for a court referral: both parties with the IIN/BIN the
    court supplied, and the accepted proposal as an obligation row."""
    return complete_content(parties=[
        {"side": "claimant", "name": CLAIMANT_NAME, "identifier": "900101300123"},
        {"side": "respondent", "name": RESPONDENT_NAME, "identifier": "180440012345"}], **overrides)


ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "agreements"


async def pdf_text(harness, done: dict, name: str) -> str:
    """The PDF's text as a reader's PDF viewer extracts it; the PDF is kept as a test artifact."""
    r = await harness.client.get(f"/agreements/{done['id']}/pdf", headers=harness.claimant(done["case_id"]))
    assert r.status_code == 200, r.text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(r.content)
    reader = PdfReader(io.BytesIO(r.content))
    return " ".join(page.extract_text() for page in reader.pages).replace("\n", " ").replace("\xa0", " ")


@pytest.mark.parametrize(("language", "words"), [
    ("ru", ["Стороны", "Истец", "ИИН/БИН", "Место заключения", "Республика Казахстан", "Дата заключения", "г.",
            "Подписи", "время Алматы", "Проверка подлинности", "15 января 2030 г.", "1 500 000,00 KZT"]),
    ("kk", ["Тараптар", "Талапкер", "ЖСН/БСН", "Жасалған орны", "Қазақстан Республикасы", "Жасалған күні", "ж.",
            "Қолдар", "Алматы уақыты", "Түпнұсқалығын тексеру", "2030 ж. 15 қаңтар", "1 500 000,00 KZT"]),
])
async def test_the_pdf_names_the_people_and_dates_in_the_readers_language(harness, language, words):
    done = await harness.executed(language=language, content=referral_content())
    text = await pdf_text(harness, done, f"agreement-{language}")
    for expected in (CLAIMANT_NAME, RESPONDENT_NAME, MEDIATOR_NAME, "900101300123", "180440012345", *words):
        assert expected in text, (expected, text)
    # who signed, by name, not by an internal id
    assert re.search(r"(Истец|Талапкер): " + re.escape(CLAIMANT_NAME), text), text
    assert not UUID.search(text), UUID.search(text)
    assert not ISO.search(text), ISO.search(text)
    assert "bearer-token" not in text and "POST /" not in text
    # a verification link a person can open, and what it answers
    link = re.search(r"https?://\S+/verify/([0-9a-f]{64})", text)
    assert link and link.group(1) == done["document_hash"], text
    seen = (await harness.client.get(f"/verify/{done['document_hash']}")).json()
    assert seen["issued"] is True and seen["signers"] == ["claimant", "respondent", "mediator"]
    assert seen["status"] == "executed" and seen["sealed_at"]
    unknown = (await harness.client.get(f"/verify/{'0' * 64}")).json()
    assert unknown["issued"] is False
    assert (await harness.client.get("/verify/not-a-hash")).status_code == 422


async def test_a_bilingual_kazakh_and_russian_agreement(harness):
    """Offered when the parties speak Kazakh and Russian: every heading and template clause in
    both, and the date written both ways."""
    case_id = await harness.case()
    draft = await harness.draft(case_id, language="kk-ru", content=referral_content())
    assert draft["language"] == "kk-ru"
    content = draft["content"]
    assert "Азаматтық дауды реттеу" in content["title"] and "Соглашение об урегулировании" in content["title"]
    assert "Әр міндеттеме" in content["procedure"] and "Каждое обязательство" in content["procedure"]
    assert content["place"] == "Қазақстан Республикасы, онлайн-медиация / Республика Казахстан, онлайн-медиация"
    assert draft["missing"] == []
    agreement = await harness.send_for_signature(draft)
    await harness.sign(agreement, harness.claimant(case_id))
    await harness.sign(agreement, harness.respondent(case_id))
    done = await harness.sign(agreement, harness.mediator(case_id))
    text = await pdf_text(harness, done, "agreement-kk-ru")
    for expected in ("Тараптар / Стороны", "Талапкер / Истец", "Қолдар / Подписи", "2030 ж. 15 қаңтар / 15 января 2030 г."):
        assert expected in text, (expected, text)
    assert not UUID.search(text) and not ISO.search(text)


async def test_the_draft_is_in_the_chosen_language_not_the_drafters(harness):
    """The mediator's client may be in English; the agreement is drafted in the language chosen
    for it, with that language's template clauses and required-content messages."""
    case_id = await harness.case()
    draft = await harness.draft(case_id, language="ru", content={"parties": []})
    assert draft["language"] == "ru" and draft["content"]["title"].startswith("Соглашение")
    assert draft["missing"] and all(not m["message"].isascii() for m in draft["missing"])


async def test_obligation_rows_carry_who_what_amount_and_due_date(harness):
    """An accepted proposal becomes an obligation row (who owes whom, what, how much, by when);
    executed, each row is tracked for fulfilment."""
    row = {"id": "prop-1", "obligor": "respondent", "obligee": "claimant", "what": "Вернуть задаток",
           "amount": "250000.00", "currency": "KZT", "deadline": "2030-03-01"}
    done = await harness.executed(language="ru", content=referral_content(obligations=[row], free_text=None))
    [obligation] = done["content"]["obligations"]
    assert {k: obligation[k] for k in row} == row and not done["content"].get("free_text")
    r = await harness.client.get(f"/agreements/{done['id']}/obligations", headers=harness.claimant(done["case_id"]))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(o["obligation_id"], o["obligor"], o["due_on"]) for o in items] == [("prop-1", "respondent", "2030-03-01")]
    text = await pdf_text(harness, done, "agreement-obligation-rows")
    assert "Вернуть задаток" in text and "250 000,00" in text and "1 марта 2030 г." in text
