"""Issue 12's "done when", walked as one story in three browsers: a claimant on a phone in Kazakh
files and has the platform email the invitation; the respondent, in Russian, opens it from the
mailbox and consents; a mediator (English, desktop) accepts and runs the joint session; the
parties settle, the mediator drafts the agreement and every signer signs. The platform clock
moves a day ahead; each person comes back on a new device (the claimant on a phone again) —
the parties through "email me a link", the mediator through the mediator sign-in, which is what a
mediator has ("email me a link" is for parties) — reaches the closed case and downloads the signed
PDF. No kk or ru screen shows an English word, a raw id or an ISO timestamp.

On two platforms: (a) the embedded run (``odr dev``: SQLite, the embedded event log, the local
mailbox); (b) PostgreSQL and Apache Kafka: ``odr dev`` against a PostgreSQL database per service,
the test session's Kafka broker and a real SMTP server. The production-shape processes of
tests/e2e/ (``odr serve`` per service) serve no browser client and refuse the dev clock, so (b)
runs the same services in one process on the production stores and bus instead.
Screenshots of every step: test-artifacts/browser/<test>/."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import asyncpg
import httpx
import pypdf
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from playwright.async_api import expect

from tests.client import filing
from tests.client.reading import foreign_words
from tests.client.test_mediation_in_the_browser import answer_screening, register_mediator
from tests.client.test_party_journeys import DESKTOP, PHONE, SETTLE, Person, person, sign_in_mediator
from tests.services.notifications.servers import MailServer
from tests.support.databases import service_databases
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(1500)

CLAIMANT, CLAIMANT_EMAIL = "Айгерим Нурланқызы", "aigerim@example.kz"
RESPONDENT, RESPONDENT_EMAIL = "ТОО Дала Трейд", "director@dala.kz"
DAY = 86_400

# Latin words a kk or ru reader may meet here besides those tests/client/reading.py allows: the
# mediator's name as the register spells it, and SMS.
ALLOWED = ("Aliya", "Bekova", "SMS")


@dataclass
class Platform:
    """The platform under test: where its mail goes (the embedded run's local mailbox, or an SMTP
    server) and, on PostgreSQL + Kafka, where to see that they were used."""

    kind: str
    env: dict[str, str]
    smtp: MailServer | None = None
    intake_db: str | None = None  # PostgreSQL: intake's database, and the broker the events went through
    bootstrap: str | None = None

    async def holds(self, reference: str) -> None:
        """On PostgreSQL + Kafka: the case is in intake's PostgreSQL database and the platform's
        events went through the broker (not a SQLite file and the embedded log by mistake)."""
        if self.intake_db is None:
            return
        conn = await asyncpg.connect(self.intake_db.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            assert await conn.fetchval("SELECT count(*) FROM cases WHERE reference = $1", reference) == 1
        finally:
            await conn.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            [topic] = await admin.describe_topics(["odr.intake"])
        finally:
            await admin.close()
        parts = [TopicPartition("odr.intake", p["partition"]) for p in topic["partitions"]]
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await consumer.start()
        try:
            assert parts and sum((await consumer.end_offsets(parts)).values()) > 0, "no intake event on Kafka"
        finally:
            await consumer.stop()

    async def mails(self, base_url: str) -> list[dict]:
        """Every email sent so far: ``to``, ``text`` (the plain-text part)."""
        if self.smtp is None:
            async with httpx.AsyncClient(base_url=base_url) as http:
                return [{"to": m["to"], "text": m["text"]} for m in (await http.get("/notifications/mailbox.json")).json()["items"]]
        out = []
        for msg in list(self.smtp.accepted):
            body = msg.get_body(preferencelist=("plain",))
            out.append({"to": str(msg["To"]), "text": body.get_content() if body else ""})
        return out

    async def link(self, base_url: str, to: str, path: str, *, count: int = 1) -> str:
        """The path of the ``path`` link (``/invitations``, ``/sign-in``) in the ``count``-th such
        email to ``to``: what the person clicks, opened on this platform."""
        pattern = re.compile(rf"https?://[^/\s]+({re.escape(path)}/[A-Za-z0-9_-]+)")

        async def arrived():
            mine = [m for m in await self.mails(base_url) if to in m["to"] and pattern.search(m["text"])]
            return len(mine) >= count and pattern.search(mine[count - 1]["text"]).group(1)

        return await eventually(arrived, timeout=120, interval=0.5, message=f"an email to {to} with a {path} link")


# Each platform is a group of its own (tests/conftest.py): the two walks share nothing, and on one
# worker they would take five minutes end to end.
@pytest.fixture(params=[pytest.param(kind, marks=pytest.mark.xdist_group(f"tests/client/test_done_when.py[{kind}]"))
                        for kind in ("embedded", "postgresql-kafka")])
async def platform(request):
    if request.param == "embedded":
        yield Platform("embedded", {})
        return
    kafka = request.getfixturevalue("kafka")
    await asyncio.to_thread(kafka.create_platform_topics)  # as docker-compose's kafka-init does
    from odr.services import SERVICES

    with MailServer() as smtp:
        async with service_databases() as (base, names):
            env = {"ODR_BUS": "kafka", "ODR_KAFKA_BOOTSTRAP": kafka.bootstrap,
                   "ODR_NOTIFICATIONS_EMAIL_TRANSPORT": "smtp", "ODR_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
                   "ODR_NOTIFICATIONS_SMTP_PORT": str(smtp.port),
                   **{f"ODR_{s.upper()}_DATABASE_URL": f"{base}/{names[s]}" for s in SERVICES}}
            yield Platform("postgresql-kafka", env, smtp, intake_db=env["ODR_INTAKE_DATABASE_URL"], bootstrap=kafka.bootstrap)


@pytest.fixture
def odr_extra_env(platform):
    """What the `odr` fixture adds to `odr dev`'s environment."""
    return platform.env


