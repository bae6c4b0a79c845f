"""Screens a party uses, tried as people use them: on a phone, in Russian or Kazakh, reading the
screen after it has settled (and again a couple of seconds later), reloading in the middle of a
step. Screenshots of each step are kept in test-artifacts/browser/<test>/."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import BrowserContext, Page, expect

from tests.client.filing import file_through_pages
from tests.client.reading import offences
from tests.client.test_mediation_in_the_browser import PASSWORD, register_mediator

pytestmark = pytest.mark.timeout(300)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SETTLE = 30_000  # generous: the machine is shared


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

    async def audit(self) -> list[str]:
        """axe-core's WCAG 2.1 A and AA rules on the page as it is now: the violations."""
        results = await Axe().run(self.page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
        return [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in results.response["violations"]]

    async def latin_words(self, where: str = "main") -> list[str]:
        """What in a part of the page a ru or kk reader should not meet: English, raw ids, ISO
        dates (tests/client/reading.py, the one check)."""
        return offences(await self.page.locator(where).inner_text())


async def person(browser, odr, artifacts, name, *, locale="ru-RU", viewport=PHONE, init_script=None) -> Person:
    context = await browser.new_context(base_url=odr, locale=locale, viewport=viewport, is_mobile=viewport is PHONE,
                                        has_touch=viewport is PHONE)
    if init_script:
        await context.add_init_script(init_script)
    return Person(name, context, await context.new_page(), artifacts)


async def file_a_case(p: Person, *, respondent_language: str = "ru") -> str:
    """The claimant files page by page (tests/client/filing.py); returns the case id, on its case page."""
    return await file_through_pages(p.page, description="Не оплачены поставки за март", claimant_name="Айгерим Нурлановна",
                                    respondent_name="ТОО Дала Трейд", respondent_language=respondent_language)


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
    await page.wait_for_function("() => window.__linkMounts >= 2", timeout=SETTLE)
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
    assert await claimant.audit() == []
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


NEUTRAL_PAGE = "<!doctype html><html lang=en><title>Search</title><p>A search page</p></html>"


async def parties_in_screening(browser, odr, artifacts, *, respondent_locale="kk-KZ") -> tuple[Person, Person, str]:
    """A claimant (desktop, ru) files and invites; the respondent (phone) consents: both are asked
    the safety questions."""
    claimant = await person(browser, odr, artifacts, "claimant", viewport=DESKTOP)
    case_id = await file_a_case(claimant, respondent_language="kk")
    await claimant.page.locator("#invite").click()
    link = await claimant.page.locator("#invitation-link").input_value()
    respondent = await person(browser, odr, artifacts, "respondent", locale=respondent_locale)
    r = respondent.page
    await r.goto(link)
    await r.locator("#consent-agree").check()
    await r.locator("#consent-give").click()
    await expect(r.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)
    return claimant, respondent, case_id


async def test_safety_screening_has_no_preset_answers_survives_a_reload_and_has_a_quick_exit(odr, browser, artifacts):
    username, mediator_id = await register_mediator(odr)
    claimant, respondent, case_id = await parties_in_screening(browser, odr, artifacts)
    r = respondent.page

    # -- the respondent, on a phone in Kazakh: nothing is chosen for them -------------------------
    await r.locator("#screening-start").click()
    await expect(r.locator("#screening-submit")).to_be_visible(timeout=SETTLE)
    radios = r.locator("#main form input[type=radio]")
    assert await radios.count() >= 22
    assert await r.locator("#main form input[type=radio]:checked").count() == 0, "no preselected answers"
    assert await r.locator("select[name=fear_level]").input_value() == ""
    await respondent.shot("screening-empty")
    assert await respondent.latin_words() == [], "no English on a Kazakh screen"

    # Half answered, then a reload: the answers are still there.
    await r.locator("#q-insults-yes").check()
    await r.locator("#q-threats-no").check()
    await r.locator("select[name=fear_level]").select_option("1")
    await r.reload()
    await expect(r.locator("#q-insults-yes")).to_be_checked(timeout=SETTLE)
    await expect(r.locator("#q-threats-no")).to_be_checked()
    await expect(r.locator("select[name=fear_level]")).to_have_value("1")
    await respondent.shot("after-reload")

    # Sent with gaps: a summary at the top and a message beside each unanswered question.
    await r.locator("#screening-submit").click()
    summary = r.locator(".error-summary")
    await expect(summary).to_be_visible()
    await expect(summary).to_be_focused()
    unanswered = 9 + 2 - 2  # nine questions and two yes/no extras, two answered
    await expect(summary.locator("li")).to_have_count(unanswered)
    await expect(r.locator("#q-controls_life .error-message")).to_be_visible()
    await expect(r.locator("#q-insults .error-message")).to_have_count(0)
    await respondent.shot("errors")
    assert await respondent.latin_words() == []
    assert await respondent.audit() == []
    await summary.locator("li a").first.click()
    assert await r.evaluate("document.activeElement.name") == "controls_life"
    assert "/screening" in r.url  # the summary's link moves focus, it does not re-route

    for radio in await r.locator('#main form input[type=radio][value="no"]').all():
        if not await r.locator(f'input[name="{await radio.get_attribute("name")}"]:checked').count():
            await radio.check()
    await r.locator("#q-note").fill("Просьба: встречи только онлайн")
    await r.locator("#screening-submit").click()
    await expect(r.locator("#screening-submit")).to_have_count(0, timeout=SETTLE)
    assert await r.evaluate(f"sessionStorage.getItem('odr.screening.{case_id}')") is None, "forgotten once sent"
    await respondent.shot("sent")

    # -- the claimant starts, then has to leave at once ---------------------------------------------
    c = claimant.page
    await c.route("https://www.google.com/**", lambda route: route.fulfill(status=200, content_type="text/html", body=NEUTRAL_PAGE))
    await c.goto(f"/cases/{case_id}")
    await c.locator("#screening-start").click()
    await expect(c.locator("#quick-exit")).to_be_visible(timeout=SETTLE)
    await c.locator("#q-physical-yes").check()
    await claimant.shot("before-exit")
    await c.locator("#quick-exit").click()
    await c.wait_for_url("https://www.google.com/**", timeout=SETTLE)
    await c.go_back()
    await c.wait_for_load_state()
    assert "/screening" not in c.url, "the questions are not in the history"
    await expect(c.locator("main h1")).to_be_visible(timeout=SETTLE)
    assert await c.evaluate(f"sessionStorage.getItem('odr.screening.{case_id}')") is None, "answers forgotten on exit"
    # Back to it: nothing from before the exit is shown.
    await c.goto(f"/cases/{case_id}/screening")
    await expect(c.locator("#screening-submit")).to_be_visible(timeout=SETTLE)
    assert await c.locator("#main form input[type=radio]:checked").count() == 0
    for radio in await c.locator('#main form input[type=radio][value="no"]').all():
        await radio.check()
    await c.locator("#q-safe_in_same_room-yes").check()
    await c.locator("select[name=fear_level]").select_option("0")
    await c.locator("#screening-submit").click()
    await expect(c.locator("#screening-submit")).to_have_count(0, timeout=SETTLE)

    # -- the mediator reads each answer under its question, in Kazakh -------------------------------
    await choose_mediator(odr, claimant, respondent, case_id, mediator_id, username)
    mediator = await person(browser, odr, artifacts, "mediator", locale="kk-KZ", viewport=DESKTOP)
    m = mediator.page
    await m.goto("/mediator")  # a mistyped password is told in the reader's language, not the server's
    await m.locator("input[name=username]").fill(username)
    await m.locator("input[name=password]").fill("wrong password")
    await m.locator("form button[type=submit]").click()
    await expect(m.locator(".problem")).to_have_text("Пайдаланушы аты немесе құпиясөз қате. Тексеріп, қайталап көріңіз.", timeout=SETTLE)
    await sign_in_mediator(m, username)
    await m.goto(f"/cases/{case_id}")
    await m.locator("#screening-read").click()
    report = m.locator('.screening-report[data-side="respondent"]')
    await expect(report).to_be_visible(timeout=SETTLE)
    text = await m.locator("#screening-answers").inner_text()
    assert "[object Object]" not in text
    assert "Екінші тарап сізді жиі қорлады, кемсітті немесе қорқытты ма?" in text  # the question, in Kazakh
    answers = [await dd.inner_text() for dd in await report.locator("dd").all()]
    assert answers[0] == "Иә" and answers[1] == "Жоқ"  # insults: yes; control: no
    assert "Просьба: встречи только онлайн" in answers
    await m.wait_for_timeout(2000)  # read again later: a notice re-rendering the page keeps them open
    await expect(report).to_be_visible()
    await mediator.shot("screening-answers")
    assert await mediator.audit() == []
    assert await mediator.latin_words("#screening-answers") == []
    assert claimant.errors == [] and respondent.errors == [] and mediator.errors == []


async def choose_mediator(odr, claimant: Person, respondent: Person, case_id: str, mediator_id: str, username: str) -> None:
    """Both parties agree on the mediator and the mediator accepts (through the API: not what
    these tests are about)."""
    tokens = []
    for who in (claimant, respondent):
        ids = await who.page.evaluate("JSON.parse(localStorage.getItem('odr.identities'))")
        tokens.append(ids[f"case:{case_id}"]["token"])
    async with httpx.AsyncClient(base_url=odr) as http:
        for _ in range(200):
            r = await http.get(f"/intake/cases/{case_id}", headers={"Authorization": f"Bearer {tokens[0]}"})
            if r.json()["status"] == "eligible":
                break
            await asyncio.sleep(0.2)
        p = await http.post(f"/intake/cases/{case_id}/mediator-proposals", json={"mediator_id": mediator_id},
                            headers={"Authorization": f"Bearer {tokens[0]}"})
        assert p.status_code == 201, p.text
        proposal = p.json()["id"]
        a = await http.post(f"/intake/cases/{case_id}/mediator-proposals/{proposal}/accept",
                            headers={"Authorization": f"Bearer {tokens[1]}"})
        assert a.status_code == 200, a.text
        login = await http.post("/intake/auth/login", json={"username": username, "password": PASSWORD})
        mediator = {"Authorization": f"Bearer {login.json()['access_token']}"}
        d = await http.post(f"/intake/cases/{case_id}/mediator-proposals/{proposal}/decision",
                            json={"decision": "accept", "impartiality_declaration": True}, headers=mediator)
        assert d.status_code == 200, d.text


async def sign_in_mediator(page: Page, username: str) -> None:
    await page.goto("/mediator")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()
    await expect(page.locator("#mediator-cases")).to_be_visible(timeout=SETTLE)


async def test_the_notifications_page_survives_a_reload_and_lists_each_notice_once(odr, browser, artifacts):
    claimant, respondent, case_id = await parties_in_screening(browser, odr, artifacts, respondent_locale="ru-RU")
    c = claimant.page
    await c.goto(f"/cases/{case_id}")
    await c.wait_for_function(FEED_HAS, arg=[case_id, "screening_requested"], timeout=SETTLE, polling=500)
    await c.locator('#nav a[href="/notifications"]').click()
    items = c.locator("#notification-list > li")
    await expect(items.first).to_be_visible(timeout=SETTLE)
    await c.reload()
    await expect(c.locator("main h1")).to_have_text("Уведомления", timeout=SETTLE)
    await expect(items.first).to_be_visible(timeout=SETTLE)
    await c.wait_for_timeout(2000)  # read again once live notices have arrived
    await expect(c.locator('#nav a[aria-current="page"]')).to_have_attribute("href", "/notifications")
    await claimant.shot("notifications-after-reload")
    titles = [await link.inner_text() for link in await c.locator("#notification-list > li > a").all()]
    assert len(titles) >= 4, titles  # filed, invitation sent, the answer, the safety questions
    assert len(titles) == len(set(titles)), f"each notice once: {titles}"
    # Links in notices open the client's pages, and those survive a reload too.
    await c.locator("#notification-list a").first.click()
    await expect(c.locator("main h1")).to_be_visible(timeout=SETTLE)
    await c.reload()
    await expect(c.locator("main h1")).not_to_have_text("Страница не найдена", timeout=SETTLE)
    assert claimant.errors == []


async def test_the_invited_party_is_told_when_an_email_address_is_not_valid(odr, browser, artifacts):
    claimant = await person(browser, odr, artifacts, "claimant", viewport=DESKTOP)
    await file_a_case(claimant)
    await claimant.page.locator("#invite").click()
    link = await claimant.page.locator("#invitation-link").input_value()
    respondent = await person(browser, odr, artifacts, "respondent", locale="ru-RU")
    r = respondent.page
    await r.goto(link)
    await r.locator("#invitee-email").fill("maria@mail")
    await r.locator("#consent-agree").check()
    await r.locator("#consent-give").click()
    await expect(r.locator('.has-error:has(#invitee-email) .error-message')).to_be_visible(timeout=SETTLE)
    await expect(r.locator(".error-summary")).to_be_focused()
    await respondent.shot("email-error")
    assert await respondent.latin_words(".error-summary") == []
    # Nothing was answered: put right, the same link still works.
    await r.locator("#invitee-email").fill("maria@mail.kz")
    await r.locator("#consent-give").click()
    await expect(r.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)
    assert respondent.errors == []
