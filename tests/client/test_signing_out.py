"""Signing out from the mediator desk ends the token on the server, not only in this browser: a
copy of it (another tab, a stolen one) is refused afterwards."""

from __future__ import annotations

import json

import httpx
from playwright.async_api import expect

from .test_mediation_in_the_browser import PASSWORD, register_mediator


async def test_sign_out_from_the_desk_revokes_the_token(odr, browser):
    username, _ = await register_mediator(odr)
    page = await (await browser.new_context(base_url=odr, locale="en-GB")).new_page()
    await page.goto("/mediator")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()
    await expect(page.locator("#totp-start")).to_be_visible()  # the desk
    identities = json.loads(await page.evaluate("localStorage.getItem('odr.identities')"))
    token = identities["mediator"]["token"]
    async with httpx.AsyncClient(base_url=odr) as http:
        auth = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/intake/mediator/proposals", headers=auth)).status_code == 200
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.locator("input[name=username]")).to_be_visible()
        assert (await http.get("/intake/mediator/proposals", headers=auth)).status_code == 401
