"""A party in Kyrgyzstan on a phone whose browser speaks Kyrgyz: the client opens in Kyrgyz, the
filing pages (one question per page) ask in Kyrgyz and offer Kyrgyzstan, the case is screened by
the Kyrgyz rule set and its explanation is read in Kyrgyz; the invited party reads the invitation
and the consent text in Kyrgyz. No English on any of these screens."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.client.filing import answer_pages, send
from tests.client.test_party_journeys import SETTLE, person

pytestmark = pytest.mark.timeout(300)

KYRGYZ = re.compile("[өүң]", re.I)


async def test_a_party_files_a_kyrgyz_case_in_kyrgyz_on_a_phone(odr, browser, artifacts):
    claimant = await person(browser, odr, artifacts, "claimant", locale="ky-KG")
    page = claimant.page
    await page.goto("/")
    await expect(page.locator("h1")).to_have_text("Онлайн медиация", timeout=SETTLE)
    assert await page.evaluate("document.documentElement.lang") == "ky"
    assert await page.locator("#language").input_value() == "ky"
    await claimant.shot("home")
    assert await claimant.latin_words() == [], "no English on the Kyrgyz home page"

    # Filing, one question per page: every page in Kyrgyz, Kyrgyzstan among the countries, the
    # gravity of the offence asked beside the kind of case, and "check your answers" saying it back.
    await page.goto("/file")
    await expect(page.locator("#file-start")).to_have_text("Баштоо", timeout=SETTLE)
    await claimant.shot("file-start")
    assert await claimant.latin_words() == [], "no English on the Kyrgyz filing start page"

    async def each_page(name: str) -> None:
        await claimant.shot(name)
        assert await claimant.latin_words() == [], f"no English on the Kyrgyz filing page {name}"

    await answer_pages(page, jurisdiction="KG", category="criminal", gravity="medium",
                       description="Телефонум уурдалды; зыян төлөнсө, элдешүүгө макулмун",
                       claimant_name="Айпери Асанова", respondent_name="Бакыт Осмонов", respondent_language="ky",
                       shot=each_page)
    await expect(page.locator("#file-submit")).to_have_text("Арызды жөнөтүү")
    main = page.locator("main")
    for answer in ("Кыргызстан", "Кылмыш-жаза укук бузуусу", "Орточо оордуктагы кылмыш", "Бакыт Осмонов", "Кыргызча"):
        await expect(main).to_contain_text(answer)
    await claimant.shot("check-answers")
    assert await claimant.latin_words() == [], "no English on the Kyrgyz check-your-answers page"
    await send(page)
    await expect(page.locator("#filed-panel")).to_contain_text("Арызыңыз жөнөтүлдү")
    await claimant.shot("filed")
    assert await claimant.latin_words() == [], "no English on the Kyrgyz confirmation page"
    await page.locator("#filed-continue").click()

    # The case page: screened by Kyrgyzstan's own rule set, explained in Kyrgyz with its citation.
    await expect(page.locator('[data-status="filed"]')).to_be_visible(timeout=SETTLE)
    # a criminal case's eligibility card speaks of reconciliation with the victim
    await expect(main).to_contain_text("Ооба, мыйзам бул иш боюнча медиацияга жол берет", timeout=SETTLE)
    await expect(main).to_contain_text("Анча оор эмес жана оордугу орточо")
    await expect(main).to_contain_text("№ 256 Мыйзам (2025)")
    await expect(main).to_contain_text("Кыргызстан")
    await expect(main).to_contain_text("Бишкек убактысы")
    await page.wait_for_timeout(2000)  # not synchronisation: what a person reads seconds later
    await claimant.shot("case-explained")
    assert await claimant.latin_words() == [], "no English on the Kyrgyz case page"
    assert await claimant.audit() == []

    # The invitation, opened by the other party on a Kyrgyz phone.
    await page.locator("#invite").click()
    link = page.locator("#invitation-link")
    await expect(link).to_be_visible(timeout=SETTLE)
    url = await link.input_value()
    assert await claimant.latin_words("#invite-card") == []
    respondent = await person(browser, odr, artifacts, "respondent", locale="ky-KG")
    await respondent.page.goto(url)
    await expect(respondent.page.locator("main")).to_contain_text("Медиацияга өз эрким менен катышууга макулмун",
                                                                  timeout=SETTLE)
    await expect(respondent.page.locator("h1")).to_have_text("Медиацияга чакыруу")
    await respondent.shot("invitation")
    assert await respondent.latin_words() == [], "no English on the Kyrgyz invitation"
    assert claimant.errors == [] and respondent.errors == []
