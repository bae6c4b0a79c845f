"""A party in Kyrgyzstan on a phone whose browser speaks Kyrgyz: the client opens in Kyrgyz, the
filing form offers Kyrgyzstan first, the case is screened by the Kyrgyz rule set and its
explanation is read in Kyrgyz; the invited party reads the invitation and the consent text in
Kyrgyz. No English on any of these screens."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

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

    await page.goto("/file")
    await expect(page.locator("#file-submit")).to_have_text("Арызды жөнөтүү", timeout=SETTLE)
    assert await page.locator("select[name=jurisdiction]").input_value() == "KG"
    await page.locator("select[name=category]").select_option("criminal")
    await page.locator("select[name=gravity]").select_option("medium")
    await page.locator("textarea[name=description]").fill("Телефонум уурдалды; зыян төлөнсө, элдешүүгө макулмун")
    await page.locator("input[name=claimant_name]").fill("Айпери Асанова")
    await page.locator("input[name=respondent_name]").fill("Бакыт Осмонов")
    await page.locator("select[name=respondent_language]").select_option("ky")
    await page.locator("#filing-consent").check()
    await claimant.shot("form-filled")
    assert await claimant.latin_words() == [], "no English on the Kyrgyz filing form"
    await page.locator("#file-submit").click()

    # The case page: screened by Kyrgyzstan's own rule set, explained in Kyrgyz with its citation.
    await expect(page.locator('[data-status="filed"]')).to_be_visible(timeout=SETTLE)
    main = page.locator("main")
    await expect(main).to_contain_text("Ооба, бул талашты медиация аркылуу жөнгө салууга болот.", timeout=SETTLE)
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
