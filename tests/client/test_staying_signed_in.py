"""Tokens last minutes, mediations last longer: the client trades a token about to expire for a
fresh one with the same scope and sign-in time, and the person stays signed in."""

from __future__ import annotations

import base64
import json

import pytest
from playwright.async_api import expect

from tests.client.filing import file_through_pages

IDENTITIES = "JSON.parse(localStorage.getItem('odr.identities'))"


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.odr_env({"ODR_ACCESS_TOKEN_TTL_SECONDS": "120"})  # under the client's 3-minute margin
async def test_a_token_about_to_expire_is_refreshed_in_place(odr, browser):
    context = await browser.new_context(base_url=odr, locale="en-GB")
    page = await context.new_page()
    case_id = await file_through_pages(page, description="Unpaid rent", claimant_name="Aigerim",
                                       respondent_name="Dala Trade LLP", respondent_language="ru")
    first = (await page.evaluate(IDENTITIES))[f"case:{case_id}"]["token"]

    await page.evaluate("window.odr.identity.keepFresh()")
    second = (await page.evaluate(IDENTITIES))[f"case:{case_id}"]["token"]
    assert second != first
    old, new = _claims(first), _claims(second)
    assert (new["sub"], new["cases"], new["side"], new["auth_time"]) == (old["sub"], old["cases"], old["side"], old["auth_time"])
    assert new["jti"] != old["jti"]
    await page.reload()
    await expect(page.locator('[data-status="filed"]')).to_be_visible()  # the fresh token works
