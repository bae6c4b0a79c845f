"""Filing with several parties on a side and a representative, on a phone in Russian: from "check
your answers" the claimant adds a second respondent (name, then language and email) and her
representative (who, for whom, name, then language and email), each one question page at a time
with GOV.UK's "add another" page after it; a reload in the middle loses nothing; the case page
lists everyone on each side with what each still has to do; the representative gets a sign-in
link of their own by email. No English on the screen; screenshots of each step as artifacts."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from services.intake.screening import QUESTION_IDS
from tests.client.filing import SETTLE, answer_pages, go_on, on_step, send
from tests.client.test_filing import mailbox_to
from tests.client.test_party_journeys import Person, person
from tests.client.test_reach_and_return import mailbox_link
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(420)


async def test_a_claimant_files_against_two_respondents_with_a_representative(odr, browser, artifacts):
    claimant = await person(browser, odr, artifacts, "claimant", locale="ru-RU")
    page = claimant.page
    await answer_pages(page, description="Не оплачены поставки за март", claimant_name="Айгерим Нурлановна",
                       respondent_name="ТОО Дала Трейд", claimant_email="aigerim@example.kz")
    await claimant.shot("check-one-respondent")

    # -- another respondent: name and kind, then language and email --------------------------------
    await page.locator("#add-respondent").click()
    await on_step(page, "add-respondent")
    await page.locator("#file-continue").click()  # nothing typed: told beside the field
    await expect(page.locator(".error-summary li")).to_have_text(["Введите ФИО"], timeout=SETTLE)
    await page.locator("input[name=adding_name]").fill("Ерлан Даулетов")
    await page.reload()  # the phone drops the tab: the name is still there
    await on_step(page, "add-respondent")
    await expect(page.locator("input[name=adding_name]")).to_have_value("Ерлан Даулетов", timeout=SETTLE)
    await claimant.shot("add-respondent")
    await go_on(page, "add-respondent-contact")
    await page.locator("select[name=adding_language]").select_option("kk")
    await page.locator("input[name=adding_email]").fill("yerlan@example.kz")
    await claimant.shot("add-respondent-contact")
    await go_on(page, "respondents")
    await expect(page.locator("#added-list")).to_contain_text("Ерлан Даулетов", timeout=SETTLE)
    await expect(page.locator("#another-group legend")).to_have_text("Нужно добавить ещё одного ответчика?")
    await claimant.shot("respondents-added")
    assert await claimant.latin_words() == [], "no English on a Russian screen"
    await page.locator("#another-no").check()
    await go_on(page, "check")

    # -- the claimant's representative ---------------------------------------------------------------
    await page.locator("#add-helper").click()
    await on_step(page, "add-helper")
    await page.locator("#helper_role-representative").check()
    await page.locator("select[name=helper_party]").select_option("claimant")
    await claimant.shot("add-helper")
    await go_on(page, "add-helper-name")
    await page.locator("input[name=helper_name]").fill("Серик Беков")
    await go_on(page, "add-helper-contact")
    await page.locator("select[name=helper_language]").select_option("ru")
    await page.locator("input[name=helper_email]").fill("serik.bekov@example.kz")
    await go_on(page, "helpers")
    await expect(page.locator("#added-list")).to_contain_text("Серик Беков", timeout=SETTLE)
    await page.locator("#another-no").check()
    await go_on(page, "check")

    # -- check your answers, after it has settled ------------------------------------------------------
    await expect(page.locator("#more-respondent")).to_contain_text("Ответчик 2", timeout=SETTLE)
    await expect(page.locator("#more-respondent")).to_contain_text("Ерлан Даулетов")
    await expect(page.locator("#more-helpers")).to_contain_text("Представитель")
    await expect(page.locator("#more-helpers")).to_contain_text("Серик Беков")
    await page.wait_for_timeout(1000)  # read what stays on the screen, not what flashed
    await claimant.shot("check-answers")
    assert await claimant.latin_words() == [], "no English on a Russian screen"
    assert await claimant.audit() == []

    case_id = await send(page)
    await claimant.shot("filed")
    await page.locator("#filed-continue").click()
    people = page.locator("#case-people")
    await expect(people).to_be_visible(timeout=SETTLE)
    respondents = people.locator('[data-side="respondent"] li')
    await expect(respondents).to_have_count(2, timeout=SETTLE)
    await expect(respondents.nth(0)).to_contain_text("ТОО Дала Трейд")
    await expect(respondents.nth(1)).to_contain_text("Ерлан Даулетов")
    for i in range(2):
        await expect(respondents.nth(i).locator(".todo")).to_have_text("должен дать согласие на медиацию")
    mine = people.locator('[data-side="claimant"] li')
    await expect(mine).to_contain_text("Айгерим Нурлановна (вы)")
    await expect(mine).to_contain_text("Представитель: Серик Беков")
    await page.wait_for_timeout(1000)
    await claimant.shot("case-page")
    # (the law's number, 401-IV, is cited elsewhere on the page: the people are read here)
    assert await claimant.latin_words("#case-people") == [], "no English on a Russian screen"
    assert await claimant.audit() == []

    # The representative has a sign-in link of their own, by email.
    mails = await eventually(lambda: mailbox_to(odr, "serik.bekov@example.kz"), timeout=60,
                             message="the representative's own link")
    assert "/sign-in/" in mails[0]["text"], mails[0]
    assert case_id
    assert claimant.errors == []
    await claimant.context.close()


async def test_each_person_on_a_side_reads_their_own_tasks(odr, browser, artifacts):
    """Two co-respondents, the second with an interpreter, each signed in by the link of their own
    (filed and answered through the API, as test_parties does): the co-respondent's task list has
    his own consent to give while his co-respondent's is done, then his own safety questions; the
    interpreter's list has none of the party's acts (no consent, no screening, no signature)."""
    filing = {"jurisdiction": "KZ", "category": "civil", "description": "Не оплачены поставки", "parties": [
        {"side": "claimant", "kind": "natural_person", "name": "Айгерим Нурлановна", "language": "ru"},
        {"side": "respondent", "kind": "legal_entity", "name": "ТОО Дала Трейд", "language": "ru"},
        {"side": "respondent", "kind": "natural_person", "name": "Ерлан Даулетов", "language": "ru",
         "contact": {"email": "yerlan@example.kz"},
         "interpreters": [{"name": "Дина Тилмаш", "language": "ru", "contact": {"email": "tilmash@example.kz"}}]},
    ]}
    async with httpx.AsyncClient(base_url=odr, timeout=60) as api:
        r = await api.post("/intake/cases", json=filing)
        assert r.status_code == 201, r.text
        case_id, claimant = r.json()["case"]["id"], {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await api.post(f"/intake/cases/{case_id}/invitations", json={"side": "respondent"}, headers=claimant)
        assert r.status_code == 201, r.text
        r = await api.post(f"/intake/invitations/{r.json()['link_token']}/answer",
                           json={"decision": "consent", "text_version": "KZ-consent-2023.1"})
        assert r.status_code == 200, r.text
        first = {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def signed_in(name: str, address: str) -> Person:
        who = await person(browser, odr, artifacts, name, locale="ru-RU")
        path, _ = await mailbox_link(odr, address, "/sign-in")
        await who.page.goto(path)
        entry = who.page.locator(f'#reach-cases li[data-case="{case_id}"] a')
        await expect(entry).to_be_visible(timeout=SETTLE)
        await entry.click()
        await expect(who.page.locator("#task-list")).to_be_visible(timeout=SETTLE)
        return who

    def task(who: Person, name: str):
        return who.page.locator(f'#task-list [data-task="{name}"]')

    yerlan = await signed_in("co-respondent", "yerlan@example.kz")
    interpreter = await signed_in("interpreter", "tilmash@example.kz")
    await expect(task(yerlan, "consent")).to_have_attribute("data-state", "todo", timeout=SETTLE)
    await expect(task(yerlan, "consent")).to_contain_text("до")  # his own answer window
    respondents = yerlan.page.locator('#case-people [data-side="respondent"] li')
    await expect(respondents.nth(0).locator(".todo")).not_to_have_text("должен дать согласие на медиацию")
    await expect(respondents.nth(1).locator(".todo")).to_have_text("должен дать согласие на медиацию")
    for act in ("consent", "screening", "atm"):
        await expect(task(interpreter, act)).to_have_count(0)
    await expect(interpreter.page.locator("#party-consent")).to_have_count(0)
    await interpreter.page.wait_for_timeout(1000)
    await interpreter.shot("tasks-awaiting-consent")
    assert await interpreter.latin_words("#tasks-card") == []

    await yerlan.page.locator("#party-consent-yes").click()
    await expect(yerlan.page.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)
    await expect(task(yerlan, "consent")).to_have_attribute("data-state", "done", timeout=SETTLE)
    await expect(task(yerlan, "screening")).to_have_attribute("data-state", "todo")
    # the co-respondent whose side answered first answers her own screening; his stays his to do
    async with httpx.AsyncClient(base_url=odr, timeout=60) as api:
        body = {"answers": {q: False for q in QUESTION_IDS}, "fear_level": 0, "safe_in_same_room": True}
        for who in (first, claimant):
            r = await api.post(f"/intake/cases/{case_id}/screening", json=body, headers=who)
            assert r.status_code == 201, r.text
    await yerlan.page.reload()
    await expect(task(yerlan, "screening")).to_have_attribute("data-state", "todo", timeout=SETTLE)
    await expect(respondents.nth(0).locator(".todo")).to_have_text("сейчас ничего делать не нужно", timeout=SETTLE)
    await expect(respondents.nth(1).locator(".todo")).to_have_text("должен ответить на вопросы о безопасности")
    await expect(yerlan.page.locator("#screening-start")).to_be_visible()
    await yerlan.page.wait_for_timeout(1000)
    await yerlan.shot("own-screening-to-do")
    assert await yerlan.latin_words("#tasks-card") == []
    await interpreter.page.reload()
    await expect(interpreter.page.locator('[data-status="screening"]')).to_be_visible(timeout=SETTLE)
    for act in ("consent", "screening", "atm"):
        await expect(task(interpreter, act)).to_have_count(0)
    await expect(interpreter.page.locator("#screening-start")).to_have_count(0)
    assert yerlan.errors == [] and interpreter.errors == []
    for who in (yerlan, interpreter):
        await who.context.close()
