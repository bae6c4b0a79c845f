"""The browser client and the API docs under the platform's strict Content-Security-Policy
(issue 18, finding 9): nothing in the client needs inline script, inline style or an event
handler attribute, and Chromium reports no CSP violation on the client's pages or on the
services' Swagger UI, which is served by the platform itself."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import expect

CLIENT = Path(__file__).resolve().parents[2] / "client"


def test_the_client_sets_no_style_attribute_and_no_handler_attribute():
    for module in sorted((CLIENT / "assets" / "js").rglob("*.js")):
        text = module.read_text()
        # h(tag, {style: "..."}) would become a style attribute: refused by style-src 'self'
        # (Intl.NumberFormat's `style: "currency"` option is not an attribute).
        assert not re.search(r"""\bstyle:\s*["'`](?!(?:currency|decimal|percent|unit)["'`])""", text), module
        assert not re.search(r"""setAttribute\(\s*["'](?:style|on\w+)["']""", text), module
        assert not re.search(r"\.innerHTML\s*=|\beval\(|new Function\(", text), module


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" or "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def test_no_csp_violation_on_the_client_or_the_api_docs(odr, browser, artifacts):
    context = await browser.new_context(base_url=odr, locale="en-GB")
    page = await context.new_page()
    problems = _watch(page)
    for path in ("/", "/court", "/mediator"):
        response = await page.goto(path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        await expect(page.locator("main")).not_to_be_empty()
    await page.screenshot(path=artifacts / "client.png")
    for service in ("intake", "notifications"):
        await page.goto(f"/{service}/docs")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("ODR")
        await expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
        await page.screenshot(path=artifacts / f"{service}-docs.png")
    await context.close()
    assert not problems, problems
