"""A whole mediation in three browser windows on the embedded run: the claimant files and invites,
the respondent (on a phone) consents, both answer the private screening, choose a mediator who
accepts, everyone signs the agreement to mediate, the mediator runs a joint session and a caucus
whose words never reach the other party's screen, a dropped connection resumes with the missed
messages in order, a proposal accepted by both sides seeds the draft, everyone signs it and the
claimant downloads the sealed PDF. Screenshots of each step are kept in test-artifacts/browser/."""

from __future__ import annotations

import uuid

import httpx
import pypdf
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.client import filing

pytestmark = pytest.mark.timeout(420)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"


class Window:
    """One person's browser window; keeps its console errors and numbered screenshots."""

    def __init__(self, name: str, page: Page, artifacts, steps: list) -> None:
        self.name, self.page, self.artifacts, self.steps = name, page, artifacts, steps
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def shot(self, step: str) -> None:
        self.steps.append(step)
        await self.page.screenshot(path=self.artifacts / f"{len(self.steps):02d}-{self.name}-{step}.png", full_page=True)

    async def audit(self, step: str, found: list) -> None:
        """axe-core's WCAG 2.1 A and AA rules on the page as it is now."""
        results = await Axe().run(self.page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
        for v in results.response["violations"]:
            found.append(f"{self.name}/{step}: {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}")

    async def status(self, expected: str) -> None:
        await expect(self.page.locator(f'[data-status="{expected}"]')).to_be_visible(timeout=20_000)

    async def case_page(self, case_id: str) -> None:
        await self.page.goto(f"/cases/{case_id}")


async def open_window(browser, base_url, name, artifacts, steps, viewport=DESKTOP, locale="en-GB") -> Window:
    context = await browser.new_context(base_url=base_url, viewport=viewport, locale=locale, accept_downloads=True,
                                        is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    return Window(name, await context.new_page(), artifacts, steps)


async def register_mediator(base_url: str) -> tuple[str, str]:
    """The register's administrator adds a mediator (an admin task, done through the API)."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        admin = (await http.post("/intake/dev/token", json={"subject": "admin-1", "role": "admin"})).json()["access_token"]
        username = f"aliya-{uuid.uuid4().hex[:6]}"
        r = await http.post("/intake/admin/mediators", headers={"Authorization": f"Bearer {admin}"}, json={
            "username": username, "password": PASSWORD, "full_name": "Aliya Bekova", "kind": "professional",
            "register_number": "R-1", "registry": "Republican chamber of mediators", "languages": ["kk", "ru", "en"],
            "specialisations": ["civil"], "jurisdictions": ["KZ"], "capacity": 3})
        assert r.status_code == 201, r.text
        return username, r.json()["id"]


async def answer_screening(page: Page) -> None:
    """Nothing is preselected: every question is answered (no abuse, not afraid, safe together)."""
    for radio in await page.locator('#main form input[type=radio][value="no"]').all():
        await radio.check()
    await page.locator("#q-safe_in_same_room-yes").check()
    await page.locator("select[name=fear_level]").select_option("0")


async def test_a_mediation_from_three_browser_windows(odr, browser, artifacts):
    username, mediator_id = await register_mediator(odr)
    steps: list[str] = []
    violations: list[str] = []
    claimant = await open_window(browser, odr, "claimant", artifacts, steps)
    respondent = await open_window(browser, odr, "respondent", artifacts, steps, viewport=PHONE)
    mediator = await open_window(browser, odr, "mediator", artifacts, steps)
    c, r, m = claimant.page, respondent.page, mediator.page

    # -- the claimant files a case and invites the other party -----------------------------------
    await c.goto("/")
    await claimant.shot("home")
    await c.locator('#nav a[href="/file"]').click()
    await expect(c.locator("#file-start")).to_be_visible()
    # One question per page (tests/client/filing.py); the other party's language is asked, never assumed.
    await filing.answer_pages(c, description="Unpaid invoice for deliveries in March", claimant_name="Aigerim Nurlanovna",
                              respondent_name="Dala Trade LLP", respondent_language="ru", claimant_email="aigerim@example.kz")
    await claimant.shot("filing-check-answers")
    await claimant.audit("filing-check-answers", violations)
    case_id = await filing.send(c)
    await claimant.shot("filing-confirmation")
    await c.locator("#filed-continue").click()
    await claimant.status("filed")
    await c.locator("#invite").click()
    link = await c.locator("#invitation-link").input_value()
    assert "/invitations/" in link
    await claimant.shot("invited")

    # -- the respondent opens the link on a phone and consents -----------------------------------
    await r.goto(link)
    await r.locator("#invitee-email").fill("dala@example.kz")
    await r.locator("#consent-agree").check()
    await respondent.shot("invitation")
    await respondent.audit("invitation", violations)
    await r.locator("#consent-give").click()
    await respondent.status("screening")
    assert await r.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling on a phone"

    # -- the private screening, each on their own -------------------------------------------------
    for who in (respondent, claimant):
        await who.case_page(case_id)
        await who.page.locator("#screening-start").click()
        await expect(who.page.locator("#screening-submit")).to_be_visible()
        await who.shot("screening")
        await who.audit("screening", violations)
        await answer_screening(who.page)
        await who.page.locator("#screening-submit").click()
        await expect(who.page.locator("#screening-submit")).to_have_count(0)
    await claimant.case_page(case_id)
    await claimant.status("eligible")

    # -- a mediator is chosen by both sides and accepts ------------------------------------------
    await c.locator(f'[data-mediator="{mediator_id}"]').click()
    await respondent.case_page(case_id)
    await r.locator("#accept-mediator").click()
    await m.goto("/mediator")
    await m.locator("input[name=username]").fill(username)
    await m.locator("input[name=password]").fill(PASSWORD)
    await m.locator("form button[type=submit]").click()
    await m.locator(f'#mediator-cases a[href="/cases/{case_id}"]').click()
    await m.locator("#impartiality").check()
    await mediator.shot("mediator-decision")
    await m.locator("#mediator-accept").click()
    await mediator.status("mediator_agreed")

    # -- everyone signs the agreement to mediate --------------------------------------------------
    for who in (mediator, claimant, respondent):
        await who.case_page(case_id)
        await who.page.locator("#atm-sign").click()
        await expect(who.page.locator("#atm-sign")).to_have_count(0)
    await mediator.case_page(case_id)
    await mediator.status("agreement_signed")
    await mediator.shot("screening-outcome-and-term")
    await mediator.audit("case", violations)

    # -- the room: waiting, admitted, joint chat ---------------------------------------------------
    for who in (mediator, claimant, respondent):
        await who.case_page(case_id)
        await who.page.locator("#room-enter").click()
        await expect(who.page.locator("#where")).to_be_visible()
    await expect(c.locator("#where")).to_have_attribute("data-location", "waiting")
    await claimant.shot("waiting-room")
    await m.locator("#session-start").click()
    claimant_id = await c.evaluate("JSON.parse(atob(window.odrRoom.token.split('.')[1].replace(/-/g,'+').replace(/_/g,'/'))).sub")
    respondent_id = await r.evaluate("JSON.parse(atob(window.odrRoom.token.split('.')[1].replace(/-/g,'+').replace(/_/g,'/'))).sub")
    for pid in (claimant_id, respondent_id):
        await m.locator(f'[data-admit="{pid}"]').click()
    for page in (c, r):
        await expect(page.locator("#where")).to_have_attribute("data-location", "joint")
        await expect(page.locator("#where")).to_contain_text("Joint session — everyone can see this")
    await c.locator("#message").fill("Hello everyone, thank you for coming")
    await c.locator("#message").press("Enter")
    await expect(r.locator("#messages")).to_contain_text("Hello everyone, thank you for coming")
    await respondent.shot("joint-chat")
    await mediator.shot("console")
    await mediator.audit("room-console", violations)
    await respondent.audit("room", violations)

    # -- a caucus with the claimant: the respondent's screen never shows it -----------------------
    secret = "Between us: my bottom line is 400 000"
    await m.locator("#caucus-claimant").click()
    await expect(c.locator("#where")).to_have_attribute("data-location", "caucus:claimant")
    await expect(c.locator("#where")).to_contain_text("Private caucus — only you and the mediator")
    await c.locator("#message").fill(secret)
    await c.locator("#message").press("Enter")
    await expect(m.locator("#messages")).to_contain_text(secret)
    await claimant.shot("caucus")
    await r.locator("#message").fill("I am still here in the joint session")
    await r.locator("#message").press("Enter")
    await expect(r.locator("#messages")).to_contain_text("I am still here")
    await respondent.shot("during-caucus")
    assert secret not in await r.content()
    await m.locator("#caucus-claimant").click()  # close it: everyone back to joint
    await expect(c.locator("#where")).to_have_attribute("data-location", "joint")
    await expect(c.locator("#messages")).not_to_contain_text(secret)  # the joint view shows joint words only

    # -- the respondent's connection drops; what was said meanwhile appears, in order, once -----
    await r.evaluate("window.odrRoom.holdReconnect = true; window.odrRoom.drop()")
    for n in (1, 2, 3):
        await c.locator("#message").fill(f"While you were away {n}")
        await c.locator("#message").press("Enter")
        await expect(c.locator("#messages")).to_contain_text(f"While you were away {n}")
    await r.evaluate("window.odrRoom.holdReconnect = false")
    for n in (1, 2, 3):
        await expect(r.locator("#messages")).to_contain_text(f"While you were away {n}")
    texts = await r.locator("#messages li[data-type=chat] .text").all_inner_texts()
    missed = [t for t in texts if t.startswith("While you were away")]
    assert missed == [f"While you were away {n}" for n in (1, 2, 3)], texts
    await respondent.shot("after-reconnect")

    # -- a proposal, accepted by both sides ----------------------------------------------------------
    await c.locator("#proposal-details summary").click()
    await c.locator("#proposal-summary").fill("Pay 400 000 KZT in two instalments")
    await c.locator("#proposal-terms").fill("200 000 KZT by 1 March\n200 000 KZT by 1 April")
    await c.locator("#proposal-send").click()
    accept = r.locator("[data-accept]")
    await accept.click()
    await expect(r.locator("#messages .accepted")).to_have_count(1)
    await respondent.shot("proposal-accepted")

    # -- the mediator drafts from the accepted proposal and sends it for signature --------------------
    await mediator.case_page(case_id)
    # drafted in the language the parties chose, whatever the mediator's page language (both
    # parties' pages are English here, so English is suggested; they chose Russian), the accepted
    # proposal an obligation row to complete
    await expect(m.locator("#agreement-language")).to_have_value("en")
    await m.locator("#agreement-language").select_option("ru")
    await m.locator("#draft-agreement").click()
    await expect(m.locator("#agreement-document")).to_contain_text("200 000 KZT by 1 March")
    await expect(m.locator("#agreement-document h3").first).to_contain_text("Соглашение")
    await expect(m.locator("#agreement-document ol li")).to_contain_text("400 000")
    await m.locator("#obligations input[name=deadline]").first.fill("2027-04-01")
    await m.locator("#save-version").click()
    await expect(m.locator("#agreement-document ol li")).to_contain_text("2027")
    await mediator.shot("draft")
    await mediator.audit("draft", violations)
    await m.locator("#send-for-signature").click()
    await expect(m.locator("#sign")).to_be_visible()
    agreement_url = m.url

    # -- everyone signs; the claimant downloads the PDF -----------------------------------------------
    for who in (claimant, respondent, mediator):
        await who.page.goto(agreement_url)
        await who.page.locator("#sign-confirm").check()
        await who.shot("sign")
        await who.page.locator("#sign").click()
        await expect(who.page.locator("#sign")).to_have_count(0)
    await c.reload()
    await expect(c.locator("#download-pdf")).to_be_visible()
    async with c.expect_download() as download_info:
        await c.locator("#download-pdf").click()
    download = await download_info.value
    pdf = artifacts / "agreement.pdf"
    await download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    # drafted in Russian from the mediator's English page: every word of it in Russian
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "Урегулирование по делу № KZ-" in text and "Settlement" not in text, text
    await claimant.shot("executed")
    await claimant.audit("executed", violations)

    # -- language switch: the same page in Kazakh and Russian -----------------------------------------
    english = await r.locator("main h1").inner_text()
    await r.locator("#language").select_option("kk")
    await expect(r.locator("html")).to_have_attribute("lang", "kk")
    await expect(r.locator("main h1")).not_to_have_text(english)
    await respondent.shot("kazakh")
    await respondent.audit("kazakh", violations)
    await r.locator("#language").select_option("ru")
    await expect(r.locator("html")).to_have_attribute("lang", "ru")
    await respondent.shot("russian")

    # Both parties were told by email too (the embedded run's mailbox), each in their language.
    async with httpx.AsyncClient(base_url=odr) as http:
        mails = (await http.get("/notifications/mailbox.json")).json()["items"]
    assert {"aigerim@example.kz", "dala@example.kz"} <= {m["to"] for m in mails}, [m["to"] for m in mails]

    assert not violations, "\n".join(violations)
    for window in (claimant, respondent, mediator):
        assert not [e for e in window.errors if "favicon" not in e], (window.name, window.errors)
