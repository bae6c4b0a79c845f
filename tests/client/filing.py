"""Filing a case in the browser the way a claimant does it: one question per page, "check your
answers", the confirmation page. Shared by the browser tests that start from a filed case."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

SETTLE = 30_000  # generous: the machine is shared

# The question pages in order (client/assets/js/views/file.js, STEPS).
STEPS = ["where", "category", "description", "amount", "others", "you", "your-contact", "other-party",
         "their-contact", "representatives", "needs"]


async def on_step(page: Page, step: str) -> None:
    """Wait until the page of ``step`` (or ``check``) is on the screen."""
    await expect(page).to_have_url(re.compile(rf"/file/{step}(\?.*)?$"), timeout=SETTLE)
    await expect(page.locator("#file-submit" if step == "check" else "#file-continue")).to_be_visible(timeout=SETTLE)


async def go_on(page: Page, to: str) -> None:
    """Continue, and wait for the next page."""
    await page.locator("#file-continue").click()
    await on_step(page, to)


async def answer_pages(page: Page, *, description: str, claimant_name: str, respondent_name: str,
                       respondent_language: str = "ru", claimant_email: str | None = None,
                       category: str = "civil", shot=None) -> None:
    """From the start page to "check your answers"; ``shot(name)`` (optional) after each answer."""
    async def step(name: str, to: str) -> None:
        if shot:
            await shot(f"q-{name}")
        await go_on(page, to)

    await page.goto("/file")
    await page.locator("#file-start").click()
    await on_step(page, "where")
    await page.locator("#jurisdiction-KZ").check()
    await step("where", "category")
    await page.locator(f"#category-{category}").check()
    await step("category", "description")
    await page.locator("textarea[name=description]").fill(description)
    await step("description", "amount")
    await step("amount", "others")
    await page.locator("#affects_third_parties-no").check()
    await step("others", "you")
    await page.locator("input[name=claimant_name]").fill(claimant_name)
    await step("you", "your-contact")
    if claimant_email:
        await page.locator("input[name=claimant_email]").fill(claimant_email)
    await step("your-contact", "other-party")
    await page.locator("input[name=respondent_name]").fill(respondent_name)
    await step("other-party", "their-contact")
    await page.locator("select[name=respondent_language]").select_option(respondent_language)
    await step("their-contact", "representatives")
    await step("representatives", "needs")
    await step("needs", "check")


async def send(page: Page) -> str:
    """On "check your answers": consent and send; returns the case id from the confirmation page."""
    await page.locator("#filing-consent").check()
    await page.locator("#file-submit").click()
    await expect(page.locator("#filed-reference")).to_be_visible(timeout=SETTLE)
    return re.search(r"/cases/([^/]+)/filed$", page.url).group(1)


async def file_through_pages(page: Page, **answers) -> str:
    """File a case page by page and open its case page; returns the case id."""
    await answer_pages(page, **answers)
    case_id = await send(page)
    await page.locator("#filed-continue").click()
    await expect(page.locator('[data-status="filed"]')).to_be_visible(timeout=SETTLE)
    return case_id
