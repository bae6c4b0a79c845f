"""The embedded log's consumer groups: a partition changes hands only once its old owner let it go."""

from __future__ import annotations

import asyncio

from shared.bus import Message
from shared.bus.base import partition_for
from shared.bus.embedded import EmbeddedBus
from tests.support.kafka import unique
from tests.support.waiting import eventually


async def test_a_member_joining_a_busy_group_does_not_get_records_another_member_is_still_handling(tmp_path):
    # A long session (nobody expires while a handler is held up) and frequent heartbeats.
    buses = [EmbeddedBus(tmp_path / "bus.sqlite3", poll_seconds=0.01, session_timeout=120.0, heartbeat=0.05)
             for _ in range(2)]
    for bus in buses:
        await bus.start()
    topic, group = unique("handover"), unique("g")
    # Member ids sort "a" before "b", so once both are in the group "b" should hold the odd
    # partitions: the first record goes to one of them.
    key = next(k for k in (f"case-{i}" for i in range(100)) if partition_for(k, buses[0].partitions) % 2 == 1)
    await buses[0].publish([Message(topic, key, b"first")])

    holding, release = asyncio.Event(), asyncio.Event()
    a_got, b_got = [], []

    async def slow(batch):
        holding.set()
        await release.wait()
        a_got.extend(r.value for r in batch)

    async def quick(batch):
        b_got.extend(r.value for r in batch)

    ca = buses[0].consumer(group=group, topics=[topic], handler=slow)
    cb = buses[1].consumer(group=group, topics=[topic], handler=quick)
    ca.member_id, cb.member_id = "a", "b"
    beats = 0
    heartbeat = cb._heartbeat

    async def counted_heartbeat():
        nonlocal beats
        await heartbeat()
        beats += 1

    cb._heartbeat = counted_heartbeat
    try:
        await ca.start()  # alone in the group: it owns every partition and starts on the record
        await asyncio.wait_for(holding.wait(), 60)
        await cb.start()
        # Three heartbeats of "b": each round after its first two (a read, then handling) is over.
        await eventually(lambda: beats >= 3, timeout=60, message="three heartbeats of the newcomer")
        assert b_got == [] and cb.assignment == []

        release.set()
        odd = [(topic, p) for p in range(buses[0].partitions) if p % 2 == 1]
        await eventually(lambda: cb.assignment == odd and ca.assignment and not set(ca.assignment) & set(odd),
                         timeout=60, message="the odd partitions handed over to the newcomer")
        await buses[0].publish([Message(topic, f"case-{i}", f"v{i}".encode()) for i in range(40)])
        await eventually(lambda: len(a_got) + len(b_got) >= 41, timeout=60, message="41 records across members")
    finally:
        release.set()
        await ca.stop()
        await cb.stop()
        for bus in buses:
            await bus.stop()
    assert sorted(a_got + b_got) == sorted([b"first"] + [f"v{i}".encode() for i in range(40)])
    assert b"first" in a_got and b_got
