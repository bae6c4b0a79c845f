"""Filing a case as a claimant does it on a phone, in Russian and in Kazakh: one question per page,
a reload in the middle (the answers are still there), typing mistakes told in a summary at the top
and beside the field, an answer changed from "check your answers", the confirmation page with the
case's reference and the receipt email, then the case page as a task list. No English on the
screen, and axe-core finds nothing. Screenshots of each step go to test-artifacts/browser/<test>/."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from tests.client.filing import SETTLE, STEPS, answer_pages, go_on, on_step, send
from tests.client.test_party_journeys import person
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(420)

REFERENCE = re.compile(r"^([A-Z]{2}-\d{4}-\d+|[0-9a-f]{8})$")  # the human reference, or the short id before it


async def mailbox_to(odr: str, address: str) -> list[dict]:
    """Emails the dev mailbox (the embedded run's email transport) holds for ``address``."""
    async with httpx.AsyncClient(base_url=odr) as http:
        r = await http.get("/notifications/mailbox.json")
        assert r.status_code == 200, r.text
        return [m for m in r.json()["items"] if m["to"] == address]


async def test_a_claimant_files_page_by_page_on_a_phone_in_russian(odr, browser, artifacts):
    claimant = await person(browser, odr, artifacts, "claimant", locale="ru-RU")
    page = claimant.page
    summary = page.locator(".error-summary")

    # -- the start page, then the first question: nothing chosen for the person --------------------
    await page.goto("/file")
    await expect(page.locator("#file-start")).to_be_visible(timeout=SETTLE)
    await claimant.shot("start")
    assert await claimant.latin_words() == []
    await page.locator("#file-start").click()
    await on_step(page, "where")
    assert await page.locator("input[type=radio]:checked").count() == 0
    await page.locator("#file-continue").click()  # nothing chosen
    await expect(summary).to_be_focused(timeout=SETTLE)
    await expect(summary.locator("li")).to_have_text(["Выберите, право какой страны применяется"])
    await expect(page.locator("#jurisdiction-group .error-message")).to_be_visible()
    await claimant.shot("where-not-chosen")
    assert await claimant.latin_words() == [], "no English on a Russian screen"
    assert await claimant.audit() == []
    await page.locator("#jurisdiction-KZ").check()
    await go_on(page, "category")
    await page.locator("#category-civil").check()
    await go_on(page, "description")
    await page.locator("textarea[name=description]").fill("Не оплачены поставки за март")
    await go_on(page, "amount")

    # -- a typing mistake: a letter in the amount --------------------------------------------------
    await page.locator("input[name=amount]").fill("15о000")
    await page.locator("#file-continue").click()
    await expect(summary).to_be_focused(timeout=SETTLE)
    await expect(page.locator('.has-error:has([name="amount"]) .error-message')).to_contain_text("Укажите сумму числом")
    assert await page.locator("input[name=amount]").get_attribute("aria-invalid") == "true"
    await claimant.shot("amount-mistake")
    assert await claimant.audit() == []
    await summary.locator("li a").first.click()  # the summary's link takes the person to the field
    assert await page.evaluate("document.activeElement.name") == "amount"
    await page.locator("input[name=amount]").fill("150000")
    await go_on(page, "others")
    await page.locator("#affects_third_parties-no").check()
    await go_on(page, "you")
    await page.locator("input[name=claimant_name]").fill("Айгерим Нурлановна")
    await go_on(page, "your-contact")
    assert await page.locator("select[name=claimant_language]").input_value() == "ru"
    await page.locator("input[name=claimant_email]").fill("aigerim@mail")  # no dotted domain
    await page.locator("#file-continue").click()
    await expect(page.locator('.has-error:has([name="claimant_email"]) .error-message')).to_contain_text("name@example.kz",
                                                                                                           timeout=SETTLE)
    await claimant.shot("email-mistake")
    await page.locator("input[name=claimant_email]").fill("aigerim@mail.kz")
    await go_on(page, "other-party")

    # -- a reload in the middle: what was typed is still there ---------------------------------------
    await page.locator("input[name=respondent_name]").fill("ТОО Дала Трейд")
    await page.reload()
    await expect(page.locator("input[name=respondent_name]")).to_have_value("ТОО Дала Трейд", timeout=SETTLE)
    await claimant.shot("after-reload")
    await page.locator(".back-link").click()
    await on_step(page, "your-contact")
    await expect(page.locator("input[name=claimant_email]")).to_have_value("aigerim@mail.kz")
    await go_on(page, "other-party")
    await go_on(page, "their-contact")
    assert await page.locator("select[name=respondent_language]").input_value() == "", "asked, never assumed"
    await page.locator("#file-continue").click()
    await expect(page.locator('.has-error:has([name="respondent_language"]) .error-message')).to_be_visible(timeout=SETTLE)
    await page.locator("select[name=respondent_language]").select_option("kk")
    await go_on(page, "representatives")
    await go_on(page, "needs")
    await go_on(page, "check")

    # -- check your answers, and change one -----------------------------------------------------------
    main = page.locator("main")
    for answer in ("Казахстан", "Гражданский спор", "Не оплачены поставки за март", "150 000,00", "Айгерим Нурлановна",
                   "aigerim@mail.kz", "ТОО Дала Трейд", "Қазақша"):
        await expect(main).to_contain_text(answer)
    await claimant.shot("check-answers")
    assert await claimant.latin_words() == []
    assert await claimant.audit() == []
    await page.locator('.summary-row[data-step="description"] a').click()
    await on_step(page, "description")
    await expect(page.locator("textarea[name=description]")).to_have_value("Не оплачены поставки за март")
    await page.locator("textarea[name=description]").fill("Не оплачены поставки за март и апрель")
    await go_on(page, "check")  # back to the check page, not on to the next question
    await expect(main).to_contain_text("Не оплачены поставки за март и апрель")

    # Sent without the consent: told beside the box, nothing filed.
    await page.locator("#file-submit").click()
    await expect(page.locator('.has-error:has(#filing-consent) .error-message')).to_be_visible(timeout=SETTLE)
    assert page.url.endswith("/file/check")

    # -- the confirmation page: the reference, the receipt ----------------------------------------------
    case_id = await send(page)
    reference = (await page.locator("#filed-reference").inner_text()).strip()
    assert REFERENCE.match(reference), reference
    await expect(page.locator("#filed-receipt")).to_contain_text("aigerim@mail.kz")
    await claimant.shot("confirmation")
    assert await claimant.latin_words() == []
    assert await claimant.audit() == []
    assert await page.evaluate("sessionStorage.getItem('odr.filing')") is None, "answers forgotten once sent"
    await page.reload()  # the confirmation survives a reload
    await expect(page.locator("#filed-reference")).to_have_text(reference, timeout=SETTLE)
    # The receipt reaches the address the claimant gave (saved just after filing).
    receipts = await eventually(lambda: mailbox_to(odr, "aigerim@mail.kz"), timeout=60, message="the receipt email")
    assert len(receipts) == 1 and reference in receipts[0]["subject"] + receipts[0]["text"]

    # -- the case page: a task list --------------------------------------------------------------------
    await page.locator("#filed-continue").click()
    await expect(page.locator('[data-status="filed"]')).to_be_visible(timeout=SETTLE)
    tasks = page.locator("#task-list")
    await expect(tasks.locator('[data-task="file"]')).to_have_attribute("data-state", "done")
    await expect(tasks.locator('[data-task="invite"]')).to_have_attribute("data-state", "todo")
    await expect(tasks.locator('[data-task="other_answers"]')).to_have_attribute("data-state", "not_yet")
    await expect(page.locator("#what-next")).to_contain_text("Пригласить другую сторону")
    await page.wait_for_timeout(2000)  # not synchronisation: what a person reads seconds later
    await claimant.shot("case-task-list")
    # The task list and the status line (the eligibility card's legal citations are the rule set's,
    # put into the reader's language with the rule sets' own texts).
    assert await claimant.latin_words("#tasks-card") == [] and await claimant.latin_words(".case-status-line") == []
    assert await claimant.audit() == []

    await page.locator('[data-task="invite"] a').click()  # the task takes the person to its card
    await page.locator("#invite").click()
    await expect(page.locator('[data-status="awaiting_consent"]')).to_be_visible(timeout=SETTLE)
    await expect(tasks.locator('[data-task="invite"]')).to_have_attribute("data-state", "done")
    waiting = tasks.locator('[data-task="other_answers"]')
    await expect(waiting).to_have_attribute("data-state", "waiting")
    await expect(waiting).to_contain_text("время Алматы")  # the deadline, in the case's time zone
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", await page.locator("main").inner_text()), "no ISO timestamps"
    await claimant.shot("case-invited")
    assert await claimant.latin_words("#tasks-card") == []
    assert claimant.errors == []
    assert case_id


async def test_filing_in_kazakh_survives_a_reload_and_shows_what_only_the_service_checks_beside_the_field(odr, browser, artifacts):
    claimant = await person(browser, odr, artifacts, "claimant", locale="kk-KZ")
    page = claimant.page
    summary = page.locator(".error-summary")

    async def shot(name: str) -> None:
        await claimant.shot(name)
        assert await claimant.latin_words() == [], f"no English on a Kazakh screen ({name})"

    # A name longer than the service takes: the check page sends, the service refuses, and the
    # person lands on that question with the message beside the field, in Kazakh.
    await answer_pages(page, description="Жеткізілім ақысы төленбеді", claimant_name="Айгерім Нұрланқызы",
                       respondent_name="Д" * 301, respondent_language="ru", shot=shot)
    await expect(page.locator("main")).to_contain_text("Дау түрі")
    assert await claimant.audit() == []
    await page.reload()  # everything is still there on the check page
    await expect(page.locator("main")).to_contain_text("Айгерім Нұрланқызы", timeout=SETTLE)
    await page.locator("#filing-consent").check()
    await page.locator("#file-submit").click()
    await on_step(page, "other-party")
    await expect(summary).to_be_visible(timeout=SETTLE)
    await expect(page.locator('.has-error:has([name="respondent_name"]) .error-message')).to_have_text(
        re.compile("Бұл мәтінді қысқартыңыз"))
    text = await page.locator("main").inner_text()
    assert "body" not in text and "parties" not in text and "String should" not in text
    await shot("server-error-beside-the-field")
    assert await claimant.audit() == []
    await page.locator("input[name=respondent_name]").fill("Дала Трейд ЖШС")
    await go_on(page, "check")
    case_id = await send(page)
    await shot("confirmation")
    await page.locator("#filed-continue").click()
    await expect(page.locator('[data-status="filed"]')).to_be_visible(timeout=SETTLE)
    await expect(page.locator('#task-list [data-task="invite"]')).to_have_attribute("data-state", "todo")
    await page.wait_for_timeout(2000)  # what a person reads seconds later
    await claimant.shot("case-task-list")
    assert await claimant.latin_words("#tasks-card") == []
    assert await claimant.audit() == []
    assert claimant.errors == []
    assert len(STEPS) == 11 and case_id
