"""Screens a party uses, tried as people use them: on a phone, in Russian or Kazakh, reading the
screen after it has settled (and again a couple of seconds later), reloading in the middle of a
step. Screenshots of each step are kept in test-artifacts/browser/<test>/."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import BrowserContext, Page, expect

pytestmark = pytest.mark.timeout(300)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SETTLE = 30_000  # generous: the machine is shared
# Latin words a Russian or Kazakh reader may meet: the brand, and the bits of ids still shown.
ALLOWED_LATIN = {"ODR"}


class Person:
    """One person's browser tab, with numbered screenshots and their console errors."""

    def __init__(self, name: str, context: BrowserContext, page: Page, artifacts) -> None:
        self.name, self.context, self.page, self.artifacts = name, context, page, artifacts
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.step = 0

    async def shot(self, what: str) -> None:
        self.step += 1
        await self.page.screenshot(path=self.artifacts / f"{self.name}-{self.step:02d}-{what}.png", full_page=True)

    async def latin_words(self, where: str = "main") -> list[str]:
        """Latin-script words in a part of the page (ids of 8 hex digits aside): on a ru or kk
        screen these are English a reader meets."""
        text = await self.page.locator(where).inner_text()
        text = re.sub(r"\b[0-9a-f]{8}\b", " ", text)
        return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED_LATIN]


async def person(browser, odr, artifacts, name, *, locale="ru-RU", viewport=PHONE, init_script=None) -> Person:
    context = await browser.new_context(base_url=odr, locale=locale, viewport=viewport, is_mobile=viewport is PHONE,
                                        has_touch=viewport is PHONE)
    if init_script:
        await context.add_init_script(init_script)
    return Person(name, context, await context.new_page(), artifacts)


async def file_a_case(p: Person, *, respondent_language: str = "ru") -> str:
    """The claimant files through the form; returns the case id."""
    page = p.page
    await page.goto("/file")
    await page.locator("textarea[name=description]").fill("Не оплачены поставки за март")
    await page.locator("input[name=claimant_name]").fill("Айгерим Нурлановна")
    await page.locator("input[name=respondent_name]").fill("ТОО Дала Трейд")
    await page.locator("select[name=respondent_language]").select_option(respondent_language)
    await page.locator("#filing-consent").check()
    await page.locator("#file-submit").click()
    await expect(page.locator('[data-status="filed"]')).to_be_visible(timeout=SETTLE)
    return page.url.rstrip("/").split("/")[-1]


# Counts how often the invitation link is put on the page (each re-render puts it there again).
COUNT_LINK_MOUNTS = """() => {
  window.__linkMounts = 0;
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes)
      if (n.nodeType === 1 && (n.id === 'invitation-link' || n.querySelector?.('#invitation-link'))) window.__linkMounts += 1;
  }).observe(document.body, {childList: true, subtree: true});
}"""

# Whether the feed of this browser's party on the case holds a notice of that kind.
FEED_HAS = """async ([caseId, kind]) => {
  const me = JSON.parse(localStorage.getItem('odr.identities'))['case:' + caseId];
  const r = await fetch('/notifications/feed?limit=100', {headers: {Authorization: 'Bearer ' + me.token}});
  return r.ok && (await r.json()).items.some((i) => i.kind === kind);
}"""

SHARE_SPY = """
window.__shared = [];
Object.defineProperty(navigator, 'share', {configurable: true, value: async (data) => { window.__shared.push(data); }});
Object.defineProperty(navigator, 'canShare', {configurable: true, value: () => true});
"""


async def test_the_invitation_link_stays_until_dismissed_and_a_new_one_warns_first(odr, browser, artifacts):
    claimant = await person(browser, odr, artifacts, "claimant", init_script=SHARE_SPY)
    await claimant.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=odr)
    page = claimant.page
    case_id = await file_a_case(claimant)
    await claimant.shot("filed")

    await page.evaluate(COUNT_LINK_MOUNTS)
    await page.locator("#invite").click()
    link = page.locator("#invitation-link")
    await expect(link).to_be_visible(timeout=SETTLE)
    first = await link.input_value()
    assert "/invitations/" in first
    # The "invitation sent" notice re-renders the page: wait until it is in the feed and the page
    # has been drawn again since the link first appeared, then read the screen a couple of seconds
    # later, as a person would.
    await expect(page.locator('[data-status="awaiting_consent"]')).to_be_visible(timeout=SETTLE)
    await page.wait_for_function(FEED_HAS, arg=[case_id, "invitation_sent"], timeout=SETTLE, polling=500)
    await page.wait_for_function("window.__linkMounts >= 2", timeout=SETTLE)
    await page.wait_for_timeout(2500)  # not synchronisation: what a person reads seconds later
    await expect(link).to_have_value(first)
    await claimant.shot("link-still-there")
    assert await claimant.latin_words("#invite-card") == [], "no English on a Russian screen"

    # Copy puts it on the clipboard; Share hands it to the phone's share sheet.
    await page.locator("#invitation-copy").click()
    assert await page.evaluate("navigator.clipboard.readText()") == first
    await page.locator("#invitation-share").click()
    shared = await page.evaluate("window.__shared")
    assert shared and shared[-1]["url"] == first

    # A reload keeps it (the same tab).
    await page.reload()
    await expect(page.locator("#invitation-link")).to_have_value(first, timeout=SETTLE)
    await claimant.shot("after-reload")

    # A new link warns first; cancelling keeps the old one.
    await page.locator("#invite-new").click()
    await expect(page.locator("#invite-warning")).to_be_visible()
    await claimant.shot("new-link-warning")
    await page.locator("#invite-cancel").click()
    await expect(page.locator("#invite-warning")).to_have_count(0)
    await expect(page.locator("#invitation-link")).to_have_value(first)
    await page.locator("#invite-new").click()
    await page.locator("#invite-confirm").click()
    await expect(page.locator("#invitation-link")).not_to_have_value(first, timeout=SETTLE)
    second = await page.locator("#invitation-link").input_value()
    await claimant.shot("new-link")

    # The old link no longer opens the invitation; the new one does.
    respondent = await person(browser, odr, artifacts, "respondent")
    await respondent.page.goto(first)
    await expect(respondent.page.locator("#consent-give")).to_have_count(0)
    await expect(respondent.page.locator(".problem")).to_be_visible(timeout=SETTLE)
    await respondent.page.goto(second)
    await expect(respondent.page.locator("#consent-give")).to_be_visible(timeout=SETTLE)

    # Dismissed, it is gone, and stays gone after a reload.
    await page.locator("#invitation-dismiss").click()
    await expect(page.locator("#invitation-link")).to_have_count(0)
    await page.reload()
    await expect(page.locator("#invite-new")).to_be_visible(timeout=SETTLE)
    await expect(page.locator("#invitation-link")).to_have_count(0)
    await claimant.shot("dismissed")
    assert claimant.errors == [] and respondent.errors == []
    assert case_id
