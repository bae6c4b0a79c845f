"""A platform with nothing to do rests: the embedded log's consumers and the outbox relay sleep
until a commit or publish in their process wakes them, and look for other processes' work only
now and then. The counts below are of looks over a second of idling; a loaded machine can only
make them smaller, so they hold however slow the machine is."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import datetime, timedelta, timezone

from shared.bus import Message, partition_for
from shared.bus.embedded import EmbeddedBus
from shared.workers import sleep_until
from tests.support.kafka import unique
from tests.support.pipeline import MiniService, ping_type
from tests.support.waiting import eventually


class Counting:
    """Wraps a bound coroutine method on its instance and counts the calls."""

    def __init__(self, obj, name: str) -> None:
        self.calls = 0
        inner = getattr(obj, name)

        async def counted(*args, **kwargs):
            self.calls += 1
            return await inner(*args, **kwargs)

        setattr(obj, name, counted)


async def _consumer(bus: EmbeddedBus, topic: str, got: list):
    async def handler(batch):
        got.extend(r.value for r in batch)

    consumer = bus.consumer(group=unique("g"), topics=[topic], handler=handler)
    fetches = Counting(consumer, "_fetch")
    await consumer.start()
    return consumer, fetches


async def test_an_idle_embedded_consumer_rests_and_a_publish_of_its_topic_in_its_process_wakes_it(tmp_path):
    # Without a publish here it would look again only after an hour: any delivery below is a wake.
    bus = EmbeddedBus(tmp_path / "bus.sqlite3", poll_seconds=3600, heartbeat=3600, session_timeout=7200)
    await bus.start()
    topic, got = unique("rest"), []
    consumer, fetches = await _consumer(bus, topic, got)
    try:
        await bus.publish([Message(topic, "case-1", b"first")])
        await eventually(lambda: got == [b"first"], message="the first record")
        before = fetches.calls
        await asyncio.sleep(1.0)
        # Looks back off from 20 ms, doubling: about six in the first second (50 at a 20 ms poll).
        assert fetches.calls - before <= 10
        before = fetches.calls
        for i in range(20):  # records of a topic it does not read do not wake it
            await bus.publish([Message(unique("other"), "case-1", b"not yours")])
        assert fetches.calls - before <= 5  # only its own backed-off looks (20 without the filter)
        await bus.publish([Message(topic, "case-1", b"second")])
        await eventually(lambda: got == [b"first", b"second"], message="woken by the publish")
    finally:
        await consumer.stop()
        await bus.stop()


async def test_records_another_process_appended_are_found_by_the_consumers_look(tmp_path):
    path = tmp_path / "bus.sqlite3"
    bus = EmbeddedBus(path, poll_seconds=0.2, heartbeat=3600, session_timeout=7200)
    await bus.start()
    topic, got = unique("elsewhere"), []
    consumer, _ = await _consumer(bus, topic, got)
    try:
        _append_elsewhere(path, bus, topic=topic, key="case-9", value=b"from elsewhere")
        await eventually(lambda: got == [b"from elsewhere"], message="found by a look")
    finally:
        await consumer.stop()
        await bus.stop()


def _append_elsewhere(path, bus, *, topic: str, key: str, value: bytes) -> None:
    """Another process's append: straight into the log's file, so nothing in this process is woken."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("INSERT INTO records(topic, partition, key, value, ts) VALUES (?,?,?,?,?)",
                     (topic, partition_for(key, bus.partitions), key, value, time.time()))
    finally:
        conn.close()


async def test_a_consumer_with_a_longest_wait_finds_another_processs_records_after_a_quiet_spell(tmp_path):
    """The sessions fan-out (caucus moves between processes) cannot wait for the bus's hour-long
    look: its own bound holds however long the log has been quiet."""
    path = tmp_path / "bus.sqlite3"
    bus = EmbeddedBus(path, poll_seconds=3600, busy_poll_seconds=3600, heartbeat=3600, session_timeout=7200)
    await bus.start()
    topic, got = unique("moves"), []

    async def handler(batch):
        got.extend(r.value for r in batch)

    consumer = bus.consumer(group=unique("g"), topics=[topic], handler=handler, longest_wait=0.05)
    await consumer.start()
    try:
        await asyncio.sleep(0.5)  # quiet: without its own bound its next look would be an hour away
        _append_elsewhere(path, bus, topic=topic, key="room-1", value=b"moved")
        await eventually(lambda: got == [b"moved"], timeout=60, message="found within its own bound, not the bus's hour")
    finally:
        await consumer.stop()
        await bus.stop()


async def test_the_relay_rests_until_a_commit_wakes_it_and_then_publishes_in_order(database_url, tmp_path):
    bus = EmbeddedBus(tmp_path / "bus.sqlite3", poll_seconds=0.01, heartbeat=0.2, session_timeout=2.0)
    await bus.start()
    svc = MiniService(database_url=database_url, bus=bus, ping=ping_type(unique("rest")))
    await svc.create_tables()
    svc.relay.poll_seconds = 3600  # only a commit's wake-up can make it publish
    rounds = Counting(svc.relay, "publish_pending")
    try:
        await svc.start_consumer(unique("g"))
        await svc.relay.start()
        await eventually(lambda: rounds.calls == 1, message="the first round")
        await asyncio.sleep(0.5)
        assert rounds.calls == 1  # asleep, not polling
        for case in range(3):
            await svc.commit_pings(f"case-{case}", range(10))
        rows = await eventually(lambda: _at_least(svc, 30), message="30 effects")
        assert {case: [seq for c, seq, _ in rows if c == case] for case in {r[0] for r in rows}} == {
            f"case-{c}": list(range(10)) for c in range(3)}
        assert await svc.unpublished() == 0
    finally:
        await svc.close()
        await bus.stop()


async def _at_least(svc, n):
    rows = await svc.effect_rows()
    return rows if len(rows) >= n else None


def test_a_worker_rests_until_the_next_due_time_but_no_longer_than_its_look_interval():
    now = datetime.now(timezone.utc)
    assert sleep_until(None, longest=30) == 30
    assert sleep_until(now + timedelta(hours=1), longest=30) == 30
    assert sleep_until(now - timedelta(seconds=5), longest=30) == 0
    assert 0 < sleep_until(now + timedelta(seconds=10), longest=30) <= 10
