"""Every screen in Kazakh and in Russian, and the parties' screens in Kyrgyz too, with no English, raw
id or ISO timestamp shown to a person, and no Russian left on a Kyrgyz screen (tests/client/reading.py
says what is read and what is allowed).

One `odr dev` and one browser: a case goes from filing to a signed agreement, and at each stage
the people of that stage (claimant, respondent, mediator, a court clerk, a visitor) open their
screens the way they do (clicking through, or by the screen's address, as a link in a notice
opens it), once in each language. Each screen is read after it has settled and screenshotted to
test-artifacts/browser/<test>/; the test fails at the end listing every screen and what on it was
not in the reader's language. To walk a new screen, add a `Screen` to the stage where it exists.

A screen's languages are read at the same time, each in a browser context of its own holding what
the person's browser holds (its storage): reading is mostly waiting for the page to settle, and one
language after another made this the suite's longest test (over 200 screens, about eight minutes).
The person's own page reads the last language and stays on the screen, as one browser would. A
screen whose reading does something on the server (a wrong password, a two-step key made), or that
holds a live room connection (another tab's leaving would tell the room the person went offline),
is read one language after another in the person's own page (``alone``)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.client.filing import answer_pages, send
from tests.client.reading import foreign_words, russian_left
from tests.client.test_mediation_in_the_browser import PASSWORD, register_mediator
from tests.client.test_reach_and_return import mailbox_link
from tests.services.agreements.conftest import complete_content
from tests.services.intake.conftest import calm_answers, parties
from tests.support.waiting import eventually
from tests.support import files

pytestmark = pytest.mark.timeout(1500)

LANGUAGES = ("kk", "ru")
# The parties (and a visitor, a party signed out) read their screens in Kyrgyz as well.
PARTIES = ("claimant", "respondent", "visitor")
WAIT = 60_000  # generous: the machine is shared
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
RECEIPT = "Түбіртек-жөндеу.pdf"  # a file's name as the claimant saved it
# What the people in this test typed or the register holds, in Latin letters: names, not English.
ALLOWED = ("Aliya Bekova", "Aigerim Nurlanovna", "TOO Dala Trade", "Serik Bekov", "Bekov & Partners", "Almaty civil court", RECEIPT)
CLAIMANT_EMAIL = "aigerim.walk@example.kz"
# What the people in this test typed in Russian (their own words, shown as typed in any language).
TYPED = ("Не оплачены поставки за март", "Оплата 400 000 тенге двумя частями", "200 000 тенге до 1 марта",
         "200 000 тенге до 1 апреля", "Согласны, просим указать реквизиты", "Неоплаченный счёт")

# Settled: the text a person reads has not changed for three looks half a second apart.
SETTLED = """() => {
  const now = document.body.innerText;
  const w = window.__settle || (window.__settle = {text: null, same: 0});
  if (now === w.text) w.same += 1; else { w.text = now; w.same = 0; }
  return w.same >= 3;
}"""
# What a browser holds for this site (its identities, the language, a tab's answers so far), to hand
# to another context; and handing it over, with that reader's language.
HELD = "() => ({local: Object.entries(localStorage), session: Object.entries(sessionStorage)})"
HOLD = """([held, language]) => {
  localStorage.clear(); sessionStorage.clear();
  for (const [k, v] of held.local) localStorage.setItem(k, v);
  for (const [k, v] of held.session) sessionStorage.setItem(k, v);
  localStorage.setItem('odr.language', language);
}"""


@dataclass
class Screen:
    """A screen as one person (``who``: whose browser) reaches it: ``reach(page)`` brings it up,
    by its address or by what the person clicks, and returns once it is drawn."""
    name: str
    who: str
    reach: Callable[[Page], Awaitable[None]]
    alone: bool = False  # read one language after another in the person's own page (see the top)


@dataclass
class Walk:
    """One browser context per person, kept across screens, and one per person and other language
    to read in at the same time; what was read and what was wrong."""
    browser: object
    base_url: str
    artifacts: object
    people: dict[str, Page] = field(default_factory=dict)
    readers: dict[tuple[str, str], Page] = field(default_factory=dict)
    found: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    walked: list[str] = field(default_factory=list)

    async def new_page(self, who: str, label: str) -> Page:
        viewport = PHONE if who == "respondent" else DESKTOP
        context: BrowserContext = await self.browser.new_context(
            base_url=self.base_url, locale="ru-RU", viewport=viewport, is_mobile=viewport is PHONE,
            has_touch=viewport is PHONE)
        page = await context.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{label}: {e}"))
        return page

    async def page(self, who: str) -> Page:
        if who not in self.people:
            page = await self.new_page(who, who)
            await page.goto("/")
            self.people[who] = page
        return self.people[who]

    async def reader(self, who: str, language: str, held: dict) -> Page:
        """A context of its own for reading ``who``'s screen in ``language``, holding what the
        person's browser holds (``held``)."""
        if (who, language) not in self.readers:
            self.readers[who, language] = await self.new_page(who, f"{who} [{language}]")
        page = self.readers[who, language]
        await page.goto("/healthz")  # this site's storage, without starting the client
        await page.evaluate(HOLD, [held, language])
        return page

    async def language(self, page: Page, language: str) -> None:
        await page.evaluate("(l) => localStorage.setItem('odr.language', l)", language)

    def languages(self, who: str) -> tuple[str, ...]:
        return ("kk", "ky", "ru") if who in PARTIES else LANGUAGES  # Russian last, as before: the claimant files in it

    async def read(self, page: Page, name: str, language: str) -> None:
        """Read the screen once it has settled; note what a ``language`` reader should not meet."""
        await expect(page.locator("html")).to_have_attribute("lang", language, timeout=WAIT)
        await page.evaluate("() => { window.__settle = null; }")
        await page.wait_for_function(SETTLED, timeout=WAIT, polling=500)
        key = f"{name} [{language}]"
        self.walked.append(key)
        file = re.sub(r"[^\w-]+", "_", key)
        await page.screenshot(path=self.artifacts / f"{len(self.walked):03d}-{file}.png", full_page=True)
        bad = await foreign_words(page, ALLOWED)
        if language == "ky":
            bad += await russian_left(page, TYPED)
        if bad:
            self.found[key] = sorted(set(bad))
            with open(self.artifacts / "found.txt", "a") as out:  # as it goes: readable if a later step fails
                out.write(f"- {key}:\n    " + "\n    ".join(self.found[key]) + "\n")

    async def screen(self, screen: Screen) -> None:
        """``screen`` in each language: the others in readers' contexts while the person's own page
        reads the last (unless ``screen.alone``)."""
        page = await self.page(screen.who)
        *others, last = self.languages(screen.who)

        async def in_own_page(language: str) -> None:
            await self.language(page, language)
            await screen.reach(page)
            await self.read(page, screen.name, language)

        async def in_reader(language: str, held: dict) -> None:
            reader = await self.reader(screen.who, language, held)
            await screen.reach(reader)
            await self.read(reader, screen.name, language)
            await reader.goto("about:blank")  # nothing left running behind the person's back

        if screen.alone:
            for language in (*others, last):
                await in_own_page(language)
        else:
            held = await page.evaluate(HELD)  # before the person's page moves on
            await asyncio.gather(*(in_reader(language, held) for language in others), in_own_page(last))

    async def screens(self, *screens: Screen) -> None:
        for screen in screens:
            await self.screen(screen)

    async def token(self, who: str, key: str) -> str:
        ids = await (await self.page(who)).evaluate("JSON.parse(localStorage.getItem('odr.identities') || '{}')")
        return ids[key]["token"]


