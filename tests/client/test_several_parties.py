"""Filing with several parties on a side and a representative, on a phone in Russian: from "check
your answers" the claimant adds a second respondent (name, then language and email) and her
representative (who, for whom, name, then language and email), each one question page at a time
with GOV.UK's "add another" page after it; a reload in the middle loses nothing; the case page
lists everyone on each side with what each still has to do; the representative gets a sign-in
link of their own by email. No English on the screen; screenshots of each step as artifacts."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.client.filing import SETTLE, answer_pages, go_on, on_step, send
from tests.client.test_filing import mailbox_to
from tests.client.test_party_journeys import person
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(420)


async def test_a_claimant_files_against_two_respondents_with_a_representative(odr, browser, artifacts):
    claimant = await person(browser, odr, artifacts, "claimant", locale="ru-RU")
    page = claimant.page
    await answer_pages(page, description="Не оплачены поставки за март", claimant_name="Айгерим Нурлановна",
                       respondent_name="ТОО Дала Трейд", claimant_email="aigerim@example.kz")
    await claimant.shot("check-one-respondent")

    # -- another respondent: name and kind, then language and email --------------------------------
    await page.locator("#add-respondent").click()
    await on_step(page, "add-respondent")
    await page.locator("#file-continue").click()  # nothing typed: told beside the field
    await expect(page.locator(".error-summary li")).to_have_text(["Введите ФИО"], timeout=SETTLE)
    await page.locator("input[name=adding_name]").fill("Ерлан Даулетов")
    await page.reload()  # the phone drops the tab: the name is still there
    await on_step(page, "add-respondent")
    await expect(page.locator("input[name=adding_name]")).to_have_value("Ерлан Даулетов", timeout=SETTLE)
    await claimant.shot("add-respondent")
    await go_on(page, "add-respondent-contact")
    await page.locator("select[name=adding_language]").select_option("kk")
    await page.locator("input[name=adding_email]").fill("yerlan@example.kz")
    await claimant.shot("add-respondent-contact")
    await go_on(page, "respondents")
    await expect(page.locator("#added-list")).to_contain_text("Ерлан Даулетов", timeout=SETTLE)
    await expect(page.locator("#another-group legend")).to_have_text("Нужно добавить ещё одного ответчика?")
    await claimant.shot("respondents-added")
    assert await claimant.latin_words() == [], "no English on a Russian screen"
    await page.locator("#another-no").check()
    await go_on(page, "check")

    # -- the claimant's representative ---------------------------------------------------------------
    await page.locator("#add-helper").click()
    await on_step(page, "add-helper")
    await page.locator("#helper_role-representative").check()
    await page.locator("select[name=helper_party]").select_option("claimant")
    await claimant.shot("add-helper")
    await go_on(page, "add-helper-name")
    await page.locator("input[name=helper_name]").fill("Серик Беков")
    await go_on(page, "add-helper-contact")
    await page.locator("select[name=helper_language]").select_option("ru")
    await page.locator("input[name=helper_email]").fill("serik.bekov@example.kz")
    await go_on(page, "helpers")
    await expect(page.locator("#added-list")).to_contain_text("Серик Беков", timeout=SETTLE)
    await page.locator("#another-no").check()
    await go_on(page, "check")

    # -- check your answers, after it has settled ------------------------------------------------------
    await expect(page.locator("#more-respondent")).to_contain_text("Ответчик 2", timeout=SETTLE)
    await expect(page.locator("#more-respondent")).to_contain_text("Ерлан Даулетов")
    await expect(page.locator("#more-helpers")).to_contain_text("Представитель")
    await expect(page.locator("#more-helpers")).to_contain_text("Серик Беков")
    await page.wait_for_timeout(1000)  # read what stays on the screen, not what flashed
    await claimant.shot("check-answers")
    assert await claimant.latin_words() == [], "no English on a Russian screen"
    assert await claimant.audit() == []

    case_id = await send(page)
    await claimant.shot("filed")
    await page.locator("#filed-continue").click()
    people = page.locator("#case-people")
    await expect(people).to_be_visible(timeout=SETTLE)
    respondents = people.locator('[data-side="respondent"] li')
    await expect(respondents).to_have_count(2, timeout=SETTLE)
    await expect(respondents.nth(0)).to_contain_text("ТОО Дала Трейд")
    await expect(respondents.nth(1)).to_contain_text("Ерлан Даулетов")
    for i in range(2):
        await expect(respondents.nth(i).locator(".todo")).to_have_text("должен дать согласие на медиацию")
    mine = people.locator('[data-side="claimant"] li')
    await expect(mine).to_contain_text("Айгерим Нурлановна (вы)")
    await expect(mine).to_contain_text("Представитель: Серик Беков")
    await page.wait_for_timeout(1000)
    await claimant.shot("case-page")
    # (the law's number, 401-IV, is cited elsewhere on the page: the people are read here)
    assert await claimant.latin_words("#case-people") == [], "no English on a Russian screen"
    assert await claimant.audit() == []

    # The representative has a sign-in link of their own, by email.
    mails = await eventually(lambda: mailbox_to(odr, "serik.bekov@example.kz"), timeout=60,
                             message="the representative's own link")
    assert "/sign-in/" in mails[0]["text"], mails[0]
    assert case_id
    assert claimant.errors == []
    await claimant.context.close()
