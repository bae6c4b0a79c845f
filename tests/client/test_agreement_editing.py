"""The agreement page is drawn afresh when a notice about the case arrives (someone signed, a draft
is ready, signatures are asked for), but never over what the reader has started: the mediator's unsaved changes to the
draft stay as typed. (Found by test_done_when.py: on a loaded machine the "draft ready" notice
came while the mediator was filling in a due date, and the date was gone.)"""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.client.rooms import enter, open_room
from tests.client.test_party_journeys import SETTLE
from tests.services.agreements.conftest import complete_content
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(300)

# Counts the notices the page receives over server-sent events (wraps EventSource).
COUNT_NOTICES = """
window.__notices = 0;
const Original = window.EventSource;
window.EventSource = class extends Original {
  constructor(...args) { super(...args); this.addEventListener("notification", () => { window.__notices += 1; }); }
};
"""


async def test_a_notice_does_not_throw_away_the_mediators_unsaved_changes(odr, browser, artifacts):
    case_id, people = await open_room(odr)
    async with httpx.AsyncClient(base_url=odr, timeout=30) as http:
        def as_(role):
            return {"Authorization": f"Bearer {people[role].token}"}

        async def drafted():
            r = await http.post("/agreements/agreements", headers=as_("mediator"),
                                json={"case_id": case_id, "language": "ru", "content": complete_content()})
            return r.json() if r.status_code == 201 else None

        draft = await eventually(drafted, timeout=60, message="agreements learned of the case")

        context = await browser.new_context(base_url=odr, viewport={"width": 1280, "height": 900}, locale="ru-RU")
        await context.add_init_script(COUNT_NOTICES)
        page = await context.new_page()
        await enter(page, case_id, people["mediator"])
        await page.goto(f"/cases/{case_id}/agreements/{draft['id']}")
        title = page.locator("#agreement-editor [name=title]")
        await expect(title).to_be_visible(timeout=SETTLE)
        await page.wait_for_timeout(2000)  # the notices of the draft itself have come and gone
        before = await page.evaluate("window.__notices")

        await title.fill("Мировое соглашение по делу о поставках")
        # meanwhile the draft is sent for signature (from the mediator's other device): the request
        # is announced to every signer's page, this one too...
        sent = await http.post(f"/agreements/agreements/{draft['id']}/signature-request", json={"version": 1},
                               headers=as_("mediator"))
        assert sent.status_code == 200, sent.text
        await page.wait_for_function("(n) => window.__notices > n", arg=before, timeout=2 * SETTLE, polling=200)
        await page.wait_for_timeout(2000)  # ...and a couple of seconds later the typing is still there
        await expect(title).to_have_value("Мировое соглашение по делу о поставках")
        await page.screenshot(path=artifacts / "typing-kept.png", full_page=True)

        # Saving draws the page afresh, with the new title (a new version, to be signed anew).
        await page.locator("#save-version").click()
        await expect(page.locator("#agreement-document h3").first).to_have_text(
            "Мировое соглашение по делу о поставках", timeout=SETTLE)
        await expect(page.locator("#agreement-editor [name=title]")).to_have_value("Мировое соглашение по делу о поставках")
        await context.close()