def at(path: str, ready: str) -> Callable[[Page], Awaitable[None]]:
    """Reach a screen by its address."""
    async def reach(page: Page) -> None:
        await page.goto(path)
        await expect(page.locator(ready).first).to_be_visible(timeout=WAIT)
    return reach


def then(first: Callable[[Page], Awaitable[None]], act: Callable[[Page], Awaitable[None]], ready: str):
    """Reach a screen, do what the person does there (``act``), wait for ``ready``."""
    async def reach(page: Page) -> None:
        await first(page)
        await act(page)
        await expect(page.locator(ready).first).to_be_visible(timeout=WAIT)
    return reach


def click(selector: str) -> Callable[[Page], Awaitable[None]]:
    async def act(page: Page) -> None:
        await page.locator(selector).first.click()
    return act


async def test_every_screen_speaks_kazakh_and_russian(odr, browser, artifacts):
    started = time.monotonic()
    walk = Walk(browser, odr, artifacts)
    username, mediator_id = await register_mediator(odr)
    http = httpx.AsyncClient(base_url=odr, timeout=30)

    def bearer(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    # -- a visitor: home, a page that does not exist, the filing pages --------------------------------
    await walk.screens(
        Screen("home", "claimant", at("/", "main h1")),
        Screen("not found", "claimant", at("/no-such-page", "main h1")),
        Screen("file: start", "claimant", at("/file", "#file-start")),
        Screen("file: where, unanswered", "claimant",
               then(at("/file/where", "#file-continue"), click("#file-continue"), ".error-summary")),
    )
    claimant = await walk.page("claimant")

    async def each_question(step: str) -> None:  # each question page, once answered, in each language
        await walk.screen(Screen(f"file: {step}", "claimant", at(claimant.url, "#file-continue")))

    await answer_pages(claimant, description="Не оплачены поставки за март", claimant_name="Aigerim Nurlanovna",
                       respondent_name="TOO Dala Trade", respondent_language="ru", claimant_email=CLAIMANT_EMAIL,
                       shot=each_question)
    await walk.screens(
        Screen("file: check your answers", "claimant", at("/file/check", "#file-submit")),
        Screen("file: check your answers, no consent", "claimant",
               then(at("/file/check", "#file-submit"), click("#file-submit"), ".error-summary")),
    )
    case_id = await send(claimant)
    await walk.screens(
        Screen("filed: confirmation", "claimant", at(f"/cases/{case_id}/filed", "#filed-reference")),
        Screen("case: filed (claimant)", "claimant", at(f"/cases/{case_id}", '[data-status="filed"]')),
    )
    await claimant.locator("#invite").click()
    await expect(claimant.locator("#invitation-link")).to_be_visible(timeout=WAIT)
    link = await claimant.locator("#invitation-link").input_value()
    await walk.screens(
        Screen("case: invitation link (claimant)", "claimant", at(f"/cases/{case_id}", "#invitation-link")),
        Screen("case: new link warning (claimant)", "claimant",
               then(at(f"/cases/{case_id}", "#invite-new"), click("#invite-new"), "#invite-warning")),
        Screen("case: send it for me, bad address (claimant)", "claimant",
               then(at(f"/cases/{case_id}", "#invite-send-form"), bad_address("#invite-email", "#invite-send"),
                    ".error-summary")),
        Screen("home: my cases (claimant)", "claimant", at("/", f'a[href="/cases/{case_id}"]')),
    )

    # -- the respondent: the invitation, a dead link, consent, the safety questions ----------------------
    invitation = "/" + link.split("/", 3)[3]
    await walk.screens(
        Screen("invitation", "respondent", at(invitation, "#consent-give")),
        Screen("invitation: bad email", "respondent",
               then(at(invitation, "#consent-give"), consent_with("maria@mail"), ".error-summary")),
        Screen("invitation: unknown link", "respondent", at("/invitations/no-such-link", ".problem")),
    )
    respondent = await walk.page("respondent")
    await walk.language(respondent, "ru")
    await respondent.goto(invitation)
    await consent_with("dala.walk@example.kz")(respondent)
    await expect(respondent.locator('[data-status="screening"]')).to_be_visible(timeout=WAIT)
    await walk.screens(
        Screen("case: screening (respondent)", "respondent", at(f"/cases/{case_id}", "#screening-start")),
        Screen("screening", "respondent", at(f"/cases/{case_id}/screening", "#screening-submit")),
        Screen("screening: unanswered", "respondent",
               then(at(f"/cases/{case_id}/screening", "#screening-submit"), click("#screening-submit"), ".error-summary")),
        Screen("case page of another's case", "respondent", at(f"/cases/{uuid.uuid4()}", "main h1")),
    )
    tokens = {"claimant": await walk.token("claimant", f"case:{case_id}"),
              "respondent": await walk.token("respondent", f"case:{case_id}")}
    for side in ("claimant", "respondent"):
        r = await http.post(f"/intake/cases/{case_id}/screening", json=calm_answers(), headers=bearer(tokens[side]))
        assert r.status_code == 201, r.text

    # -- eligible: choosing a mediator ---------------------------------------------------------------------
    await walk.screens(
        Screen("case: choose a mediator (claimant)", "claimant",
               at(f"/cases/{case_id}", f'button[data-mediator="{mediator_id}"]')),
    )
    await claimant.locator(f'button[data-mediator="{mediator_id}"]').click()
    await expect(claimant.locator("#mediator-card dl")).to_be_visible(timeout=WAIT)
    await walk.screens(
        Screen("case: accept the mediator (respondent)", "respondent", at(f"/cases/{case_id}", "#accept-mediator")),
    )
    await respondent.locator("#accept-mediator").click()
    await expect(respondent.locator("#accept-mediator")).to_have_count(0, timeout=WAIT)

    # -- the mediator: sign-in, the console, the acceptance screen ---------------------------------------
    await walk.screens(
        Screen("mediator: sign in", "mediator", at("/mediator", "input[name=username]")),
        Screen("mediator: wrong password", "mediator",
               then(at("/mediator", "input[name=username]"), sign_in(username, "wrong password"), ".problem"), alone=True),
    )
    mediator = await walk.page("mediator")
    await sign_in(username, PASSWORD)(mediator)
    await expect(mediator.locator("#mediator-cases")).to_be_visible(timeout=WAIT)
    await walk.screens(
        Screen("mediator: console", "mediator", at("/mediator", "#mediator-cases")),
        Screen("mediator: two-step sign-in, the key", "mediator",
               then(at("/mediator", "#totp-start"), click("#totp-start"), "#totp-secret"), alone=True),
        Screen("mediator: acceptance", "mediator", at(f"/cases/{case_id}", "#case-briefing")),
    )
    mediator_token = await walk.token("mediator", "mediator")
    for language in LANGUAGES:  # turned on (the recovery codes, shown once), then off for the next language
        await walk.language(mediator, language)
        await then(at("/mediator", "#totp-start"), click("#totp-start"), "#totp-secret")(mediator)
        secret = (await mediator.locator("#totp-secret").inner_text()).replace(" ", "")
        await mediator.locator("#totp-confirm-code").fill(pyotp.TOTP(secret).now())
        await mediator.locator("#totp-confirm").click()
        await expect(mediator.locator("#totp-recovery-codes li")).to_have_count(10, timeout=WAIT)
        await walk.read(mediator, "mediator: two-step sign-in on, recovery codes", language)
        later = pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=30))  # a code not yet spent
        r = await http.post("/intake/auth/totp/disable", json={"code": later}, headers=bearer(mediator_token))
        assert r.status_code == 204, r.text
    await mediator.goto(f"/cases/{case_id}")
    await mediator.locator("#impartiality").check()
    await mediator.locator("#mediator-accept").click()
    await expect(mediator.locator("#case-briefing")).to_have_count(0, timeout=WAIT)
    await walk.screens(
        Screen("mediator: screening answers", "mediator",
               then(at(f"/cases/{case_id}", "#screening-read"), click("#screening-read"), ".screening-report"), alone=True),
    )

    # -- the agreement to mediate ----------------------------------------------------------------------------
    await walk.screens(
        Screen("case: agreement to mediate (claimant)", "claimant", at(f"/cases/{case_id}", "#atm-sign")),
        Screen("case: agreement to mediate (mediator)", "mediator", at(f"/cases/{case_id}", "#atm-sign")),
    )
    for who in ("claimant", "respondent", "mediator"):
        page = await walk.page(who)
        await page.goto(f"/cases/{case_id}")
        await page.locator("#atm-sign").click()
        await expect(page.locator("#atm-sign")).to_have_count(0, timeout=WAIT)

    # -- sittings and the room ------------------------------------------------------------------------------
    await walk.screens(
        Screen("case: sittings and the room (mediator)", "mediator", at(f"/cases/{case_id}", "#sitting-form")),
    )
    today = datetime.now(ZoneInfo("Asia/Almaty")).date()  # within the term of mediation, in the case's zone
    slots = [f"{today + timedelta(days=n)}T1{n}:30" for n in (3, 4)]
    r = await http.post(f"/intake/cases/{case_id}/sittings", json={"slots": slots, "duration_minutes": 60},
                        headers=bearer(mediator_token))
    assert r.status_code == 201, r.text
    sitting = r.json()
    await walk.screens(
        Screen("case: a sitting to answer (respondent)", "respondent", at(f"/cases/{case_id}", "#sittings")),
    )
    # the mediator fixes it at the first time, moves it a day later, then cancels it: each as people read it
    sitting_path = f"/intake/cases/{case_id}/sittings/{sitting['id']}"
    r = await http.post(f"{sitting_path}/fix", json={"slot_id": sitting["slots"][0]["id"]}, headers=bearer(mediator_token))
    assert r.status_code == 200, r.text
    await walk.screens(
        Screen("case: a sitting fixed (respondent)", "respondent", at(f"/cases/{case_id}", '[data-status="fixed"]')),
        Screen("case: a sitting fixed (mediator)", "mediator", at(f"/cases/{case_id}", '[data-status="fixed"]')),
    )
    r = await http.post(f"{sitting_path}/move", json={"starts_at": f"{today + timedelta(days=5)}T10:00"},
                        headers=bearer(mediator_token))
    assert r.status_code == 200, r.text
    await walk.screens(Screen("case: a sitting moved (claimant)", "claimant", at(f"/cases/{case_id}", '[data-status="fixed"]')))
    r = await http.post(f"{sitting_path}/cancel", headers=bearer(mediator_token))
    assert r.status_code == 200, r.text
    await walk.screens(
        Screen("case: the sitting cancelled (respondent)", "respondent", at(f"/cases/{case_id}", '#next-sitting[data-sitting=""]')),
        Screen("room: waiting (claimant)", "claimant", at(f"/cases/{case_id}/room", "#where"), alone=True),
        Screen("room: waiting (respondent)", "respondent", at(f"/cases/{case_id}/room", "#where"), alone=True),
        Screen("room: console before the start (mediator)", "mediator", at(f"/cases/{case_id}/room", "#session-start"), alone=True),
    )
    await mediator.locator("#session-start").click()
    admits = mediator.locator("[data-admit]")
    for who in ("claimant", "respondent"):
        await expect(admits.first).to_be_visible(timeout=WAIT)
        waiting = await admits.count()
        await admits.first.click()
        # The admitted person leaves the list before the next click: clicking again at once would
        # admit the same person twice and leave the other in the waiting room.
        await expect(admits).to_have_count(waiting - 1, timeout=WAIT)
    for who in ("claimant", "respondent"):
        await expect((await walk.page(who)).locator("#where")).to_have_attribute("data-location", "joint", timeout=WAIT)
    await walk.screens(
        Screen("room: joint (respondent)", "respondent", in_room(case_id, "joint"), alone=True),
        Screen("room: console, live (mediator)", "mediator", in_room(case_id, "joint", "#caucus-claimant"), alone=True),
    )
    await mediator.locator("#caucus-claimant").click()
    await expect(claimant.locator("#where")).to_have_attribute("data-location", "caucus:claimant", timeout=WAIT)
    await claimant.locator("#document-details summary").click()
    await claimant.locator("#document-file").set_input_files({"name": RECEIPT, "mimeType": "application/pdf",
                                                              "buffer": files.pdf("Receipt", pad=10_000)})
    await claimant.locator("#document-send").click()
    await expect(claimant.locator('#messages li[data-type="document"]')).to_contain_text(RECEIPT, timeout=WAIT)
    await walk.screens(
        Screen("room: caucus, a document shared (claimant)", "claimant",
               in_room(case_id, "caucus:claimant", '#messages li[data-type="document"]'), alone=True),
        Screen("room: alone in joint (respondent)", "respondent", in_room(case_id, "joint"), alone=True),
    )
    await mediator.locator("#caucus-claimant").click()
    await expect(claimant.locator("#where")).to_have_attribute("data-location", "joint", timeout=WAIT)
    # a proposal, accepted by both sides; the blind offers panel
    await claimant.locator("#proposal-details summary").click()
    await claimant.locator("#proposal-summary").fill("Оплата 400 000 тенге двумя частями")
    await claimant.locator("#proposal-terms").fill("200 000 тенге до 1 марта\n200 000 тенге до 1 апреля")
    await claimant.locator("#proposal-send").click()
    await respondent.locator("[data-accept]").first.click()
    await expect(respondent.locator("#messages .accepted")).to_have_count(1, timeout=WAIT)
    await walk.screens(
        Screen("room: a proposal accepted (respondent)", "respondent", in_room(case_id, "joint", "#messages .accepted"), alone=True),
        Screen("room: blind offers (claimant)", "claimant", in_room(case_id, "joint", "#offers"), alone=True),
    )
    # a blind-offers round: the claimant proposes, the respondent agrees; then both offer and they cross
    await claimant.locator("#offers-new").click()
    await claimant.locator("#offers-propose-send").click()
    await expect(respondent.locator("#offers-agree")).to_be_visible(timeout=WAIT)
    await respondent.locator("#offers-agree").click()
    await expect(claimant.locator("#offers-amount")).to_be_visible(timeout=WAIT)
    await walk.screens(
        Screen("room: a blind-offers round open (claimant)", "claimant", in_room(case_id, "joint", "#offers-amount"), alone=True),
        Screen("room: a blind-offers round open (mediator)", "mediator", in_room(case_id, "joint", "#offers-round"), alone=True),
    )
    for who, amount in (("claimant", "300000"), ("respondent", "400 000")):
        page = await walk.page(who)
        await page.locator("#offers-amount").fill(amount)
        await page.locator("#offers-submit").click()
    await expect(respondent.locator("#offers-figure")).to_be_visible(timeout=WAIT)
    await walk.screens(
        Screen("room: blind offers crossed (respondent)", "respondent", in_room(case_id, "joint", "#offers-figure"), alone=True),
    )

    # -- the agreement: drafting, signing, signed --------------------------------------------------------
    await mediator.goto(f"/cases/{case_id}")
    await expect(mediator.locator("#draft-agreement")).to_be_visible(timeout=WAIT)
    await walk.screens(
        Screen("case: draft the agreement (mediator)", "mediator", at(f"/cases/{case_id}", "#draft-agreement")),
        Screen("case: the agreements cannot be read (mediator)", "mediator", unreadable_agreements(case_id), alone=True),
    )
    await expect(mediator.locator("#draft-agreement")).to_have_count(0)  # no second draft beside an unseen one
    await mediator.unroute(AGREEMENTS_LIST)
    await mediator.goto(f"/cases/{case_id}")
    await mediator.locator("#agreement-language").select_option("ru")
    await mediator.locator("#draft-agreement").click()
    await expect(mediator.locator("#agreement-document")).to_be_visible(timeout=WAIT)
    agreement = mediator.url.split("/agreements/")[1]
    await expect(mediator.locator("#obligations input[name=deadline]").first).to_be_visible(timeout=WAIT)
    for deadline in await mediator.locator("#obligations input[name=deadline]").all():
        await deadline.fill("2031-04-01")
    await mediator.locator("#save-version").click()
    await expect(mediator.locator("#agreement-document ol li").first).to_contain_text("2031", timeout=WAIT)
    agreement_path = f"/cases/{case_id}/agreements/{agreement}"
    await walk.screens(Screen("agreement: draft (mediator)", "mediator", at(agreement_path, "#send-for-signature")))
    await mediator.goto(agreement_path)
    await mediator.locator("#send-for-signature").click()
    await expect(mediator.locator("#sign")).to_be_visible(timeout=WAIT)
    await respondent.goto(agreement_path)
    await respondent.locator("#comment-text").fill("Согласны, просим указать реквизиты")
    await respondent.locator(".field:has(#comment-text) + button").click()
    await expect(respondent.locator("#comments li")).to_have_count(1, timeout=WAIT)
    await walk.screens(
        Screen("agreement: to sign, commented (respondent)", "respondent", at(agreement_path, "#comments li")),
        Screen("case: the agreement to sign (claimant)", "claimant", at(f"/cases/{case_id}", f'a[href*="{agreement}"]')),
    )
    for who in ("claimant", "respondent", "mediator"):
        page = await walk.page(who)
        await page.goto(agreement_path)
        await page.locator("#sign-confirm").check()
        await page.locator("#sign").click()
        await expect(page.locator("#sign")).to_have_count(0, timeout=WAIT)
    await walk.screens(
        Screen("agreement: signed (claimant)", "claimant", at(agreement_path, "#download-pdf")),
        Screen("case: settled (respondent)", "respondent", at(f"/cases/{case_id}", '[data-status="settled"]')),
        Screen("notifications (claimant)", "claimant", at("/notifications", "#notification-list > li")),
        Screen("notifications (respondent)", "respondent", at("/notifications", "#notification-list > li")),
    )
    await claimant.goto(agreement_path)
    verify = await claimant.locator("#verify-link").get_attribute("href", timeout=WAIT)
    verify_path = "/" + verify.split("/", 3)[3] if verify.startswith("http") else verify
    await walk.screens(
        Screen("verify: issued", "visitor", at(verify_path, '#verify-answer[data-issued="true"]')),
        Screen("verify: unknown", "visitor", at("/verify/" + "0" * 64, '#verify-answer[data-issued="false"]')),
    )

    # -- coming back: "email me a link" ----------------------------------------------------------------------
    await walk.screens(
        Screen("sign-in: email me a link", "visitor", at("/sign-in", "#reach-send")),
        Screen("sign-in: bad address", "visitor", then(at("/sign-in", "#reach-send"),
                                                       bad_address("#reach-email", "#reach-send"), ".error-summary")),
        Screen("case: signed out, sign in (visitor)", "visitor", at(f"/cases/{case_id}", "#reach-from-case")),
    )
    visitor = await walk.page("visitor")
    for language in LANGUAGES:  # a new link replaces the last: one asked for and used per language
        mails = (await http.get("/notifications/mailbox.json")).json()["items"]
        before = sum(m["to"] == CLAIMANT_EMAIL and "/sign-in/" in m["text"] for m in mails)
        await walk.language(visitor, language)
        await then(at("/sign-in", "#reach-send"), address(CLAIMANT_EMAIL), "#reach-check")(visitor)
        await walk.read(visitor, "sign-in: check your email", language)
        path, _ = await mailbox_link(odr, CLAIMANT_EMAIL, "/sign-in", count=before + 1)
        await visitor.goto(path)
        await expect(visitor.locator(f'a[href="/cases/{case_id}"]')).to_be_visible(timeout=WAIT)
        await walk.read(visitor, "sign-in: your cases", language)
        await visitor.goto(path)  # the same link again: used
        await expect(visitor.locator("main p[role=alert]")).to_be_visible(timeout=WAIT)
        await walk.read(visitor, "sign-in: a used link", language)

    # -- a court clerk ---------------------------------------------------------------------------------------
    creds, referral = await court_with_a_referral(http)
    await walk.screens(Screen("court: sign in", "court", at("/court", "input[name=client_id]")))
    court = await walk.page("court")
    await court.locator("input[name=client_id]").fill(creds["client_id"])
    await court.locator("input[name=client_secret]").fill(creds["client_secret"])
    await court.locator("form button[type=submit]").click()
    await expect(court.locator("input[name=client_secret]")).to_have_count(0, timeout=WAIT)

    async def court_table(page: Page) -> None:
        async def listed():
            await page.goto("/court")
            await expect(page.locator("main h1")).to_be_visible(timeout=WAIT)
            return await page.locator("table.court tbody tr").count()
        await eventually(listed, timeout=120, interval=0.5, message="the court's referral on its page")

    await walk.screens(Screen("court: its cases", "court", court_table))
    court_token = await settle_referral(http, creds, referral)

    async def court_events(page: Page) -> None:  # signed, then approved by the court
        async def listed():
            await page.goto("/court")
            await expect(page.locator("main h1")).to_be_visible(timeout=WAIT)
            return await page.locator("table.court tbody td div").count() >= 2
        await eventually(listed, timeout=120, interval=0.5, message="the referral's agreement signed and approved")

    await walk.screens(Screen("court: its case settled and approved", "court", court_events))
    assert court_token
    await http.aclose()

    took = time.monotonic() - started
    (artifacts / "walk.txt").write_text(f"{len(walk.walked)} screens read in {took:.0f} s\n" + "\n".join(walk.walked) + "\n")
    print(f"walked {len(walk.walked)} screens in {took:.0f} s")
    assert not walk.found, "Not in the reader's language:\n" + "\n".join(
        f"- {screen}:\n    " + "\n    ".join(bad) for screen, bad in walk.found.items())
    assert not walk.errors, walk.errors


