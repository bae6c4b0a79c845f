"""Fulfilment: obligations of an executed agreement with their due dates, performance reported by
the parties, and overdue obligations announced once (``odr.obligation.overdue.v1``), counting
days in the jurisdiction's time zone."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from services.agreements import maintenance
from services.agreements.models import outbox

from .conftest import complete_content


def _content():
    content = complete_content()
    content["obligations"] = [
        {**content["obligations"][0], "id": "pay-1", "deadline": "2030-01-15"},
        {**content["obligations"][0], "id": "pay-2", "deadline": "2030-02-15"},
        {"id": "apology", "obligor": "claimant", "obligee": "respondent", "what": "withdraw the claim",
         "deadline": "2030-01-20", "manner": "заявление в суд"},
    ]
    return content


async def _overdue_events(harness):
    async with harness.runtime.session_factory() as s:
        rows = (await s.execute(select(outbox.c.payload).where(outbox.c.type == "odr.obligation.overdue.v1"))).scalars()
        return [json.loads(p)["data"] for p in rows]


async def test_overdue_obligations_are_announced_once_and_performance_is_reported(harness):
    done = await harness.executed(content=_content())
    aid, case_id = done["id"], done["case_id"]
    listed = (await harness.client.get(f"/agreements/{aid}/obligations", headers=harness.claimant(case_id))).json()
    assert [(o["obligation_id"], o["due_on"], o["status"]) for o in listed["items"]] == [
        ("pay-1", "2030-01-15", "pending"), ("apology", "2030-01-20", "pending"), ("pay-2", "2030-02-15", "pending")]

    r = await harness.client.post(f"/agreements/{aid}/obligations/apology/performance", headers=harness.claimant(case_id))
    assert r.status_code == 200 and r.json()["status"] == "performed" and r.json()["reported_by"] == f"claimant:{case_id}"

    # 15 Jan 2030, 20:00 UTC is already 16 Jan in Almaty (UTC+5): pay-1 is overdue there
    report = await maintenance.run_once(harness.runtime, now=datetime(2030, 1, 15, 20, 0, tzinfo=timezone.utc))
    assert report.overdue == 1
    # a later round does not announce it again
    assert (await maintenance.run_once(harness.runtime, now=datetime(2030, 1, 15, 21, 0, tzinfo=timezone.utc))).overdue == 0
    events = await _overdue_events(harness)
    assert events == [{"case_id": case_id, "agreement_id": aid, "obligation_id": "pay-1", "due_on": "2030-01-15"}]
    # the performed one never goes overdue; the later one does when its day has passed
    assert (await maintenance.run_once(harness.runtime, now=datetime(2030, 3, 1, tzinfo=timezone.utc))).overdue == 1
    statuses = {o["obligation_id"]: o["status"] for o in (await harness.client.get(
        f"/agreements/{aid}/obligations", headers=harness.mediator(case_id))).json()["items"]}
    assert statuses == {"pay-1": "overdue", "pay-2": "overdue", "apology": "performed"}
    # late performance is still recorded
    r = await harness.client.post(f"/agreements/{aid}/obligations/pay-1/performance", headers=harness.respondent(case_id))
    assert r.json()["status"] == "performed"
    r = await harness.client.post(f"/agreements/{aid}/obligations/nope/performance", headers=harness.respondent(case_id))
    assert r.status_code == 404
    r = await harness.client.post(f"/agreements/{aid}/obligations/pay-2/performance", headers=harness.admin())
    assert r.status_code == 403
    actions = [e["action"] for e in (await harness.client.get(f"/agreements/{aid}/audit", headers=harness.admin())).json()["entries"]]
    assert actions.count("obligation_overdue") == 2 and actions.count("performance_reported") == 2


async def test_the_boundary_day_in_almaty(harness):
    done = await harness.executed(content=_content())
    # 15 Jan 18:59 UTC = 23:59 in Almaty on the due day: not overdue
    assert (await maintenance.run_once(harness.runtime, now=datetime(2030, 1, 15, 18, 59, tzinfo=timezone.utc))).overdue == 0
    assert (await maintenance.run_once(harness.runtime, now=datetime(2030, 1, 15, 19, 0, tzinfo=timezone.utc))).overdue == 1
    assert (await _overdue_events(harness))[0]["agreement_id"] == done["id"]
