"""Two parties settle a money term by blind offers in the browser (issue 16): the mediator proposes
the process, both sides agree, the first round misses, the second crosses, both confirm the figure
and it is an accepted proposal in the room. The mediator's screen never shows an amount, and
neither party's screen shows the other's. Screenshots in test-artifacts/browser/."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.client.rooms import Person, enter, open_room

pytestmark = pytest.mark.timeout(420)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class Window:
    def __init__(self, person: Person, page: Page, artifacts, steps: list) -> None:
        self.person, self.page, self.artifacts, self.steps = person, page, artifacts, steps
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def shot(self, step: str) -> None:
        self.steps.append(step)
        await self.page.screenshot(path=self.artifacts / f"{len(self.steps):02d}-{self.person.role}-{step}.png",
                                   full_page=True)

    async def card_in_view(self, step: str) -> None:
        """The offers card as the person sees it, scrolled to the bottom of the window (where a toast
        would sit): nothing covers it, and a screen reader was told of the change from the card."""
        self.steps.append(step)
        await self.page.locator("#offers").evaluate("card => card.scrollIntoView({block: 'end'})")
        await self.page.screenshot(path=self.artifacts / f"{len(self.steps):02d}-{self.person.role}-{step}.png")
        covered = await self.page.evaluate("""() => {
          const card = document.getElementById("offers").getBoundingClientRect();
          return [...document.querySelectorAll(".toast.visible")].map((el) => el.getBoundingClientRect())
            .some((r) => r.left < card.right && r.right > card.left && r.top < card.bottom && r.bottom > card.top);
        }""")
        assert not covered, f"{self.person.role}: a toast covers the offers card"
        await expect(self.page.locator("#offers-announce")).not_to_be_empty()

    async def status(self, status: str) -> None:
        await expect(self.page.locator(f'#offers-status[data-status="{status}"]')).to_be_visible(timeout=20_000)

    async def offer(self, amount: str, round_: int) -> None:
        await expect(self.page.locator(f'#offers-round[data-round="{round_}"]')).to_be_visible(timeout=20_000)
        await self.page.locator("#offers-amount").fill(amount)
        await self.page.locator("#offers-submit").click()
        # sealed and waiting for the other side, or (the second offer) the round is resolved
        done = (self.page.locator("#offers-sealed").or_(self.page.locator(f'#offers-round:not([data-round="{round_}"])'))
                .or_(self.page.locator('#offers-status:not([data-status="open"])')))
        await expect(done.first).to_be_visible(timeout=20_000)

    async def digits(self) -> str:
        """The page's text without spaces (amounts are grouped with narrow spaces in ru and kk)."""
        return re.sub(r"\s", "", await self.page.locator("#main").inner_text())


async def test_two_parties_settle_a_money_term_by_blind_offers(odr, browser, artifacts):
    case_id, people = await open_room(odr)
    steps: list[str] = []
    w: dict[str, Window] = {}
    for role, viewport, locale in (("claimant", DESKTOP, "kk-KZ"), ("respondent", PHONE, "ru-RU"),
                                   ("mediator", DESKTOP, "en-GB")):
        context = await browser.new_context(base_url=odr, viewport=viewport, locale=locale,
                                            is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
        w[role] = Window(people[role], await context.new_page(), artifacts, steps)
    for who in w.values():
        await enter(who.page, case_id, who.person)
    c, r, m = w["claimant"], w["respondent"], w["mediator"]
    await m.page.locator("#session-start").click()
    for role in ("claimant", "respondent"):
        await m.page.locator(f'[data-admit="{people[role].id}"]').click()
    for who in w.values():
        await expect(who.page.locator("#where")).to_have_attribute("data-location", "joint", timeout=20_000)

    # the mediator proposes blind offers; both sides agree to the terms
    await m.page.locator("#offers-new").click()
    await m.page.locator("#offers-rounds").fill("3")
    await m.page.locator("#offers-propose-send").click()
    for who in (c, r):
        await who.status("proposed")
        await who.page.locator("#offers-agree").click()
    await m.status("open")
    await c.shot("offers-open")

    # round 1 misses; round 2 crosses
    await c.offer("200000", 1)
    await c.shot("offer-sealed")
    await r.offer("120000", 1)
    await c.offer("150000,01", 2)
    await r.offer("160000.03", 2)
    for who in (c, r):
        await who.status("crossed")
        await expect(who.page.locator("#offers-figure")).to_contain_text("155", timeout=20_000)
    await m.status("crossed")
    await expect(m.page.locator("#offers-figure")).to_have_count(0)
    await r.shot("crossed")
    await m.shot("crossed")
    await r.card_in_view("crossed-phone-window")
    await m.card_in_view("crossed-console-window")

    for amount in ("155000", "150000", "160000", "200000", "120000"):
        assert amount not in await m.digits()
    for amount in ("200000", "150000"):
        assert amount not in await r.digits()
    for amount in ("120000", "160000"):
        assert amount not in await c.digits()

    # both confirm: it is an accepted proposal in the room
    for who in (c, r):
        await who.page.locator("#offers-confirm").click()
    for who in w.values():
        await who.status("settled")
    for who in (c, r):
        await expect(who.page.locator('#messages [data-type="proposal.accepted"]')).to_have_count(1, timeout=20_000)
    await c.shot("settled")
    await m.shot("settled")
    assert "155000" not in await m.digits()
    for who in w.values():
        assert not who.errors, (who.person.role, who.errors)