class Reader:
    """Looks at each screen as it is after settling: a screenshot, and on a kk or ru screen any
    English word, raw id or ISO timestamp a person would read."""

    def __init__(self) -> None:
        self.found: list[str] = []

    async def look(self, who: Person, step: str) -> None:
        await who.page.wait_for_load_state()
        await who.page.wait_for_timeout(1000)  # not synchronisation: read as a person does, a moment later
        await who.shot(step)
        language = await who.page.evaluate("document.documentElement.lang")
        if language not in ("kk", "ru"):
            return
        if found := await foreign_words(who.page, allowed=ALLOWED):
            self.found.append(f"{who.name}/{step} ({language}): {found[:5]}")


async def device(browser, odr, artifacts, name: str, *, locale: str, viewport: dict) -> Person:
    """A new browser context (a device that remembers nothing) whose clicks and fills wait
    generously for their element: the machine is shared."""
    who = await person(browser, odr, artifacts, name, locale=locale, viewport=viewport)
    who.context.set_default_timeout(2 * SETTLE)
    return who


async def download_signed_pdf(who: Person, artifacts, reader: Reader) -> str:
    """On the case page: the agreement, its PDF saved and its text."""
    page = who.page
    link = page.locator("#agreements-card a[data-agreement]").first
    await expect(link).to_be_visible(timeout=SETTLE)
    await reader.look(who, "closed-case")
    await link.click()
    await expect(page.locator("#download-pdf")).to_be_visible(timeout=SETTLE)
    await reader.look(who, "signed-agreement")
    async with page.expect_download(timeout=SETTLE) as download_info:
        await page.locator("#download-pdf").click()
    download = await download_info.value
    pdf = artifacts / f"{who.name}-agreement.pdf"
    await download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF"), who.name
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)


