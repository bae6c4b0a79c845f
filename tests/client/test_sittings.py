"""A sitting scheduled around a party's unavailable date, in two browsers on the embedded run: the
mediator (desktop, English) proposes two times; the respondent, on a phone in Russian, lists the
first day as one they cannot attend and answers per time; the mediator sees who can come when, is
refused the first time and fixes the second; both case pages then show the next sitting in Almaty
time, formatted for the language, the room's waiting room says when it starts, and the
respondent's feed has the invitation in Russian.
Screenshots of each step are kept in test-artifacts/browser/."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import expect

from tests.client.rooms import open_room

pytestmark = pytest.mark.timeout(300)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WAIT = 30_000


async def test_a_sitting_is_agreed_around_a_partys_unavailable_date(odr, browser, artifacts):
    case_id, people = await open_room(odr)
    today = datetime.now(ZoneInfo("Asia/Almaty")).date()
    day_off, day_on = today + timedelta(days=3), today + timedelta(days=4)
    pages, errors = {}, {}
    for role, viewport, locale in (("mediator", DESKTOP, "en-GB"), ("respondent", PHONE, "ru-RU")):
        context = await browser.new_context(base_url=odr, viewport=viewport, locale=locale,
                                            is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
        page = await context.new_page()
        errors[role] = []
        page.on("pageerror", lambda e, role=role: errors[role].append(str(e)))
        await page.goto("/")
        await page.evaluate("([key, value]) => localStorage.setItem(key, value)",
                            ["odr.identities", json.dumps(people[role].identity(case_id))])
        await page.goto(f"/cases/{case_id}")
        pages[role] = page
    m, r = pages["mediator"], pages["respondent"]
    steps = []

    async def shot(role: str, step: str) -> None:
        steps.append(step)
        await pages[role].screenshot(path=artifacts / f"{len(steps):02d}-{role}-{step}.png", full_page=True)

    # The mediator proposes two times (wall-clock, Almaty).
    await expect(m.locator("#next-sitting")).to_have_text("No sitting is fixed yet.", timeout=WAIT)
    await m.locator("#slot-1").fill(f"{day_off.isoformat()}T10:00")
    await m.locator("#slot-add").click()
    await m.locator("#slot-2").fill(f"{day_on.isoformat()}T15:00")
    await shot("mediator", "proposing")
    await m.locator("#sitting-propose").click()
    await expect(m.locator('#sittings li[data-status="proposed"] [data-slot]')).to_have_count(2, timeout=WAIT)

    # The respondent (phone, Russian) cannot attend on the first day, and answers per time.
    await r.reload()
    await expect(r.locator("#unavailable-date")).to_be_visible(timeout=WAIT)
    await r.locator("#unavailable-date").fill(day_off.isoformat())
    await r.locator("#unavailable-add").click()
    await expect(r.locator(f'#unavailable-dates li[data-date="{day_off.isoformat()}"]')).to_be_visible(timeout=WAIT)
    fieldsets = r.locator("form.answer fieldset")
    await expect(fieldsets).to_have_count(2)
    await expect(fieldsets.nth(1).locator("legend")).to_contain_text("15:00")
    await expect(fieldsets.nth(1).locator("legend")).to_contain_text("время Алматы")
    await fieldsets.nth(0).get_by_label("Не смогу").check()
    await fieldsets.nth(1).get_by_label("Смогу участвовать").check()
    await shot("respondent", "answering")
    await r.locator("form.answer button[type=submit]").click()
    await expect(r.locator("form.answer fieldset").nth(1).get_by_label("Смогу участвовать")).to_be_checked(timeout=WAIT)
    await shot("respondent", "answered")

    # The mediator sees who can come when; the day off is refused, the other time is fixed.
    await m.reload()
    slots = m.locator('#sittings li[data-status="proposed"] [data-slot]')
    await expect(slots.nth(0).locator('[data-side="respondent"]')).to_have_attribute("data-availability", "day_off",
                                                                                      timeout=WAIT)
    await expect(slots.nth(1).locator('[data-side="respondent"]')).to_have_attribute("data-availability", "available")
    await shot("mediator", "availability")
    await slots.nth(0).locator("button[data-fix]").click()
    await expect(m.locator(".problem")).to_contain_text("Respondent cannot attend on", timeout=WAIT)
    await slots.nth(1).locator("button[data-fix]").click()
    await expect(m.locator("#next-sitting")).to_contain_text("15:00", timeout=WAIT)
    await expect(m.locator("#next-sitting")).to_contain_text("Almaty time")
    await shot("mediator", "fixed")

    # The respondent's case page shows it, in Russian, never as an ISO timestamp.
    await r.reload()
    nxt = r.locator("#next-sitting")
    await expect(nxt).to_contain_text("Следующая встреча", timeout=WAIT)
    await expect(nxt).to_contain_text("15:00")
    await expect(nxt).to_contain_text("время Алматы")
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", await nxt.inner_text())
    await shot("respondent", "next-sitting")

    # In the room, the waiting room says when the sitting starts.
    await r.goto(f"/cases/{case_id}/room")
    await expect(r.locator("#next-sitting")).to_contain_text("15:00", timeout=WAIT)
    await expect(r.locator("#where")).to_contain_text("Зал ожидания — встреча начнётся", timeout=WAIT)
    await expect(r.locator("#where")).to_contain_text("15:00 (время Алматы)")
    await shot("respondent", "waiting-room")

    # The respondent's notices carry the invitation in Russian.
    async with httpx.AsyncClient(base_url=odr) as http:
        async def fixed_notice():
            feed = await http.get("/notifications/feed",
                                  headers={"Authorization": f"Bearer {people['respondent'].token}"})
            return [i for i in feed.json()["items"] if i["kind"] == "sitting_fixed"]

        deadline = datetime.now() + timedelta(seconds=60)
        while not (items := await fixed_notice()) and datetime.now() < deadline:
            await r.wait_for_timeout(500)
        assert items and items[0]["title"].startswith("Встреча по медиации")
    assert errors == {"mediator": [], "respondent": []}
