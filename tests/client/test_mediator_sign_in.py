"""A mediator turns on two-step sign-in from the desk and is shown recovery codes; the next sign-in
asks for the code, and a recovery code stands in for it once. Once on, the desk says so (not "turn
on" again), counts the recovery codes left, and a wrong code to turn it off is told as such."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pyotp
import zxingcpp
from PIL import Image
from playwright.async_api import expect

from .test_mediation_in_the_browser import PASSWORD, register_mediator


async def test_two_step_sign_in_from_the_mediator_desk(odr, browser, artifacts):
    username, _ = await register_mediator(odr)
    page = await (await browser.new_context(base_url=odr, locale="en-GB")).new_page()

    async def sign_in():
        await page.locator("input[name=username]").fill(username)
        await page.locator("input[name=password]").fill(PASSWORD)
        await page.locator("form button[type=submit]").click()

    await page.goto("/mediator")
    await sign_in()
    await page.locator("#totp-start").click()
    secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")  # shown in groups of four
    # The QR code on the screen, as a phone's camera sees it, holds the app's otpauth:// address.
    scanned = zxingcpp.read_barcodes(Image.open(io.BytesIO(await page.locator("#totp-qr").screenshot())))
    assert [b.text for b in scanned] == [await page.locator("#totp-app-link").get_attribute("href")]
    assert f"secret={secret}" in scanned[0].text
    await page.locator("#totp-confirm-code").fill(pyotp.TOTP(secret).now())
    await page.locator("#totp-confirm").click()
    await expect(page.locator("#totp-confirm")).to_have_count(0)
    recovery = page.locator("#totp-recovery-codes li")
    await expect(recovery).to_have_count(10)  # shown this once
    recovery_code = (await recovery.first.inner_text()).strip()
    await page.screenshot(path=artifacts / "totp-on.png", full_page=True)

    await page.evaluate("localStorage.removeItem('odr.identities')")
    await page.reload()
    await sign_in()
    code = page.locator("input[name=totp_code]")
    await expect(code).to_be_visible()  # the password alone is not enough any more
    await code.fill(pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=30)))
    await page.locator("form button[type=submit]").click()
    status = page.locator("#totp-status")
    await expect(status).to_contain_text("Two-step sign-in is on")  # the desk, which knows it is on
    await expect(page.locator("#totp-start")).to_have_count(0)
    await expect(page.locator("#totp-area")).to_contain_text("Unused recovery codes: 10")
    await page.screenshot(path=artifacts / "signed-in-with-code.png", full_page=True)

    # The app is lost: a recovery code signs in instead, once.
    await page.evaluate("localStorage.removeItem('odr.identities')")
    await page.reload()
    await sign_in()
    await expect(code).to_be_visible()
    await code.fill(recovery_code)
    await page.locator("form button[type=submit]").click()
    await expect(status).to_contain_text("Two-step sign-in is on")
    await expect(page.locator("#totp-area")).to_contain_text("Unused recovery codes: 9")

    # Turning it off takes a current code: a wrong one is told as a wrong code, and it stays on.
    await page.locator("#totp-manage-code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    await page.locator("#totp-off").click()
    await expect(page.locator(".problem:visible")).to_contain_text("code is not right")
    await expect(status).to_contain_text("Two-step sign-in is on")
    await page.screenshot(path=artifacts / "wrong-code-to-turn-off.png", full_page=True)
