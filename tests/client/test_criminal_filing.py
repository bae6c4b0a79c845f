"""A victim files a grave crime in the browser (Kazakhstan, Criminal Code Art. 68(2)), on a phone:
the crime's own questions, one per page, ask what the article turns on; the pages call the parties
victim and suspect. With a circumstance Art. 68(2) names, the case is admitted and its page explains
why with the article, in Kazakh; without one, the filing is refused on "check your answers" with the
reason and the article, in Russian. The same answers, as the browser sent them, are judged in
English at the API. No English on kk/ru screens, axe-core finds nothing, screenshots of each step go
to test-artifacts/browser/<test>/."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.client.filing import SETTLE, answer_pages, on_step, send
from tests.client.test_party_journeys import Person, person

pytestmark = pytest.mark.timeout(420)

FACTS = ("jurisdiction", "category", "offence", "amount", "affects_third_parties", "parties")  # what the rules look at


def filings(page: Page) -> list[dict]:
    """The bodies the browser sends to file a case (kept as the page sends them)."""
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/intake/cases") else None)
    return sent


async def judged_in_english(odr: str, body: dict) -> dict:
    """The eligibility rules' answer, in English, for the facts the browser sent."""
    async with httpx.AsyncClient(base_url=odr) as http:
        r = await http.post("/intake/eligibility/dry-run", params={"lang": "en"}, json={k: body[k] for k in FACTS if k in body})
        assert r.status_code == 200, r.text
        return r.json()


def checked_screens(victim: Person, *, audit_on: tuple[str, ...] = ()):
    async def shot(name: str) -> None:
        await victim.shot(name)
        assert await victim.latin_words() == [], f"no English ({name})"
        if name in audit_on:
            assert await victim.audit() == [], name
    return shot


async def test_a_victim_files_a_grave_crime_in_kazakh_with_an_art_68_2_circumstance_and_it_is_admitted(odr, browser, artifacts):
    victim = await person(browser, odr, artifacts, "victim", locale="kk-KZ")
    page = victim.page
    sent = filings(page)
    shot = checked_screens(victim, audit_on=("q-crime-death", "q-crime-first-offence", "q-crime-suspect"))

    await answer_pages(page, description="Менің атымнан ірі мөлшерде несие рәсімдеп, ақшаны алып кетті",
                       claimant_name="Айгүл Серікқызы", respondent_name="Сәуле Болатова", respondent_language="kk",
                       category="criminal", gravity="grave",
                       crime={"caused_death": "no", "caused_grave_harm": "no", "first_offence": "yes",
                              "suspect_circumstances": ["woman_with_young_child"], "harm_made_good": "no"},
                       shot=shot)

    # Check your answers: the crime's answers, and the parties called victim and suspect.
    main = page.locator("main")
    for answer in ("Қылмыс", "Ауыр қылмыс", "14 жасқа толмаған баласы бар әйел", "Сіз (жәбірленуші)", "Күдікті",
                   "Сәуле Болатова"):
        await expect(main).to_contain_text(answer)
    await expect(main).not_to_contain_text("Екінші тарап")
    await expect(page.locator('.summary-row[data-step="crime-suspect"] a')).to_have_attribute("href", "/file/crime-suspect?change=1")
    await shot("check-answers")
    assert await victim.audit() == []

    case_id = await send(page)
    await shot("confirmation")
    await page.locator("#filed-continue").click()
    await expect(page.locator('[data-status="filed"]')).to_be_visible(timeout=SETTLE)

    # The case page: admitted under Art. 68(2), explained in Kazakh with the article.
    card = page.locator("#eligibility-card")
    await expect(card.locator("#eligibility-outcome")).to_have_attribute("data-outcome", "eligible", timeout=SETTLE)
    await expect(card).to_contain_text("Бұл іс бойынша медиация жүргізуге бола ма?")
    await expect(card).to_contain_text("қылмыстық жауаптылықтан босатуға әкелуі мүмкін")
    await expect(card).to_contain_text("Бұл ауыр қылмыс бойынша медиацияға жол беріледі")
    await expect(card).to_contain_text("ҚК 68-бап, 2-бөлік")
    await expect(main).to_contain_text("ҚР Қылмыстық кодексі, 68-бап, 2-бөлік")  # what reconciliation enables
    await expect(page.locator("#criminal-participants")).to_contain_text("Жәбірленуші: Айгүл Серікқызы")
    await expect(page.locator("#criminal-participants")).to_contain_text("Күдікті: Сәуле Болатова")
    await page.wait_for_timeout(2000)  # not synchronisation: what a person reads seconds later
    await shot("case-page")
    assert await victim.audit() == []
    assert victim.errors == []

    # What the browser sent is the law's facts, and in English the rules say the same.
    assert len(sent) == 1 and case_id
    assert sent[0]["offence"] == {"gravity": "grave", "caused_death": False, "harm_made_good": False, "caused_grave_harm": False,
                                  "first_offence": True, "suspect_circumstances": ["woman_with_young_child"]}
    assert [p["side"] for p in sent[0]["parties"]] == ["victim", "suspect"]
    judged = await judged_in_english(odr, sent[0])
    assert judged["outcome"] == "eligible" and "kz.criminal.grave.art68_2" in judged["rules_fired"]
    art68_2 = next(e for e in judged["explanation"] if e["rule"] == "kz.criminal.grave.art68_2")
    assert "Criminal Code, Art. 68(2)" in art68_2["citation"] and "Mediation is allowed for this grave crime" in art68_2["explanation"]


