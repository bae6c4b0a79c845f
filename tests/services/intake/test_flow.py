"""The whole intake flow through the API: filed, respondent invited and consenting, both screened,
a mediator agreed, the agreement to mediate signed; on SQLite + the embedded log and on
PostgreSQL + Kafka. Plus the gates that stop it: consent, answer window, agreement to mediate."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import select

from services.intake import accounts, deadlines
from services.intake.app import create_app
from shared.bus.base import Message
from shared.config import Settings
from shared.problems import Problem
from shared.contracts.agreements import AgreementSigned
from shared.contracts.sessions import SessionStarted
from shared.events import envelope
from tests.support.apps import running
from tests.support.waiting import eventually

from .conftest import KZ_ATM, Driver, bearer


async def outbox_events(app, case_id: str | None = None) -> list[dict]:
    from services.intake.models import outbox

    async with app.state.runtime.uow() as uow:
        rows = (await uow.session.execute(select(outbox.c.payload).order_by(outbox.c.id))).scalars().all()
    events = [json.loads(r) for r in rows]
    return [e for e in events if case_id is None or e["subject"] == case_id]


async def full_flow(d: Driver) -> tuple[str, dict, dict, dict]:
    admin = await d.admin()
    mediator_id, username = await d.mediator(admin)
    case_id, claimant, respondent = await d.to_eligible()
    assert await d.status(case_id, claimant) == "eligible"

    candidates = (await d.c.get(f"{d.p}/cases/{case_id}/mediator-candidates", headers=respondent)).json()
    assert mediator_id in [m["mediator_id"] for m in candidates]
    mediator = await d.assign(case_id, claimant, respondent, mediator_id, username)
    assert await d.status(case_id, mediator) == "mediator_agreed"

    await d.sign(case_id, claimant)
    await d.sign(case_id, respondent)
    signed = await d.sign(case_id, mediator)
    assert signed["signed_by"] == ["claimant", "mediator", "respondent"]
    assert signed["term_starts_on"] is not None
    start = date.fromisoformat(signed["term_starts_on"])
    assert date.fromisoformat(signed["term_ends_on"]) == start + timedelta(days=30)
    assert await d.status(case_id, claimant) == "agreement_signed"
    return case_id, claimant, respondent, mediator


EXPECTED_TYPES = ["odr.case.filed.v1", "odr.case.consent.v1", "odr.case.invited.v1", "odr.case.consent.v1",
                  "odr.screening.requested.v1", "odr.screening.requested.v1", "odr.case.screened.v1",
                  "odr.mediator.proposed.v1", "odr.mediator.assigned.v1", "odr.mediation.agreed.v1"]


async def test_the_full_flow_on_sqlite_and_the_embedded_log(app_client, flow):
    case_id, claimant, _, mediator = await full_flow(flow)
    events = await outbox_events(app_client.app, case_id)
    assert [e["type"] for e in events] == EXPECTED_TYPES
    # The filing names the claimant by the participant id the filer's consent (and token) carries.
    assert events[0]["data"]["claimant_participant_id"] == events[1]["data"]["participant_id"]
    # ... and says the claimant's language, so their first notices are in it (the filing's is Kazakh)
    assert events[0]["data"]["claimant_language"] == "kk"
    agreed = events[-1]["data"]
    roles = sorted((p["role"], p["side"]) for p in agreed["participants"])
    assert roles == [("mediator", None), ("party", "claimant"), ("party", "respondent"),
                     ("representative", "claimant")]
    assert agreed["time_zone"] == "Asia/Almaty" and agreed["safeguards"] == []
    history = (await app_client.get(f"/cases/{case_id}/history", headers=claimant)).json()
    assert [h["to_status"] for h in history] == ["filed", "awaiting_consent", "screening", "eligible",
                                                 "mediator_agreed", "agreement_signed"]
    consents = (await app_client.get(f"/cases/{case_id}/consents", headers=mediator)).json()
    assert {(c["side"], c["decision"], c["text_version"]) for c in consents} == {
        ("claimant", "consented", "KZ-consent-2023.1"), ("respondent", "consented", "KZ-consent-2023.1")}


async def test_the_full_flow_on_postgresql_and_kafka(tmp_path, kafka, pg_database_template, monkeypatch):
    base, names = pg_database_template
    monkeypatch.setenv("ODR_INTAKE_DATABASE_URL", f"{base}/{names['intake']}")
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="text", bus="kafka",
                        kafka_bootstrap=kafka.bootstrap, kafka_client_id="odr-intake-test")
    app = create_app(settings, configure_logs=False)
    assert app.state.runtime.database_url.startswith("postgresql+asyncpg://")
    async with running(app) as client:
        case_id, claimant, _, _ = await full_flow(Driver(client))
        assert [e["type"] for e in await outbox_events(app, case_id)] == EXPECTED_TYPES

        async def all_published():
            from services.intake.models import outbox

            async with app.state.runtime.uow() as uow:
                pending = (await uow.session.execute(
                    select(outbox.c.id).where(outbox.c.published_at.is_(None)))).first()
            return pending is None

        await eventually(all_published, message="the relay published every event to Kafka")

        # The deadline sweeps run on PostgreSQL too: silence declines, an ended term closes.
        other, other_claimant = await Driver(client).file()
        answer_by = datetime.fromisoformat((await Driver(client).invite(other, other_claimant))["answer_by"])
        async with app.state.runtime.uow() as uow:
            assert await deadlines.expire_invitations(uow, now=answer_by + timedelta(seconds=1)) == 1
        async with app.state.runtime.uow() as uow:
            assert await deadlines.expire_terms(uow, now=answer_by + timedelta(days=400)) == 1
        assert await Driver(client).status(other, other_claimant) == "declined"
        assert await Driver(client).status(case_id, claimant) == "terminated"


async def test_the_case_follows_sessions_and_agreements(app_client, flow):
    case_id, claimant, _, _ = await full_flow(flow)
    bus = app_client.app.state.runtime.bus
    started = envelope(SessionStarted(case_id=case_id, session_id="s-1"), source="/odr/sessions")
    await bus.publish([Message("odr.sessions", case_id, started.to_bytes())])

    async def status_is(s):
        return await flow.status(case_id, claimant) == s

    await eventually(lambda: status_is("in_session"), message="the case moved into session")
    signed = envelope(AgreementSigned(case_id=case_id, agreement_id="a-1", version=1, document_hash="h"),
                      source="/odr/agreements")
    # delivered twice: the second has no effect
    await bus.publish([Message("odr.agreements", case_id, signed.to_bytes())] * 2)
    await eventually(lambda: status_is("settled"), message="the case settled")
    closed = [e for e in await outbox_events(app_client.app, case_id) if e["type"] == "odr.case.closed.v1"]
    assert [e["data"]["outcome"] for e in closed] == ["settled"]


async def test_declining_closes_the_case_and_the_link_works_once(app_client, flow):
    case_id, claimant = await flow.file()
    inv = await flow.invite(case_id, claimant)
    view = (await app_client.get(f"/invitations/{inv['link_token']}", params={"lang": "kk"})).json()
    assert view["consent_text"].startswith("Мен медиацияға") and view["answer_window_citation"] == "№ 401-IV Заң, 20-бап, 6-тармақ"
    answered = await flow.consent(inv["link_token"], "decline")
    assert answered["case"]["status"] == "declined" and answered["access_token"] is None
    again = await app_client.post(f"/invitations/{inv['link_token']}/answer",
                                  json={"decision": "consent", "text_version": "KZ-consent-2023.1"})
    assert again.status_code == 410 and again.json()["type"].endswith("/link-used")
    closed = [e["data"] for e in await outbox_events(app_client.app, case_id) if e["type"] == "odr.case.closed.v1"]
    assert closed == [{"case_id": case_id, "outcome": "declined"}]


async def test_the_answer_window_is_ten_calendar_days_in_almaty_and_silence_declines(app_client, flow):
    # invited at 23:30 Almaty time on 1 March: the window ends at the end of 11 March, Almaty time
    invited_at = datetime(2026, 3, 1, 18, 30, tzinfo=timezone.utc)
    deadline = deadlines.answer_deadline(invited_at, days=10, time_zone="Asia/Almaty")
    assert deadline == datetime(2026, 3, 11, 18, 59, 59, tzinfo=timezone.utc)

    case_id, claimant = await flow.file()
    inv = await flow.invite(case_id, claimant)
    answer_by = datetime.fromisoformat(inv["answer_by"])
    runtime = app_client.app.state.runtime
    async with runtime.uow() as uow:
        assert await deadlines.expire_invitations(uow, now=answer_by - timedelta(seconds=1)) == 0
    assert await flow.status(case_id, claimant) == "awaiting_consent"
    async with runtime.uow() as uow:
        assert await deadlines.expire_invitations(uow, now=answer_by + timedelta(seconds=1)) == 1
    assert await flow.status(case_id, claimant) == "declined"
    history = (await app_client.get(f"/cases/{case_id}/history", headers=claimant)).json()
    assert history[-1]["operation"] == "answer_window_passed" and history[-1]["actor"] == "scheduler"


async def test_no_screening_mediator_or_signature_before_both_consented(app_client, flow):
    case_id, claimant = await flow.file()
    r = await app_client.post(f"/cases/{case_id}/screening", json={"answers": {}, "fear_level": 0,
                                                                    "safe_in_same_room": True}, headers=claimant)
    assert r.status_code == 409 and r.json()["type"].endswith("/illegal-transition")
    admin = await flow.admin()
    mediator_id, _ = await flow.mediator(admin)
    r = await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": mediator_id},
                              headers=claimant)
    assert r.status_code == 409 and r.json()["case_status"] == "filed"
    r = await app_client.post(f"/cases/{case_id}/agreement-to-mediate/signatures", json={"text_version": KZ_ATM},
                              headers=claimant)
    assert r.status_code == 409
    inv = await flow.invite(case_id, claimant)
    r = await app_client.post(f"/invitations/{inv['link_token']}/answer",
                              json={"decision": "consent", "text_version": "KZ-consent-1999"})
    assert r.status_code == 422 and r.json()["current_version"] == "KZ-consent-2023.1"


async def test_the_agreement_to_mediate_needs_both_parties_and_the_mediator(app_client, flow):
    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    case_id, claimant, respondent = await flow.to_eligible()
    await flow.sign(case_id, claimant, expect=409)  # no mediator yet
    mediator = await flow.assign(case_id, claimant, respondent, mediator_id, username)
    await flow.sign(case_id, claimant)
    await flow.sign(case_id, claimant, expect=409)  # once
    other = await flow.token("mediator", "med-someone-else", [case_id])
    await flow.sign(case_id, other, expect=404)
    assert await flow.status(case_id, claimant) == "mediator_agreed"
    await flow.sign(case_id, mediator)
    assert await flow.status(case_id, claimant) == "mediator_agreed"  # the respondent has not signed
    assert not [e for e in await outbox_events(app_client.app, case_id) if e["type"] == "odr.mediation.agreed.v1"]
    await flow.sign(case_id, respondent)
    assert await flow.status(case_id, claimant) == "agreement_signed"


async def test_mediators_need_both_parties_and_an_impartiality_declaration(app_client, flow):
    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    case_id, claimant, respondent = await flow.to_eligible()
    proposal = (await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": mediator_id},
                                      headers=claimant)).json()["id"]
    mediator = await flow.login(username)
    url = f"/cases/{case_id}/mediator-proposals/{proposal}/decision"
    r = await app_client.post(url, json={"decision": "accept", "impartiality_declaration": True}, headers=mediator)
    assert r.status_code == 409 and r.json()["type"].endswith("/parties-have-not-accepted")
    # The respondent finds the claimant's proposal waiting for them, with the mediator's name.
    [waiting] = (await app_client.get(f"/cases/{case_id}/mediator-proposals", headers=respondent)).json()
    assert (waiting["id"], waiting["status"], waiting["claimant_accepted"], waiting["respondent_accepted"]) == (
        proposal, "open", True, False)
    assert waiting["mediator_name"]
    mine = (await app_client.get(f"/cases/{case_id}/mediator-proposals", headers=mediator)).json()
    assert [p["id"] for p in mine] == [proposal]  # the proposed mediator sees what was put to them
    await app_client.post(f"/cases/{case_id}/mediator-proposals/{proposal}/accept", headers=respondent)
    r = await app_client.post(url, json={"decision": "accept"}, headers=mediator)
    assert r.status_code == 422 and r.json()["type"].endswith("/impartiality-declaration-required")
    r = await app_client.post(url, json={"decision": "accept", "impartiality_declaration": True}, headers=mediator)
    assert r.status_code == 200
    mediator = bearer(r.json()["access_token"])

    # recusal puts the case back to choosing; the same mediator cannot be proposed again
    r = await app_client.post(f"/cases/{case_id}/mediator/recusal", json={"reason": "I know the respondent's director"},
                              headers=mediator)
    assert r.status_code == 200 and r.json()["status"] == "eligible" and r.json()["mediator_id"] is None
    r = await app_client.post(f"/cases/{case_id}/mediator-proposals", json={"mediator_id": mediator_id},
                              headers=claimant)
    assert r.status_code == 409 and r.json()["type"].endswith("/mediator-excluded")
    replacement, username2 = await flow.mediator(admin)
    await flow.assign(case_id, claimant, respondent, replacement, username2)
    assert await flow.status(case_id, claimant) == "mediator_agreed"
    types = [e["type"] for e in await outbox_events(app_client.app, case_id)]
    assert types.count("odr.mediator.assigned.v1") == 2 and "odr.mediator.recused.v1" in types


async def test_term_extensions_and_ending_a_mediation(app_client, flow):
    case_id, claimant, respondent, mediator = await full_flow(flow)
    before = (await app_client.get(f"/cases/{case_id}", headers=mediator)).json()["term_ends_on"]
    r = await app_client.post(f"/cases/{case_id}/term-extensions", headers=mediator,
                              json={"days": 10, "reason": "parties need documents", "parties_agreed": False})
    assert r.status_code == 422
    r = await app_client.post(f"/cases/{case_id}/term-extensions", headers=mediator,
                              json={"days": 10, "reason": "parties need documents", "parties_agreed": True})
    assert r.status_code == 200
    assert date.fromisoformat(r.json()["term_ends_on"]) == date.fromisoformat(before) + timedelta(days=10)
    r = await app_client.post(f"/cases/{case_id}/term-extensions", headers=mediator,
                              json={"days": 25, "reason": "more", "parties_agreed": True})
    assert r.status_code == 422 and r.json()["remaining_days"] == 20
    r = await app_client.post(f"/cases/{case_id}/term-extensions", headers=claimant,
                              json={"days": 1, "reason": "x", "parties_agreed": True})
    assert r.status_code == 403

    r = await app_client.post(f"/cases/{case_id}/termination", json={"reason": "futile"}, headers=mediator)
    assert r.status_code == 422 and r.json()["type"].endswith("/written-consent-required")
    r = await app_client.post(f"/cases/{case_id}/termination", json={"reason": "withdrawn"}, headers=mediator)
    assert r.status_code == 403
    r = await app_client.post(f"/cases/{case_id}/termination", json={"reason": "withdrawn"}, headers=respondent)
    assert r.status_code == 200 and r.json()["status"] == "terminated" and r.json()["outcome"] == "withdrawn"
    r = await app_client.post(f"/cases/{case_id}/termination", json={"reason": "withdrawn"}, headers=claimant)
    assert r.status_code == 409 and r.json()["type"].endswith("/illegal-transition")


async def test_the_term_expires(app_client, flow):
    case_id, claimant, _, _ = await full_flow(flow)
    ends = date.fromisoformat((await app_client.get(f"/cases/{case_id}", headers=claimant)).json()["term_ends_on"])
    runtime = app_client.app.state.runtime
    last_day = datetime(ends.year, ends.month, ends.day, 12, tzinfo=timezone.utc)
    async with runtime.uow() as uow:
        assert await deadlines.expire_terms(uow, now=last_day) == 0
    async with runtime.uow() as uow:
        assert await deadlines.expire_terms(uow, now=last_day + timedelta(days=1)) == 1
    case = (await app_client.get(f"/cases/{case_id}", headers=claimant)).json()
    assert (case["status"], case["outcome"]) == ("terminated", "term_expired")


async def test_a_court_referral_invites_both_sides(app_client, flow):
    admin = await flow.admin()
    client = (await app_client.post("/admin/court-clients", json={"court_id": "almaty-civil", "name": "Almaty"},
                                    headers=admin)).json()
    court = bearer((await app_client.post("/auth/token", data={"grant_type": "client_credentials",
                                                               "client_id": client["client_id"],
                                                               "client_secret": client["client_secret"]}
                                          )).json()["access_token"])
    referral = await app_client.post("/court/v1/referrals", headers=court,
                                     json={"jurisdiction": "KZ", "category": "family", "description": "custody",
                                           "docket_number": "2-1/2026"})
    case_id = referral.json()["id"]
    assert referral.status_code == 201 and referral.json()["safety"] is None
    first = await flow.invite(case_id, court, side="claimant")
    assert (await flow.consent(first["link_token"]))["case"]["status"] == "awaiting_consent"
    second = await flow.invite(case_id, court, side="respondent")
    answered = await flow.consent(second["link_token"])
    assert answered["case"]["status"] == "screening"


async def test_sign_in_links_are_one_time(app_client, flow):
    case_id, claimant, respondent = await flow.to_screening()
    r = await app_client.post(f"/cases/{case_id}/sign-in-links", json={"side": "respondent"})
    assert r.status_code == 202 and r.json()["delivery"] == "returned_in_dev_mode"
    link = r.json()["link_token"]
    r = await app_client.post("/auth/links/exchange", json={"token": link})
    assert r.status_code == 200
    assert await flow.status(case_id, bearer(r.json()["access_token"])) == "screening"
    assert (await app_client.post("/auth/links/exchange", json={"token": link})).status_code == 410


async def test_a_valid_token_is_refreshed_with_its_scope_until_the_sign_in_is_too_old(app_client, flow):
    case_id, claimant, respondent = await flow.to_screening()
    r = await app_client.post("/auth/refresh", headers=respondent)
    assert r.status_code == 200, r.text
    old = jwt.decode(respondent["Authorization"].split()[1], options={"verify_signature": False})
    new = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert (new["sub"], new["role"], new["cases"], new["side"], new["auth_time"]) == (
        old["sub"], old["role"], old["cases"], old["side"], old["auth_time"])
    assert new["exp"] >= old["exp"] and new["jti"] != old["jti"]
    assert await flow.status(case_id, bearer(r.json()["access_token"])) == "screening"

    # Twelve hours after signing in, refreshing stops: the person signs in again.
    runtime = app_client.app.state.runtime
    principal = runtime.tokens.verify(r.json()["access_token"])
    async with runtime.uow() as uow:
        with pytest.raises(Problem) as refused:
            await accounts.refresh(uow, principal=principal, tokens=runtime.tokens,
                                         session_max_seconds=runtime.settings.session_max_seconds,
                                         now=principal.auth_time + runtime.settings.session_max_seconds + 1)
    assert (refused.value.status, refused.value.code) == (401, "session-expired")
    assert (await app_client.post("/auth/refresh")).status_code == 401


async def test_a_mediator_refresh_picks_up_a_newly_assigned_case(app_client, flow):
    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    before = await flow.login(username)
    case_id, claimant, respondent = await flow.to_eligible()
    await flow.assign(case_id, claimant, respondent, mediator_id, username)
    r = await app_client.post("/auth/refresh", headers=before)
    assert r.status_code == 200, r.text
    assert case_id in jwt.decode(r.json()["access_token"], options={"verify_signature": False})["cases"]


async def test_the_case_view_says_which_side_has_done_each_step(app_client, flow):
    """The case page's task list reads this: who consented, who answered the safety questions,
    when the open invitation's window closes, who signed the agreement to mediate."""
    async def progress(who):
        r = await flow.c.get(f"/cases/{case_id}", headers=who)
        assert r.status_code == 200, r.text
        return r.json()["progress"]

    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    case_id, claimant = await flow.file()
    filed = await progress(claimant)
    first_claimant = next(p["id"] for p in (await flow.c.get(f"/cases/{case_id}", headers=claimant)).json()["participants"]
                          if p["side"] == "claimant" and p["role"] == "party")
    assert filed.pop("consented_parties") == [first_claimant]  # consent is each party's own
    assert filed == {"time_zone": "Asia/Almaty", "consented_sides": ["claimant"], "screened_sides": [],
                     "screened_parties": [], "answer_by": None, "co_parties_answer_by": {},
                     "agreement_to_mediate_signed_by": [], "agreement_to_mediate_signed_parties": []}

    invited = await flow.invite(case_id, claimant)
    waiting = await progress(claimant)
    assert datetime.fromisoformat(waiting["answer_by"]) == datetime.fromisoformat(invited["answer_by"])

    answered = await flow.consent(invited["link_token"])
    respondent = bearer(answered["access_token"])
    await flow.screen(case_id, respondent)
    screening = await progress(claimant)
    assert (screening["consented_sides"], screening["screened_sides"], screening["answer_by"]) == (
        ["claimant", "respondent"], ["respondent"], None)
    await flow.screen(case_id, claimant)
    mediator = await flow.assign(case_id, claimant, respondent, mediator_id, username)
    await flow.sign(case_id, respondent)
    assert (await progress(mediator))["agreement_to_mediate_signed_by"] == ["respondent"]
    assert (await progress(claimant))["screened_sides"] == ["claimant", "respondent"]
