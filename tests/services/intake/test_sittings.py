"""Sittings through the API: the mediator proposes slots within the term, the parties answer and
list the days they cannot attend, the mediator fixes, moves and cancels; a time outside the term is
refused with the rule's citation; only the mediator schedules and only the parties answer."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from services.intake.app import create_app
from shared.config import Settings
from tests.support.apps import running

from .conftest import Driver
from .test_flow import full_flow, outbox_events

ALMATY = ZoneInfo("Asia/Almaty")
TERM_CITATION = json.loads((Path(__file__).parents[3] / "services/intake/rulesets/KZ-2023.1.json")
                           .read_text(encoding="utf-8"))["term_citation"]


def local(day: date, hour: int, minute: int = 0) -> str:
    """A wall-clock time in the case's zone, as the client's date and time fields send it (no offset)."""
    return datetime.combine(day, time(hour, minute)).isoformat()


async def term(client, case_id, who) -> tuple[date, date]:
    c = (await client.get(f"/cases/{case_id}", headers=who)).json()
    return date.fromisoformat(c["term_starts_on"]), date.fromisoformat(c["term_ends_on"])


async def test_a_sitting_is_proposed_answered_fixed_moved_and_cancelled(app_client, flow):
    await propose_answer_fix_move_cancel(app_client, flow)


async def test_the_same_on_postgresql(tmp_path, pg_database_template, monkeypatch):
    base, names = pg_database_template
    monkeypatch.setenv("ODR_INTAKE_DATABASE_URL", f"{base}/{names['intake']}")
    app = create_app(Settings(data_dir=tmp_path, dev_mode=True, log_format="text"), configure_logs=False)
    assert app.state.runtime.database_url.startswith("postgresql+asyncpg://")
    async with running(app) as client:
        client.app = app
        await propose_answer_fix_move_cancel(client, Driver(client))


async def propose_answer_fix_move_cancel(app_client, flow):
    case_id, claimant, respondent, mediator = await full_flow(flow)
    start, end = await term(app_client, case_id, mediator)
    day1, day2 = start + timedelta(days=3), start + timedelta(days=4)

    r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator,
                              json={"slots": [local(day2, 15), local(day1, 10, 30)], "duration_minutes": 90})
    assert r.status_code == 201, r.text
    sitting = r.json()
    assert sitting["status"] == "proposed" and sitting["sequence"] == 0
    # Read in Asia/Almaty (UTC+5) and sorted: 10:30 local is 05:30 UTC.
    first, second = sitting["slots"]
    assert datetime.fromisoformat(first["starts_at"]) == datetime.combine(day1, time(10, 30), ALMATY)
    assert datetime.fromisoformat(first["ends_at"]) - datetime.fromisoformat(first["starts_at"]) == timedelta(minutes=90)

    # The respondent cannot attend on day 1 at all; the claimant can make either.
    r = await app_client.put(f"/cases/{case_id}/unavailable-dates", headers=respondent,
                             json={"dates": [day1.isoformat()]})
    assert r.status_code == 200 and r.json() == [day1.isoformat()]
    r = await app_client.put(f"/cases/{case_id}/sittings/{sitting['id']}/availability", headers=respondent,
                             json={"slots": {second["id"]: "available"}})
    assert r.status_code == 200, r.text
    r = await app_client.put(f"/cases/{case_id}/sittings/{sitting['id']}/availability", headers=claimant,
                             json={"slots": {first["id"]: "available", second["id"]: "available"}})
    assert r.status_code == 200
    # A party sees its own side only.
    assert {s["id"]: s["answers"] for s in r.json()["slots"]} == {first["id"]: {"claimant": "available"},
                                                                  second["id"]: {"claimant": "available"}}
    cal = (await app_client.get(f"/cases/{case_id}/sittings", headers=claimant)).json()
    assert cal["unavailable_dates"] == {} and cal["time_zone"] == "Asia/Almaty" and cal["next_sitting"] is None

    # The mediator sees who can come when.
    cal = (await app_client.get(f"/cases/{case_id}/sittings", headers=mediator)).json()
    [seen] = cal["sittings"]
    assert seen["slots"][0]["unavailable_sides"] == ["respondent"]
    assert seen["slots"][1]["answers"] == {"claimant": "available", "respondent": "available"}
    assert cal["unavailable_dates"] == {"respondent": [day1.isoformat()]}

    # A slot on a day a party cannot attend is refused; the other one is fixed.
    r = await app_client.post(f"/cases/{case_id}/sittings/{sitting['id']}/fix", headers=mediator,
                              json={"slot_id": first["id"]})
    assert r.status_code == 409 and r.json()["type"].endswith("/party-unavailable")
    assert r.json()["sides"] == ["respondent"]
    r = await app_client.post(f"/cases/{case_id}/sittings/{sitting['id']}/fix", headers=mediator,
                              json={"slot_id": second["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "fixed" and r.json()["starts_at"] == second["starts_at"]
    cal = (await app_client.get(f"/cases/{case_id}/sittings", headers=respondent)).json()
    assert cal["next_sitting"]["id"] == sitting["id"]

    # Moving bumps the sequence; moving onto an unavailable day is refused.
    r = await app_client.post(f"/cases/{case_id}/sittings/{sitting['id']}/move", headers=mediator,
                              json={"starts_at": local(day1, 16)})
    assert r.status_code == 409 and r.json()["type"].endswith("/party-unavailable")
    moved_to = start + timedelta(days=6)
    r = await app_client.post(f"/cases/{case_id}/sittings/{sitting['id']}/move", headers=mediator,
                              json={"starts_at": local(moved_to, 11)})
    assert r.status_code == 200 and r.json()["sequence"] == 1
    r = await app_client.post(f"/cases/{case_id}/sittings/{sitting['id']}/cancel", headers=mediator)
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["sequence"] == 2
    r = await app_client.post(f"/cases/{case_id}/sittings/{sitting['id']}/cancel", headers=mediator)
    assert r.status_code == 409

    events = [e for e in await outbox_events(app_client.app, case_id) if e["type"].startswith("odr.sitting.")]
    assert [(e["type"], e["data"].get("sequence")) for e in events] == [
        ("odr.sitting.proposed.v1", None), ("odr.sitting.fixed.v1", 0), ("odr.sitting.fixed.v1", 1),
        ("odr.sitting.cancelled.v1", 2)]
    fixed = events[2]["data"]
    assert datetime.fromisoformat(fixed["starts_at"]) == datetime.combine(moved_to, time(11), ALMATY)
    assert fixed["time_zone"] == "Asia/Almaty"
    # Times and ids only: nothing the parties said reaches the bus.
    assert set(fixed) == {"case_id", "sitting_id", "starts_at", "ends_at", "sequence", "time_zone"}


async def test_a_sitting_outside_the_term_is_refused_with_the_rules_citation(app_client, flow):
    case_id, _, respondent, mediator = await full_flow(flow)
    start, end = await term(app_client, case_id, mediator)
    language = (await app_client.get(f"/cases/{case_id}", headers=mediator)).json()["language"]
    cal = (await app_client.get(f"/cases/{case_id}/sittings", headers=respondent)).json()
    assert cal["term_citation"] == TERM_CITATION["ru"]  # the respondent reads Russian
    # The last evening of the term is fine; a sitting running past midnight into the next day is not.
    r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator,
                              json={"slots": [local(end, 18)], "duration_minutes": 60})
    assert r.status_code == 201, r.text
    for slot, minutes in ((local(end + timedelta(days=1), 10), 60), (local(end, 23, 30), 60)):
        r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator,
                                  json={"slots": [local(start + timedelta(days=2), 10), slot], "duration_minutes": minutes})
        assert r.status_code == 422, r.text
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem["type"].endswith("/sitting-outside-term")
        assert problem["citation"] == TERM_CITATION[language]  # in the mediator's (the case's) language
        assert problem["term_ends_on"] == end.isoformat() and problem["time_zone"] == "Asia/Almaty"
    # An offset given explicitly is honoured: 23:00 UTC on the last day is already the next day in Almaty.
    late = datetime.combine(end, time(23), timezone.utc).isoformat()
    r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator, json={"slots": [late]})
    assert r.status_code == 422 and r.json()["type"].endswith("/sitting-outside-term")
    r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator,
                              json={"slots": [(datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()]})
    assert r.status_code == 422 and r.json()["type"].endswith("/sitting-in-the-past")
    # With an extension the same day becomes possible.
    r = await app_client.post(f"/cases/{case_id}/term-extensions", headers=mediator,
                              json={"days": 5, "reason": "documents", "parties_agreed": True})
    assert r.status_code == 200
    r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator,
                              json={"slots": [local(end + timedelta(days=1), 10)]})
    assert r.status_code == 201, r.text


async def test_only_the_mediator_schedules_and_only_the_parties_answer(app_client, flow):
    case_id, claimant, respondent, mediator = await full_flow(flow)
    start, _ = await term(app_client, case_id, mediator)
    body = {"slots": [local(start + timedelta(days=2), 10)]}
    for who in (claimant, respondent, await flow.admin()):
        r = await app_client.post(f"/cases/{case_id}/sittings", headers=who, json=body)
        assert r.status_code == 403 and r.json()["type"].endswith("/forbidden"), r.text
    # Another case's token (and another mediator) do not even see the case.
    other_case, other_claimant = await flow.file()
    r = await app_client.post(f"/cases/{case_id}/sittings", headers=other_claimant, json=body)
    assert r.status_code == 404
    assert (await app_client.get(f"/cases/{case_id}/sittings", headers=other_claimant)).status_code == 404
    stranger = await flow.token("mediator", "mediator-stranger", cases=[case_id])
    assert (await app_client.post(f"/cases/{case_id}/sittings", headers=stranger, json=body)).status_code == 404

    sitting = (await app_client.post(f"/cases/{case_id}/sittings", headers=mediator, json=body)).json()
    slot = sitting["slots"][0]["id"]
    r = await app_client.put(f"/cases/{case_id}/sittings/{sitting['id']}/availability", headers=mediator,
                             json={"slots": {slot: "available"}})
    assert r.status_code == 403
    r = await app_client.put(f"/cases/{case_id}/sittings/{sitting['id']}/availability", headers=claimant,
                             json={"slots": {"not-a-slot": "available"}})
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-slot")
    r = await app_client.post(f"/cases/{case_id}/sittings/{sitting['id']}/fix", headers=claimant, json={"slot_id": slot})
    assert r.status_code == 403
    r = await app_client.post(f"/cases/{case_id}/sittings/{sitting['id']}/cancel", headers=respondent)
    assert r.status_code == 403
    r = await app_client.post(f"/cases/{other_case}/sittings/{sitting['id']}/cancel", headers=mediator)
    assert r.status_code == 404

    # A revoked token is refused everywhere.
    assert (await app_client.post("/auth/sign-out", headers=claimant)).status_code == 204
    r = await app_client.put(f"/cases/{case_id}/unavailable-dates", headers=claimant, json={"dates": []})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


async def test_no_sitting_before_the_term_runs(app_client, flow):
    admin = await flow.admin()
    mediator_id, username = await flow.mediator(admin)
    case_id, claimant, respondent = await flow.to_eligible()
    mediator = await flow.assign(case_id, claimant, respondent, mediator_id, username)
    r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator,
                              json={"slots": [(datetime.now(timezone.utc) + timedelta(days=2)).isoformat()]})
    assert r.status_code == 409 and r.json()["type"].endswith("/no-running-term")
    assert "401-IV" in r.json()["citation"]


async def test_a_closed_case_cancels_its_fixed_and_proposed_sittings(app_client, flow):
    case_id, claimant, respondent, mediator = await full_flow(flow)
    start, _ = await term(app_client, case_id, mediator)
    r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator,
                              json={"slots": [local(start + timedelta(days=3), 10)]})
    fixed = r.json()
    r = await app_client.post(f"/cases/{case_id}/sittings/{fixed['id']}/fix", headers=mediator,
                              json={"slot_id": fixed["slots"][0]["id"]})
    assert r.status_code == 200, r.text
    r = await app_client.post(f"/cases/{case_id}/sittings", headers=mediator,
                              json={"slots": [local(start + timedelta(days=5), 14)]})
    proposed = r.json()
    assert proposed["status"] == "proposed"

    r = await app_client.post(f"/cases/{case_id}/termination", json={"reason": "withdrawn"}, headers=respondent)
    assert r.status_code == 200 and r.json()["status"] == "terminated"

    # Nobody is expected at a sitting of a mediation that is over.
    for who in (claimant, mediator):
        cal = (await app_client.get(f"/cases/{case_id}/sittings", headers=who)).json()
        assert {s["id"]: s["status"] for s in cal["sittings"]} == {fixed["id"]: "cancelled", proposed["id"]: "cancelled"}
        assert cal["next_sitting"] is None
    # The fixed sitting's invitation is withdrawn (one more sequence), before the case's closing.
    events = [e for e in await outbox_events(app_client.app, case_id)
              if e["type"] in ("odr.sitting.cancelled.v1", "odr.case.closed.v1")]
    assert [(e["type"], e["data"].get("sitting_id"), e["data"].get("sequence")) for e in events] == [
        ("odr.sitting.cancelled.v1", fixed["id"], 1), ("odr.case.closed.v1", None, None)]
    assert datetime.fromisoformat(events[0]["data"]["starts_at"]) == datetime.fromisoformat(fixed["slots"][0]["starts_at"])