async def test_a_grave_crime_without_an_art_68_2_circumstance_is_refused_in_russian_with_the_article(odr, browser, artifacts):
    victim = await person(browser, odr, artifacts, "victim", locale="ru-RU")
    page = victim.page
    sent = filings(page)
    summary = page.locator(".error-summary")
    shot = checked_screens(victim, audit_on=("q-crime-grave-harm", "q-crime-harm-made-good"))

    await answer_pages(page, description="Открыто похитил у меня сумку с деньгами, угрожая ножом",
                       claimant_name="Марина Ковальчук", respondent_name="Олег Ткаченко", respondent_language="ru",
                       category="criminal", gravity="grave",
                       crime={"caused_death": "no", "caused_grave_harm": "no", "first_offence": "yes",
                              "suspect_circumstances": ["none"], "harm_made_good": "yes"},
                       shot=shot)
    main = page.locator("main")
    for answer in ("Преступление", "Тяжкое преступление", "Ничего из этого", "Вы (потерпевший)", "Подозреваемый",
                   "Олег Ткаченко", "ФИО защитника или представителя подозреваемого"):
        await expect(main).to_contain_text(answer)
    await expect(main).not_to_contain_text("Другая сторона")

    # Changing the suspect's circumstances: "none of these" and a circumstance exclude each other,
    # and nothing chosen is told in a summary and beside the question.
    await page.locator('.summary-row[data-step="crime-suspect"] a').click()
    await on_step(page, "crime-suspect")
    await expect(page.locator("#suspect_circumstances-none")).to_be_checked()
    assert await page.locator("input[name=suspect_circumstances]:checked").count() == 1
    await page.locator("#suspect_circumstances-pregnant").check()
    await expect(page.locator("#suspect_circumstances-none")).not_to_be_checked()
    await page.locator("#suspect_circumstances-pregnant").uncheck()
    await page.locator("#file-continue").click()
    await expect(summary).to_be_focused(timeout=SETTLE)
    await expect(summary.locator("li")).to_have_text(["Отметьте, что относится к подозреваемому, или «Ничего из этого»"])
    await expect(page.locator("#suspect_circumstances-group .error-message")).to_be_visible()
    await shot("circumstances-not-chosen")
    assert await victim.audit() == []
    await page.locator("#suspect_circumstances-none").check()
    await page.locator("#file-continue").click()
    await on_step(page, "check")
    await shot("check-answers")
    assert await victim.audit() == []

    # Sent: refused on the check page, why and under which article, in Russian.
    await page.locator("#filing-consent").check()
    await page.locator("#file-submit").click()
    await expect(summary).to_be_focused(timeout=SETTLE)
    await expect(summary).to_contain_text("По закону это дело нельзя урегулировать медиацией")
    await expect(summary).to_contain_text("ни одно из этих обстоятельств не указано")
    await expect(summary).to_contain_text("УК, ст. 68 ч. 2")
    await expect(summary).to_contain_text("уголовное дело идёт своим порядком")
    assert page.url.endswith("/file/check")
    text = await summary.inner_text()
    assert not re.search(r"case-ineligible|kz\.criminal|Unprocessable", text), text
    await shot("refused")
    assert await victim.audit() == []
    assert victim.errors == []

    # The same facts in English at the API: refused under Art. 68(2).
    assert len(sent) == 1
    assert sent[0]["offence"]["suspect_circumstances"] == [] and sent[0]["offence"]["first_offence"] is True
    judged = await judged_in_english(odr, sent[0])
    assert judged["outcome"] == "ineligible" and "kz.criminal.grave.circumstances" in judged["rules_fired"]
    refusal = next(e for e in judged["explanation"] if e["rule"] == "kz.criminal.grave.circumstances")
    assert refusal["citation"] == "Criminal Code, Art. 68(2)" and "none of these is stated" in refusal["explanation"]
