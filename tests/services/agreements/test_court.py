"""The court API: the cursor feed (no gaps, no duplicates, also under concurrent writes),
acknowledgement, approval and rejection with their events."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, timezone

from sqlalchemy import select

from services.agreements import feed
from services.agreements.models import outbox
from shared.contracts.agreements import AgreementApproved


async def _outbox_types(harness) -> list[tuple[str, dict]]:
    async with harness.runtime.session_factory() as s:
        rows = (await s.execute(select(outbox.c.type, outbox.c.payload).order_by(outbox.c.id))).all()
    return [(r.type, json.loads(r.payload)["data"]) for r in rows]


async def test_a_court_reads_the_feed_fetches_acknowledges_and_approves(harness):
    done = await harness.executed(court="court-a")
    court = harness.court("court-a")
    page = (await harness.client.get("/court/v1/feed", headers=court)).json()
    assert [i["type"] for i in page["items"]] == ["odr.agreement.signed.v1"]
    item = page["items"][0]
    assert item["agreement_id"] == done["id"] and item["document_hash"] == done["document_hash"]
    empty = (await harness.client.get("/court/v1/feed", params={"after": page["next_cursor"]}, headers=court)).json()
    assert empty["items"] == [] and empty["next_cursor"] == page["next_cursor"]

    sealed = (await harness.client.get(f"/court/v1/agreements/{done['id']}", headers=court)).json()
    assert (await harness.client.post("/verify", json=sealed)).json()["valid"] is True
    pdf = (await harness.client.get(f"/court/v1/agreements/{done['id']}/pdf", headers=court)).content
    assert (await harness.client.post("/verify", content=pdf, headers={"content-type": "application/pdf"})).json()["valid"]

    ack = await harness.client.post(f"/court/v1/agreements/{done['id']}/acknowledgement", headers=court)
    again = await harness.client.post(f"/court/v1/agreements/{done['id']}/acknowledgement", headers=court)
    assert ack.status_code == 200 and ack.json() == again.json()

    r = await harness.client.post(f"/court/v1/agreements/{done['id']}/decision", headers=court,
                                  json={"decision": "approved", "reference": "2-1234/2026"})
    assert r.status_code == 200 and r.json()["decision"] == "approved"
    same = await harness.client.post(f"/court/v1/agreements/{done['id']}/decision", headers=court,
                                     json={"decision": "approved"})
    assert same.status_code == 200
    other = await harness.client.post(f"/court/v1/agreements/{done['id']}/decision", headers=court,
                                      json={"decision": "rejected"})
    assert other.status_code == 409 and other.json()["type"].endswith("/already-decided")
    bad = await harness.client.post(f"/court/v1/agreements/{done['id']}/decision", headers=court,
                                    json={"decision": "maybe"})
    assert bad.status_code == 422

    following = (await harness.client.get("/court/v1/feed", params={"after": page["next_cursor"]}, headers=court)).json()
    assert [i["type"] for i in following["items"]] == ["odr.agreement.approved.v1"]
    published = await _outbox_types(harness)
    approved = [d for t, d in published if t == AgreementApproved.type]
    assert approved == [{"case_id": done["case_id"], "agreement_id": done["id"], "court_id": "court-a"}]
    signed = [d for t, d in published if t == "odr.agreement.signed.v1"]
    assert signed[0]["court_id"] == "court-a" and signed[0]["document_hash"] == done["document_hash"]
    # Due dates travel (for reminders), never what is owed: ids, sides and dates only.
    assert signed[0]["obligations"] and all(set(o) == {"obligation_id", "obligor_side", "due_on"}
                                            for o in signed[0]["obligations"])
    view = (await harness.client.get(f"/agreements/{done['id']}", headers=harness.claimant(done["case_id"]))).json()
    assert view["court_decision"] == "approved"
    actions = [e["action"] for e in (await harness.client.get(f"/agreements/{done['id']}/audit",
                                                               headers=harness.admin())).json()["entries"]]
    assert {"acknowledged_by_court", "approved", "viewed", "sent_to_court"} <= set(actions)


async def test_bad_cursors_are_problems(harness):
    court = harness.court("court-a")
    for after in ("-1", "abc", "9" * 19):
        r = await harness.client.get("/court/v1/feed", params={"after": after}, headers=court)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", after
    r = await harness.client.get("/court/v1/feed", params={"limit": 0}, headers=court)
    assert r.status_code == 422


async def test_the_feed_has_no_gaps_or_duplicates_under_concurrent_writes(any_db_harness):
    """Writers commit feed items concurrently, each holding its transaction open for a random
    while after taking its position; a reader pages through with small pages the whole time.
    What it collects must be every item exactly once, in order."""
    harness = any_db_harness
    rt = harness.runtime
    writers, per_writer = 6, 8
    rng = random.Random(7)
    done = asyncio.Event()

    async def writer(w: int) -> None:
        for i in range(per_writer):
            async with rt.uow() as uow:
                await feed.append(uow.session, court_id="court-a", type="odr.test.v1", case_id=f"case-{w}",
                                  agreement_id=f"{w}-{i}", version=1, document_hash=None, at=datetime.now(timezone.utc))
                await asyncio.sleep(rng.random() * 0.01)
                await uow.commit()
            if w == 0 and i % 3 == 0:
                async with rt.uow() as uow:  # another court's items interleave and never show up
                    await feed.append(uow.session, court_id="court-b", type="odr.test.v1", case_id="b",
                                      agreement_id=f"b-{i}", version=1, document_hash=None,
                                      at=datetime.now(timezone.utc))
                    await uow.commit()

    seen: list[dict] = []

    async def reader() -> None:
        cursor = None
        while True:
            finished = done.is_set()
            params = {"limit": 3} | ({"after": cursor} if cursor else {})
            page = (await harness.client.get("/court/v1/feed", params=params, headers=harness.court("court-a"))).json()
            seen.extend(page["items"])
            cursor = page["next_cursor"]
            if finished and not page["items"]:
                return
            await asyncio.sleep(0.002)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(w) for w in range(writers)))
    done.set()
    await reading
    ids = [i["agreement_id"] for i in seen]
    assert len(ids) == len(set(ids)) == writers * per_writer
    assert [int(i["cursor"]) for i in seen] == list(range(1, writers * per_writer + 1))
    for w in range(writers):  # each writer's items in its own commit order
        assert [x for x in ids if x.startswith(f"{w}-")] == [f"{w}-{i}" for i in range(per_writer)]


async def test_the_court_api_is_versioned_in_the_openapi_document(harness):
    paths = (await harness.client.get("/openapi.json")).json()["paths"]
    for path in ("/court/v1/feed", "/court/v1/agreements/{agreement_id}", "/court/v1/agreements/{agreement_id}/pdf",
                 "/court/v1/agreements/{agreement_id}/acknowledgement", "/court/v1/agreements/{agreement_id}/decision",
                 "/verify", "/seal/keys"):
        assert path in paths, path


async def test_a_prosecutor_or_investigator_is_told_it_terminates_the_case_itself_and_nothing_is_recorded(harness):
    for body in ("prosecutor", "investigator"):
        done = await harness.executed(court=f"{body}-1", category="criminal", referred_by=body)
        headers = harness.court(f"{body}-1")
        r = await harness.client.post(f"/court/v1/agreements/{done['id']}/decision", headers=headers,
                                      json={"decision": "approved"})
        assert r.status_code == 409 and r.json()["type"].endswith("/not-a-court-decision"), r.text
        problem = r.json()
        assert problem["referred_by"] == body and "terminate the criminal case" in problem["detail"]
        assert "court" not in problem["detail"]
        assert set(problem["explanation"]) == {"kk", "ru", "en", "ky"}
        assert "прекратить ли уголовное дело" in problem["explanation"]["ru"]
        # The body still reads what was signed, and nothing says a court approved it.
        page = (await harness.client.get("/court/v1/feed", headers=headers)).json()
        assert [i["type"] for i in page["items"]] == ["odr.agreement.signed.v1"]
    assert [t for t, _ in await _outbox_types(harness) if t.startswith("odr.agreement.") and
            t.endswith(("approved.v1", "rejected.v1"))] == []