async def come_back_by_email(platform: Platform, odr: str, who: Person, email: str, case_id: str, reader: Reader) -> None:
    """"Email me a link" on a device that remembers nothing, the link from the mailbox, the case."""
    page = who.page
    await page.goto("/")
    await reader.look(who, "home")
    await page.locator("#reach-start").click()
    await expect(page.locator("#reach-email")).to_be_visible(timeout=SETTLE)
    await reader.look(who, "email-me-a-link")
    await page.locator("#reach-email").fill(email)
    await page.locator("#reach-send").click()
    await expect(page.locator("#reach-check")).to_be_visible(timeout=SETTLE)
    await reader.look(who, "check-your-email")
    sign_in = await platform.link(odr, email, "/sign-in")
    await page.goto(sign_in)
    entry = page.locator(f'#reach-cases li[data-case="{case_id}"]')
    await expect(entry).to_be_visible(timeout=SETTLE)
    await expect(entry.locator('[data-status="settled"]')).to_be_visible(timeout=SETTLE)
    await reader.look(who, "signed-in-cases")
    await entry.locator("a").click()
    await expect(page.locator('[data-status="settled"]').first).to_be_visible(timeout=SETTLE)


async def test_three_people_from_filing_to_a_signed_agreement_and_back_a_day_later(platform, odr_extra_env, odr, browser, artifacts):
    started = time.monotonic()
    reader = Reader()
    username, mediator_id = await register_mediator(odr)
    claimant = await device(browser, odr, artifacts, "claimant", locale="kk-KZ", viewport=PHONE)
    respondent = await device(browser, odr, artifacts, "respondent", locale="ru-RU", viewport=DESKTOP)
    mediator = await device(browser, odr, artifacts, "mediator", locale="en-GB", viewport=DESKTOP)
    c, r, m = claimant.page, respondent.page, mediator.page

    # -- the claimant, on a phone in Kazakh, files page by page -----------------------------------------
    await c.goto("/")
    await reader.look(claimant, "home")

    async def filing_step(name: str) -> None:
        await reader.look(claimant, name)

    await filing.answer_pages(c, description="Наурыз айындағы жеткізілімдер төленбеді", claimant_name=CLAIMANT,
                              claimant_email=CLAIMANT_EMAIL, respondent_name=RESPONDENT, respondent_language="ru",
                              shot=filing_step)
    await reader.look(claimant, "check-your-answers")
    case_id = await filing.send(c)
    reference = (await c.locator("#filed-reference").inner_text()).strip()
    assert re.fullmatch(r"KZ-\d{4}-\d{6}", reference), reference
    await reader.look(claimant, "filed")
    await c.locator("#filed-continue").click()
    await expect(c.locator('[data-status="filed"]')).to_be_visible(timeout=SETTLE)
    await reader.look(claimant, "case-filed")

    # ... and has the platform email the invitation to the respondent
    await c.locator("#invite").click()
    await expect(c.locator("#invitation-link")).to_be_visible(timeout=SETTLE)
    await expect(c.locator('[data-status="awaiting_consent"]')).to_be_visible(timeout=SETTLE)
    await reader.look(claimant, "invitation-link")
    await expect(c.locator("#invite-language")).to_have_value("ru")
    await c.locator("#invite-email").fill(RESPONDENT_EMAIL)
    await c.locator("#invite-send").click()
    await expect(c.locator("#invite-sent")).to_be_visible(timeout=SETTLE)
    await reader.look(claimant, "invitation-sent")

    # -- the respondent, in Russian, opens it from the mailbox and consents -----------------------------
    await r.goto(await platform.link(odr, RESPONDENT_EMAIL, "/invitations"))
    await expect(r.locator("#consent-give")).to_be_visible(timeout=SETTLE)
    await reader.look(respondent, "invitation")
    await r.locator("#consent-agree").check()
    await r.locator("#consent-give").click()
    await expect(r.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)
    await reader.look(respondent, "consented")

    # -- each answers the safety questions on their own ----------------------------------------------------
    for who in (respondent, claimant):
        await who.page.goto(f"/cases/{case_id}")
        await who.page.locator("#screening-start").click()
        await expect(who.page.locator("#screening-submit")).to_be_visible(timeout=SETTLE)
        await reader.look(who, "screening")
        await answer_screening(who.page)
        await who.page.locator("#screening-submit").click()
        await expect(who.page.locator("#screening-submit")).to_have_count(0, timeout=SETTLE)
    await c.goto(f"/cases/{case_id}")
    await expect(c.locator('[data-status="eligible"]')).to_be_visible(timeout=SETTLE)
    await reader.look(claimant, "eligible")

    # -- both choose the mediator; the mediator accepts ------------------------------------------------------
    await c.locator(f'[data-mediator="{mediator_id}"]').click()
    await expect(c.locator(f'[data-mediator="{mediator_id}"]')).to_have_count(0, timeout=SETTLE)
    await reader.look(claimant, "mediator-proposed")
    await r.goto(f"/cases/{case_id}")
    await expect(r.locator("#accept-mediator")).to_be_visible(timeout=SETTLE)
    await reader.look(respondent, "mediator-proposed")
    await r.locator("#accept-mediator").click()
    await expect(r.locator("#accept-mediator")).to_have_count(0, timeout=SETTLE)
    await sign_in_mediator(m, username)
    await reader.look(mediator, "cases")
    await m.locator(f'#mediator-cases a[href="/cases/{case_id}"]').click()
    await expect(m.locator("#impartiality")).to_be_visible(timeout=SETTLE)
    await reader.look(mediator, "decision")
    await m.locator("#impartiality").check()
    await m.locator("#mediator-accept").click()
    await expect(m.locator('[data-status="mediator_agreed"]')).to_be_visible(timeout=SETTLE)

    # -- everyone signs the agreement to mediate ------------------------------------------------------------
    for who in (mediator, claimant, respondent):
        await who.page.goto(f"/cases/{case_id}")
        await expect(who.page.locator("#atm-sign")).to_be_visible(timeout=SETTLE)
        await reader.look(who, "agreement-to-mediate")
        await who.page.locator("#atm-sign").click()
        await expect(who.page.locator("#atm-sign")).to_have_count(0, timeout=SETTLE)
    await m.goto(f"/cases/{case_id}")
    await expect(m.locator('[data-status="agreement_signed"]')).to_be_visible(timeout=SETTLE)

    # -- the joint session ----------------------------------------------------------------------------------
    for who in (mediator, claimant, respondent):
        await who.page.goto(f"/cases/{case_id}")
        await who.page.locator("#room-enter").click()
        await expect(who.page.locator("#where")).to_be_visible(timeout=SETTLE)
    await expect(c.locator("#where")).to_have_attribute("data-location", "waiting", timeout=SETTLE)
    await reader.look(claimant, "waiting-room")
    await reader.look(respondent, "waiting-room")
    await m.locator("#session-start").click()
    for who in (claimant, respondent):
        pid = await who.page.evaluate("JSON.parse(atob(window.odrRoom.token.split('.')[1].replace(/-/g,'+').replace(/_/g,'/'))).sub")
        await m.locator(f'[data-admit="{pid}"]').click()
        await expect(who.page.locator("#where")).to_have_attribute("data-location", "joint", timeout=SETTLE)
    await reader.look(mediator, "room-console")
    await c.locator("#message").fill("Сәлеметсіз бе, төлем туралы келісейік")
    await c.locator("#message").press("Enter")
    await expect(r.locator("#messages")).to_contain_text("Сәлеметсіз бе", timeout=SETTLE)
    await r.locator("#message").fill("Готовы платить двумя частями")
    await r.locator("#message").press("Enter")
    await expect(c.locator("#messages")).to_contain_text("Готовы платить", timeout=SETTLE)
    await reader.look(claimant, "joint-session")
    await reader.look(respondent, "joint-session")

    # ... a proposal, accepted by both sides
    await c.locator("#proposal-details summary").click()
    await c.locator("#proposal-summary").fill("400 000 теңге екі бөлікпен")
    await c.locator("#proposal-terms").fill("200 000 теңге 1 наурызға дейін\n200 000 теңге 1 сәуірге дейін")
    await reader.look(claimant, "proposal")
    await c.locator("#proposal-send").click()
    await r.locator("[data-accept]").click()
    await expect(r.locator("#messages .accepted")).to_have_count(1, timeout=SETTLE)
    await expect(c.locator("#messages .accepted")).to_have_count(1, timeout=SETTLE)
    await reader.look(respondent, "proposal-accepted")
    await reader.look(claimant, "proposal-accepted")

    # -- the mediator drafts it in the parties' languages (Kazakh and Russian) and sends it to sign ---------
    await m.goto(f"/cases/{case_id}")
    await expect(m.locator("#agreement-language")).to_have_value("kk-ru", timeout=SETTLE)
    await reader.look(mediator, "before-draft")
    await m.locator("#draft-agreement").click()
    await expect(m.locator("#agreement-document")).to_contain_text("200 000", timeout=SETTLE)
    await m.locator("#obligations input[name=deadline]").first.fill("2027-04-01")
    await m.locator("#save-version").click()
    await expect(m.locator("#agreement-document ol li").first).to_contain_text("2027", timeout=SETTLE)
    await reader.look(mediator, "draft")
    await m.locator("#send-for-signature").click()
    await expect(m.locator("#sign")).to_be_visible(timeout=SETTLE)
    agreement_path = m.url.split(odr, 1)[1]

    # -- every signer signs --------------------------------------------------------------------------------
    for who in (claimant, respondent, mediator):
        await who.page.goto(agreement_path)
        await expect(who.page.locator("#sign-confirm")).to_be_visible(timeout=SETTLE)
        await reader.look(who, "to-sign")
        if who is respondent:  # the sum as a Russian reader writes it, the bilingual title one line a language
            await expect(r.locator("#agreement-document ol li").first).to_contain_text("400 000,00 ₸")
            title = await r.locator("#agreement-document h3").first.inner_text()
            assert re.fullmatch(r"[^\n]*келісім\s*\n\s*Соглашение[^\n]*", title.strip()), title
        await who.page.locator("#sign-confirm").check()
        await who.page.locator("#sign").click()
        await expect(who.page.locator("#sign")).to_have_count(0, timeout=SETTLE)
    await c.reload()
    await expect(c.locator("#download-pdf")).to_be_visible(timeout=SETTLE)
    await reader.look(claimant, "executed")
    await c.goto(f"/cases/{case_id}")
    await expect(c.locator('[data-status="settled"]').first).to_be_visible(timeout=SETTLE)
    await reader.look(claimant, "settled")
    settled_at = time.monotonic()
    for who in (claimant, respondent, mediator):
        await who.context.close()

    # -- a day later, each on a new device --------------------------------------------------------------------
    async with httpx.AsyncClient(base_url=odr) as http:
        moved = await http.put("/intake/dev/clock", json={"offset_seconds": DAY})
        assert moved.status_code == 200 and moved.json()["offset_seconds"] == DAY, moved.text
    texts = {}
    later = await device(browser, odr, artifacts, "claimant-next-day", locale="kk-KZ", viewport=PHONE)
    await come_back_by_email(platform, odr, later, CLAIMANT_EMAIL, case_id, reader)
    texts["claimant"] = await download_signed_pdf(later, artifacts, reader)
    assert await later.page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling"
    later_r = await device(browser, odr, artifacts, "respondent-next-day", locale="ru-RU", viewport=DESKTOP)
    await come_back_by_email(platform, odr, later_r, RESPONDENT_EMAIL, case_id, reader)
    texts["respondent"] = await download_signed_pdf(later_r, artifacts, reader)
    later_m = await device(browser, odr, artifacts, "mediator-next-day", locale="en-GB", viewport=DESKTOP)
    await sign_in_mediator(later_m.page, username)
    await reader.look(later_m, "cases")
    await later_m.page.goto(f"/cases/{case_id}")
    texts["mediator"] = await download_signed_pdf(later_m, artifacts, reader)

    for who, text in texts.items():
        assert reference in text, (who, text[:2000])
        assert CLAIMANT in text and RESPONDENT in text, (who, text[:2000])
    await platform.holds(reference)
    assert not reader.found, "\n".join(reader.found)
    for who in (claimant, respondent, mediator, later, later_r, later_m):
        assert [e for e in who.errors if "favicon" not in e] == [], (who.name, who.errors)
    print(f"\n{platform.kind}: filing to signed agreement {settled_at - started:.0f} s, "
          f"whole walk {time.monotonic() - started:.0f} s")
