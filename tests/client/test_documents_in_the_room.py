"""Documents in three browsers on the embedded run (the claimant in Kazakh, the respondent on a
phone in Russian, the mediator in English): the claimant shares a receipt in their private caucus
with upload progress, the respondent's screen never shows it and the server refuses them the
file, the mediator carries it into the joint session, the respondent saves it (an attachment
with the name it was shared with and the same bytes), the mediator attaches it to the agreement;
a file that lies about its type is refused with a sentence in the person's language.
Screenshots of each step are kept in test-artifacts/browser/."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from playwright.async_api import expect

from tests.client.rooms import enter, open_room
from tests.support import files

pytestmark = pytest.mark.timeout(300)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NAME = "Түбіртек-жөндеу.pdf"


async def test_a_party_shares_a_document_in_caucus_and_the_mediator_brings_it_to_the_joint_session(odr, browser,
                                                                                                  artifacts):
    case_id, people = await open_room(odr)
    pages, errors = {}, {}
    for role, viewport, locale in (("claimant", DESKTOP, "kk-KZ"), ("respondent", PHONE, "ru-RU"),
                                   ("mediator", DESKTOP, "en-GB")):
        context = await browser.new_context(base_url=odr, viewport=viewport, locale=locale, accept_downloads=True,
                                            is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
        page = await context.new_page()
        errors[role] = []
        page.on("console", lambda msg, role=role: errors[role].append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda e, role=role: errors[role].append(str(e)))
        pages[role] = page
    c, r, m = pages["claimant"], pages["respondent"], pages["mediator"]
    steps = []

    async def shot(role: str, step: str) -> None:
        steps.append(step)
        await pages[role].screenshot(path=artifacts / f"{len(steps):02d}-{role}-{step}.png", full_page=True)

    for role, page in pages.items():
        await enter(page, case_id, people[role])
    await m.locator("#session-start").click()
    for role in ("claimant", "respondent"):
        await m.locator(f'[data-admit="{people[role].id}"]').click()
    for page in pages.values():
        await expect(page.locator("#where")).to_have_attribute("data-location", "joint", timeout=20_000)

    # the mediator takes the claimant into their caucus; the claimant shares a receipt there
    await m.locator("#caucus-claimant").click()
    await expect(c.locator("#where")).to_have_attribute("data-location", "caucus:claimant", timeout=20_000)
    receipt = files.pdf("Repairs receipt", pad=600_000)
    await c.locator("#document-details summary").click()
    await c.locator("#document-file").set_input_files({"name": NAME, "mimeType": "application/pdf", "buffer": receipt})
    await c.locator("#document-send").click()
    await expect(c.locator("#document-status")).to_contain_text("жеке кездесуіңізге", timeout=20_000)
    await expect(c.locator('#messages li[data-type="document"]')).to_contain_text(NAME)
    await expect(m.locator('#messages li[data-type="document"]')).to_contain_text(NAME, timeout=20_000)
    await shot("claimant", "document-shared-in-caucus")
    await shot("mediator", "document-in-caucus")

    # the respondent, alone in the joint session, is not told and cannot fetch it
    await expect(r.locator('#messages li[data-type="document"]')).to_have_count(0)
    doc_id = await m.locator('#messages li[data-type="document"] button').get_attribute("data-download")
    async with httpx.AsyncClient(base_url=odr) as http:
        refused = await http.get(f"/sessions/rooms/{case_id}/documents/{doc_id}/content",
                                 headers={"Authorization": f"Bearer {people['respondent'].token}"})
    assert refused.status_code == 404

    # the mediator goes back to the joint session and shares it there
    share = m.locator(f'[data-share="{doc_id}"]')
    await expect(share).to_be_disabled()
    await m.get_by_role("button", name="Go to: Joint session").click()
    await expect(m.locator("#where")).to_have_attribute("data-location", "joint", timeout=20_000)
    await expect(share).to_be_enabled(timeout=20_000)
    await share.click()
    await expect(r.locator('#messages li[data-type="document"]')).to_contain_text(NAME, timeout=20_000)
    await shot("respondent", "document-in-joint")
    async with r.expect_download() as info:
        await r.locator(f'#messages [data-download="{doc_id}"]').click()
    download = await info.value
    assert download.suggested_filename == NAME
    assert (await download.path()).read_bytes() == receipt

    # attached to the agreement as an annex
    await m.locator(f'[data-annex="{doc_id}"]').click()
    await expect(m.locator(f'#documents [data-document="{doc_id}"]')).to_contain_text("annex to the agreement",
                                                                                    timeout=20_000)
    await shot("mediator", "document-annexed")

    # the agreement carries it: the mediator ticks it in the draft, which lists it with its SHA-256
    sha256 = hashlib.sha256(receipt).hexdigest()
    async with httpx.AsyncClient(base_url=odr) as http:
        made = await http.post("/agreements/agreements", json={"case_id": case_id, "language": "en"},
                               headers={"Authorization": f"Bearer {people['mediator'].token}"})
    assert made.status_code == 201, made.text
    await m.goto(f"/cases/{case_id}/agreements/{made.json()['id']}")
    await m.locator(f"#annex-{doc_id}").check(timeout=20_000)
    await m.get_by_role("button", name="Save as a new version").click()
    await expect(m.locator("#annexes")).to_contain_text(NAME, timeout=20_000)
    await expect(m.locator("#annexes")).to_contain_text(sha256)
    await shot("mediator", "agreement-with-annex")

    # a picture named .pdf is refused, in Russian for the respondent
    await r.locator("#document-details summary").click()
    await r.locator("#document-file").set_input_files({"name": "скан.pdf", "mimeType": "application/pdf",
                                                       "buffer": files.png()})
    await r.locator("#document-send").click()
    await expect(r.locator("#document-status")).to_have_text(
        "Имя файла не соответствует его содержимому (например, изображение с расширением .pdf)", timeout=20_000)
    await shot("respondent", "document-refused")

    for role, found in errors.items():
        assert not [e for e in found if "favicon" not in e and "status of 415" not in e], (role, found)