def bad_address(field_selector: str, submit: str):
    async def act(page: Page) -> None:
        await page.locator(field_selector).fill("maria@mail")
        await page.locator(submit).click()
    return act


def address(email: str):
    async def act(page: Page) -> None:
        await page.locator("#reach-email").fill(email)
        await page.locator("#reach-send").click()
    return act


def consent_with(email: str):
    async def act(page: Page) -> None:
        await page.locator("#invitee-email").fill(email)
        await page.locator("#consent-agree").check()
        await page.locator("#consent-give").click()
    return act


def sign_in(username: str, password: str):
    async def act(page: Page) -> None:
        await page.locator("input[name=username]").fill(username)
        await page.locator("input[name=password]").fill(password)
        await page.locator("form button[type=submit]").click()
    return act


def in_room(case_id: str, location: str, ready: str = "#where"):
    """The room, once this person is where the mediator put them."""
    async def reach(page: Page) -> None:
        await page.goto(f"/cases/{case_id}/room")
        await expect(page.locator("#where")).to_have_attribute("data-location", location, timeout=WAIT)
        await expect(page.locator(ready).first).to_be_visible(timeout=WAIT)
    return reach


async def court_with_a_referral(http: httpx.AsyncClient) -> dict:
    """A court's client credentials, and one case it referred (through the court API)."""
    admin = (await http.post("/intake/dev/token", json={"subject": "admin-walk", "role": "admin"})).json()["access_token"]
    creds = (await http.post("/intake/admin/court-clients", headers={"Authorization": f"Bearer {admin}"},
                             json={"court_id": f"court-{uuid.uuid4().hex[:8]}", "name": "Almaty civil court"})).json()
    token = (await http.post("/intake/auth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                                                         "client_secret": creds["client_secret"]})).json()["access_token"]
    r = await http.post("/intake/court/v1/referrals", headers={"Authorization": f"Bearer {token}"},
                        json={"jurisdiction": "KZ", "category": "civil", "description": "Неоплаченный счёт",
                              "docket_number": "2-77/2026", "parties": parties()})
    assert r.status_code == 201, r.text
    return creds, r.json()


async def settle_referral(http: httpx.AsyncClient, creds: dict, referral: dict) -> str:
    """The referred case through to an agreement everyone signed, which the court then approves
    (through the APIs: the browser's part of this is walked on the main case)."""
    case_id = referral["id"]

    async def token(**body) -> dict:
        r = await http.post("/intake/dev/token", json={"cases": [case_id], **body})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    mediator = await token(subject="mediator-walk-court", role="mediator")
    signers = [await token(subject=f"{side}:{case_id}", role="party", party_side=side) for side in ("claimant", "respondent")]

    async def drafted():
        r = await http.post("/agreements/agreements", headers=mediator,
                            json={"case_id": case_id, "language": "ru", "content": complete_content()})
        return r.json() if r.status_code == 201 else None

    draft = await eventually(drafted, timeout=120, message="agreements learned of the referral and took a draft")
    r = await http.post(f"/agreements/agreements/{draft['id']}/signature-request", json={"version": 1}, headers=mediator)
    assert r.status_code == 200, r.text
    for who in (*signers, mediator):
        r = await http.post(f"/agreements/agreements/{draft['id']}/signatures", headers=who,
                            json={"version": 1, "document_hash": draft["document_hash"]})
        assert r.status_code == 200, r.text
    court_token = (await http.post("/intake/auth/token", data={
        "grant_type": "client_credentials", "client_id": creds["client_id"],
        "client_secret": creds["client_secret"]})).json()["access_token"]
    court = {"Authorization": f"Bearer {court_token}"}

    async def acknowledged():  # the court's copy is there once agreements has sealed it
        r = await http.post(f"/agreements/court/v1/agreements/{draft['id']}/acknowledgement", headers=court)
        return r.status_code == 200

    await eventually(acknowledged, timeout=120, message="the court acknowledges the signed agreement")

    async def approved():
        r = await http.post(f"/agreements/court/v1/agreements/{draft['id']}/decision", headers=court,
                            json={"decision": "approved", "reference": referral.get("docket_number") or "2-77/2026"})
        return r.status_code == 200

    await eventually(approved, timeout=120, message="the court approves the signed agreement")
    return court_token


AGREEMENTS_LIST = "**/agreements/agreements?*"


def unreadable_agreements(case_id: str):
    """The case page while the agreements service answers the list with an error."""
    async def reach(page: Page) -> None:
        async def fail(route):
            await route.fulfill(status=503, content_type="application/problem+json",
                                body='{"type":"about:blank","title":"Service Unavailable","status":503}')
        await page.unroute(AGREEMENTS_LIST)
        await page.route(AGREEMENTS_LIST, fail)  # until the walk lifts it (a notice may draw the page again)
        await page.goto(f"/cases/{case_id}")
        await expect(page.locator("#agreements-problem")).to_be_visible(timeout=WAIT)
    return reach
