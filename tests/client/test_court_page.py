"""The court's read-only page: a clerk signs in with the court's client credentials and sees the
cases that court referred, and nothing of another court's."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.services.intake.conftest import parties


async def _court(http: httpx.AsyncClient, admin: dict, court_id: str) -> tuple[dict, dict]:
    creds = (await http.post("/intake/admin/court-clients", headers=admin,
                             json={"court_id": court_id, "name": f"{court_id} court"})).json()
    token = (await http.post("/intake/auth/token", data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                                                         "client_secret": creds["client_secret"]})).json()["access_token"]
    return creds, {"Authorization": f"Bearer {token}"}


async def test_a_court_sees_the_cases_it_referred(odr, browser, artifacts):
    async with httpx.AsyncClient(base_url=odr) as http:
        admin_token = (await http.post("/intake/dev/token", json={"subject": "admin-1", "role": "admin"})).json()["access_token"]
        admin = {"Authorization": f"Bearer {admin_token}"}
        creds, court = await _court(http, admin, "almaty-civil")
        _, other = await _court(http, admin, "astana-civil")
        referral = {"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice", "parties": parties()}
        ours = (await http.post("/intake/court/v1/referrals", headers=court, json={**referral, "docket_number": "2-77/2026"})).json()
        theirs = (await http.post("/intake/court/v1/referrals", headers=other, json={**referral, "docket_number": "2-1/2026"})).json()

    context = await browser.new_context(base_url=odr, locale="en-GB", viewport={"width": 1024, "height": 768})
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto("/court")
    await page.locator("input[name=client_id]").fill(creds["client_id"])
    await page.locator("input[name=client_secret]").fill(creds["client_secret"])
    await page.locator("form button[type=submit]").click()
    # signed in once the form is gone (a reload before that would cancel the sign-in request)
    await expect(page.locator("input[name=client_secret]")).to_have_count(0, timeout=30_000)
    table = page.locator("table.court")
    for _ in range(50):  # the agreements service learns of referrals from intake's events
        if await table.count() and ours["reference"] in await table.inner_text():
            break
        await page.wait_for_timeout(500)
        await page.reload()
        await page.wait_for_load_state("networkidle")
    # the court reads the case's reference, not its id
    await expect(table).to_contain_text(ours["reference"])
    assert ours["id"][:8] not in await table.inner_text()
    assert theirs["reference"] not in await table.inner_text()
    await page.screenshot(path=artifacts / "court.png", full_page=True)
    assert not errors, errors
