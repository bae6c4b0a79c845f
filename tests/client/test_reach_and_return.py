"""Reach and return in the browser, on phones: the claimant has the platform email the invitation
("send it for me") in the respondent's language; the respondent opens it from the mailbox and,
opening the same link again later, lands on the case; the next day the claimant, on another
device with nothing remembered, asks "email me a link", opens it from the mailbox and reaches the
case. Screens are read after they settle; screenshots in test-artifacts/browser/<test>/."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from tests.client.filing import file_through_pages
from tests.client.test_party_journeys import SETTLE, person
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(420)

MARIA = "maria.ivanova@example.kz"
DALA = "director@dala.kz"


async def mailbox_link(odr: str, to: str, path: str, *, count: int = 1) -> tuple[str, dict]:
    """The ``count``-th email to ``to`` in the embedded run's mailbox with a ``path`` link
    (``/sign-in/...``, ``/invitations/...``), and that link's path: what a person clicks, opened
    on this platform."""
    pattern = re.compile(rf"https?://[^/\s]+({re.escape(path)}/[A-Za-z0-9_-]+)")

    async def arrived():
        async with httpx.AsyncClient(base_url=odr) as client:
            items = (await client.get("/notifications/mailbox.json")).json()["items"]
        mine = [m for m in items if m["to"] == to and pattern.search(m["text"])]
        return len(mine) >= count and mine[count - 1]

    mail = await eventually(arrived, timeout=90, interval=0.5, message=f"an email to {to} with a {path} link")
    return pattern.search(mail["text"]).group(1), mail


async def file_with_email(p, email: str) -> str:
    """The claimant files page by page with their email address; returns the case id."""
    return await file_through_pages(p.page, description="Не оплачены поставки за март", claimant_name="Мария Иванова",
                                    claimant_email=email, respondent_name="ТОО Дала Трейд", respondent_language="kk")


async def test_invitation_sent_for_me_and_coming_back_the_next_day_on_another_phone(odr, browser, artifacts):
    # -- the claimant, on her phone in Russian, files and has the platform send the invitation
    claimant = await person(browser, odr, artifacts, "claimant")
    page = claimant.page
    case_id = await file_with_email(claimant, MARIA)
    await page.locator("#invite").click()
    link = page.locator("#invitation-link")
    await expect(link).to_be_visible(timeout=SETTLE)
    on_screen = await link.input_value()
    await expect(page.locator('[data-status="awaiting_consent"]')).to_be_visible(timeout=SETTLE)
    await page.wait_for_timeout(2000)  # not synchronisation: the page settles as a person reads it
    await expect(page.locator("#invite-language")).to_have_value("kk")  # the respondent's language, from the filing
    await page.locator("#invite-email").fill("director@dala")
    await page.locator("#invite-send").click()
    await expect(page.locator('.has-error:has(#invite-email) .error-message')).to_be_visible(timeout=SETTLE)
    await claimant.shot("send-for-me-bad-address")
    await page.locator("#invite-email").fill(DALA)
    await page.locator("#invite-send").click()
    await expect(page.locator("#invite-sent")).to_contain_text("d***@dala.kz", timeout=SETTLE)
    await page.wait_for_timeout(2000)
    await expect(page.locator("#invite-sent")).to_contain_text("Приглашение отправлено")
    await expect(link).to_have_value(on_screen)  # the link given stays the one that works
    await claimant.shot("invitation-sent-for-me")
    assert await claimant.latin_words("#invite-card") == [], "no English on a Russian screen"
    assert await claimant.audit() == []

    # -- the respondent, on a phone in Kazakh, opens it from the mailbox and consents
    invitation_path, mail = await mailbox_link(odr, DALA, "/invitations")
    assert mail["language"] == "kk" and invitation_path == "/invitations/" + on_screen.rsplit("/", 1)[-1]
    respondent = await person(browser, odr, artifacts, "respondent", locale="kk-KZ")
    r = respondent.page
    await r.goto(invitation_path)
    await r.locator("#consent-agree").check()
    await r.locator("#consent-give").click()
    await expect(r.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)
    await respondent.shot("consented")
    # ... and opening the same email's link again later leads to the case, not a dead end
    await r.goto("/")
    await r.goto(invitation_path)
    await expect(r).to_have_url(re.compile(rf"/cases/{case_id}$"), timeout=SETTLE)
    await expect(r.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)
    await respondent.shot("invitation-again-leads-to-the-case")

    # -- the next day, on another phone: nothing in this browser, only her address
    await claimant.context.close()
    later = await person(browser, odr, artifacts, "claimant-next-day")
    p = later.page
    await p.goto("/")
    await p.locator("#reach-start").click()
    await expect(p.locator("#reach-email")).to_be_visible(timeout=SETTLE)
    await later.shot("email-me-a-link")
    assert await later.audit() == []
    assert await later.latin_words() == []
    await p.locator("#reach-email").fill(MARIA)
    await p.locator("#reach-send").click()
    await expect(p.locator("#reach-check")).to_be_visible(timeout=SETTLE)
    await expect(p.locator("main")).to_contain_text("Проверьте почту")
    await later.shot("check-your-email")
    assert await later.latin_words() == []
    assert await later.audit() == []

    sign_in_path, mail = await mailbox_link(odr, MARIA, "/sign-in")
    assert mail["language"] == "ru" and mail["subject"] == "Ваша ссылка для входа"
    await p.goto(sign_in_path)
    entry = p.locator(f'#reach-cases li[data-case="{case_id}"]')
    await expect(entry).to_be_visible(timeout=SETTLE)
    await expect(p).to_have_url(re.compile(r"/sign-in/done$"))  # the used link is not in the address bar
    await p.wait_for_timeout(1500)
    await expect(entry.locator("a")).to_have_text(re.compile(r"^Дело № KZ-\d{4}-\d{6}$"))  # named by its reference
    await later.shot("signed-in-cases")
    assert await later.latin_words() == []
    await entry.locator("a").click()
    await expect(p.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)
    await later.shot("case-reached")
    # a reload keeps her in (the token is remembered in this browser now)
    await p.reload()
    await expect(p.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)

    # the same link a second time: told plainly, in Russian, and offered a new one
    await p.goto(sign_in_path)
    await expect(p.get_by_role("alert")).to_contain_text("Эту ссылку для входа уже нельзя использовать", timeout=SETTLE)
    await later.shot("used-link")
    assert await later.latin_words() == []

    # an unknown address gets the very same screen
    await p.goto("/sign-in")
    await p.locator("#reach-email").fill("nobody@example.kz")
    await p.locator("#reach-send").click()
    await expect(p.locator("#reach-check")).to_be_visible(timeout=SETTLE)
    assert claimant.errors == [] and respondent.errors == [] and later.errors == []
