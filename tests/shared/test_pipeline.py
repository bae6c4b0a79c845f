"""The whole event path, over every bus backend and every database: unit of work → outbox →
relay → bus → idempotent consumer. Includes ``kill -9`` of a real subprocess mid-publish."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import defaultdict

import pytest

from shared.bus import Message
from tests.support.kafka import unique
from tests.support.pipeline import MiniService, make_bus, ping_type
from tests.support.waiting import eventually


@pytest.fixture
def bus_spec(buses, tmp_path):
    if buses.kind == "embedded":
        return {"kind": "embedded", "path": str(tmp_path / "bus.sqlite3")}
    return {"kind": "kafka", "bootstrap": buses.kafka.bootstrap}


@pytest.fixture
async def service(database_url, bus_spec):
    bus = make_bus(bus_spec)
    await bus.start()
    svc = MiniService(database_url=database_url, bus=bus, ping=ping_type(unique("ping")))
    await svc.create_tables()
    yield svc
    await svc.close()
    await bus.stop()


def per_case(rows) -> dict[str, list[int]]:
    out = defaultdict(list)
    for case_id, seq, _ in rows:
        out[case_id].append(seq)
    return dict(out)


async def test_committed_events_are_handled_once_in_commit_order_per_case(service):
    await service.start_consumer(unique("g"))
    await service.relay.start()
    for round_ in range(5):
        for case in range(4):
            await service.commit_pings(f"case-{case}", range(round_ * 10, round_ * 10 + 10))
    rows = await eventually(lambda: _at_least(service, 200), message="200 effects")
    await asyncio.sleep(0.3)
    rows = await service.effect_rows()
    assert len(rows) == 200
    assert per_case(rows) == {f"case-{c}": list(range(50)) for c in range(4)}
    assert await service.unpublished() == 0


async def _at_least(service, n):
    rows = await service.effect_rows()
    return rows if len(rows) >= n else None


async def test_a_rolled_back_unit_of_work_publishes_nothing(service):
    await service.start_consumer(unique("g"))
    await service.relay.start()
    async with service.uow() as uow:
        uow.publish(service.ping(case_id="case-x", seq=1))
        await uow.rollback()
    await service.commit_pings("case-y", [7])
    await eventually(lambda: _at_least(service, 1), message="the committed event")
    await asyncio.sleep(0.3)
    assert per_case(await service.effect_rows()) == {"case-y": [7]}


async def test_a_redelivered_event_has_its_effect_once(service):
    await service.commit_pings("case-r", [1, 2, 3])
    await service.relay.publish_pending()
    # Publish the very same CloudEvents again, as a relay that crashed before marking would.
    async with service.session_factory() as s:
        rows = (await s.execute(service.outbox.select().order_by(service.outbox.c.id))).all()
    await service.bus.publish([Message(r.topic, r.key, r.payload) for r in rows])
    await service.start_consumer(unique("g"))
    await eventually(lambda: service.consumer.stats.delivered >= 6, message="both deliveries")
    assert per_case(await service.effect_rows()) == {"case-r": [1, 2, 3]}


async def test_a_poison_event_is_parked_and_does_not_block_the_others(service):
    service.fail_on = {2}
    await service.start_consumer(unique("g"), max_attempts=2)
    await service.relay.start()
    await service.commit_pings("case-p", [1, 2, 3])
    await eventually(lambda: _at_least(service, 2), message="the healthy events")
    async with service.session_factory() as s:
        statuses = await eventually(lambda: _inbox_statuses(service), message="parked event")
    assert per_case(await service.effect_rows()) == {"case-p": [1, 3]}
    assert sorted(statuses) == ["failed", "handled", "handled"]


async def _inbox_statuses(service):
    async with service.session_factory() as s:
        rows = (await s.execute(service.inbox.select())).all()
    statuses = [r.status for r in rows]
    return statuses if "failed" in statuses else None


@pytest.mark.parametrize("crash", ["before-publish", "after-publish"])
async def test_kill_9_between_commit_and_publish_loses_nothing_and_duplicates_no_effect(crash, database_url, bus_spec):
    name = unique("ping")
    config = {"bus": bus_spec, "database_url": database_url, "ping": name, "crash": crash, "cases": 5, "per_case": 20}
    child = subprocess.Popen([sys.executable, "-m", "tests.support.pipeline", json.dumps(config)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        expected_marker = "PUBLISHING" if crash == "before-publish" else "PUBLISHED"
        lines = []
        while expected_marker not in lines:
            line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)
            if not line:
                raise AssertionError(f"child exited early: {child.stderr.read()[-2000:]}")
            lines.append(line.strip())
        assert "COMMITTED" in lines
        child.send_signal(signal.SIGKILL)  # kill -9
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL

    bus = make_bus(bus_spec)
    await bus.start()
    svc = MiniService(database_url=database_url, bus=bus, ping=ping_type(name))
    try:
        assert await svc.unpublished() == 100  # nothing was marked as published before the crash
        await svc.start_consumer(unique("g"))
        await svc.relay.start()  # the restarted service's relay
        await eventually(lambda: _at_least(svc, 100), message="all 100 effects")
        await eventually(lambda: _drained(svc), message="outbox drained")
        await asyncio.sleep(0.5)
        rows = await svc.effect_rows()
        assert per_case(rows) == {f"case-{c}": list(range(20)) for c in range(5)}
        assert len({r.event_id for r in rows}) == 100
    finally:
        await svc.close()
        await bus.stop()


async def _drained(svc):
    return await svc.unpublished() == 0


async def test_a_malformed_record_is_skipped_without_blocking_the_partition(service):
    await service.commit_pings("case-m", [1])
    await service.relay.publish_pending()
    await service.bus.publish([Message(service.ping.topic, "case-m", b"\x00not a cloudevent")])
    await service.commit_pings("case-m", [2])
    await service.relay.publish_pending()
    await service.start_consumer(unique("g"))
    await eventually(lambda: _at_least(service, 2), message="events around the malformed record")
    assert per_case(await service.effect_rows()) == {"case-m": [1, 2]}
