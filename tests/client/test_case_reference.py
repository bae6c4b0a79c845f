"""People read a case's reference (KZ-2026-000123), never its internal id: on the case page (a
phone, in Russian, after the page has settled and after a reload) and in the list of their cases
on the start page."""

from __future__ import annotations

import asyncio
import base64
import json
import re

import httpx
from playwright.async_api import expect

from tests.services.intake.conftest import parties

REFERENCE = re.compile(r"KZ-\d{4}-\d{6}")


def _subject(token: str) -> str:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["sub"]


async def test_the_case_page_shows_the_reference_and_no_id(odr, browser, artifacts):
    async with httpx.AsyncClient(base_url=odr, timeout=30) as http:
        r = await http.post("/intake/cases", json={"jurisdiction": "KZ", "category": "civil",
                                                   "description": "Unpaid invoice", "parties": parties()})
        assert r.status_code == 201, r.text
        filed = r.json()
    case_id, reference, token = filed["case"]["id"], filed["case"]["reference"], filed["access_token"]
    assert REFERENCE.fullmatch(reference)

    context = await browser.new_context(base_url=odr, locale="ru-RU", viewport={"width": 390, "height": 844},
                                        is_mobile=True, has_touch=True)
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto("/")
    await page.evaluate("([key, value]) => localStorage.setItem(key, value)", [
        "odr.identities", json.dumps({f"case:{case_id}": {"token": token, "role": "party", "subject": _subject(token),
                                                          "side": "claimant"}})])
    await page.goto(f"/cases/{case_id}")
    heading = page.locator("h1")
    await expect(heading).to_contain_text(reference, timeout=30_000)
    await page.wait_for_timeout(2000)  # what a person reads once the page has settled (notices re-render it)
    await expect(heading).to_contain_text(f"Дело № {reference}")
    text = await page.locator("main").inner_text() if await page.locator("main").count() else await page.inner_text("body")
    assert case_id not in text and case_id[:8] not in text, text
    await page.screenshot(path=artifacts / "case-ru-phone.png", full_page=True)

    await page.reload()
    await expect(heading).to_contain_text(reference, timeout=30_000)

    await page.goto("/")
    await expect(page.get_by_role("link", name=re.compile(re.escape(reference)))).to_be_visible(timeout=30_000)
    assert case_id[:8] not in await page.inner_text("body")
    await page.screenshot(path=artifacts / "home-ru-phone.png", full_page=True)
    await context.close()
    assert not errors, errors


async def test_emails_from_the_dev_run_lead_to_its_own_port_and_name_the_reference(odr):
    """`odr dev --port N`: the links in emails start with http://127.0.0.1:N (whatever N is), and
    the email names the case by its reference."""
    async with httpx.AsyncClient(base_url=odr, timeout=30) as http:
        filed = (await http.post("/intake/cases", json={"jurisdiction": "KZ", "category": "civil",
                                                        "description": "Unpaid invoice", "parties": parties()})).json()
        case_id, reference, token = filed["case"]["id"], filed["case"]["reference"], filed["access_token"]
        claimant = {"Authorization": f"Bearer {token}"}
        for _ in range(150):  # notifications learns of the filer from intake's event
            r = await http.put(f"/notifications/contacts/{_subject(token)}", json={"email": "aigerim@example.kz"},
                               headers=claimant)
            if r.status_code == 200:
                break
            await asyncio.sleep(0.2)
        assert r.status_code == 200, r.text
        assert (await http.post(f"/intake/cases/{case_id}/invitations", json={"side": "respondent"},
                                headers=claimant)).status_code == 201
        for _ in range(300):  # "the other party was invited" reaches the claimant by email
            mails = [m for m in (await http.get("/notifications/mailbox.json")).json()["items"]
                     if m["to"] == "aigerim@example.kz"]
            if mails:
                break
            await asyncio.sleep(0.2)
        assert mails, "no email to the claimant"
    mail = mails[0]
    assert reference in mail["subject"] and reference in mail["text"]
    assert f"{odr}/cases/{case_id}" in mail["text"]
    assert "127.0.0.1:8000" not in mail["text"] or odr.endswith(":8000")
