"""The bus contract: what every backend (embedded log, Kafka) must do, checked the same way."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from shared.bus import Message
from tests.support.kafka import unique
from tests.support.waiting import eventually


class Collector:
    def __init__(self) -> None:
        self.records = []

    async def __call__(self, batch) -> None:
        self.records.extend(batch)

    def values(self) -> list[bytes]:
        return [r.value for r in self.records]


async def test_records_of_one_key_arrive_in_publish_order(buses):
    bus = await buses.new()
    topic = unique("order")
    sent: dict[str, list[bytes]] = defaultdict(list)
    for round_ in range(10):
        batch = []
        for i in range(20):
            key = f"case-{i % 7}"
            value = f"{key}:{round_}:{i}".encode()
            batch.append(Message(topic, key, value))
            sent[key].append(value)
        await bus.publish(batch)

    got = Collector()
    consumer = bus.consumer(group=unique("g"), topics=[topic], handler=got)
    await consumer.start()
    try:
        await eventually(lambda: len(got.records) >= 200, message="200 records")
    finally:
        await consumer.stop()
    received: dict[str, list[bytes]] = defaultdict(list)
    for r in got.records:
        received[r.key].append(r.value)
    assert received == sent


async def test_a_group_resumes_after_its_committed_offset_and_groups_are_independent(buses):
    bus = await buses.new()
    topic, group = unique("offsets"), unique("g")
    await bus.publish([Message(topic, f"k{i % 3}", f"first-{i}".encode()) for i in range(30)])

    first = Collector()
    consumer = bus.consumer(group=group, topics=[topic], handler=first)
    await consumer.start()
    await eventually(lambda: len(first.records) >= 30, message="first 30")
    await consumer.stop()

    await bus.publish([Message(topic, f"k{i % 3}", f"second-{i}".encode()) for i in range(30)])
    again = Collector()
    consumer = bus.consumer(group=group, topics=[topic], handler=again)
    await consumer.start()
    await eventually(lambda: len(again.records) >= 30, message="second 30")
    await asyncio.sleep(0.3)  # nothing more may arrive
    await consumer.stop()
    assert sorted(again.values()) == sorted(f"second-{i}".encode() for i in range(30))

    other = Collector()
    consumer = bus.consumer(group=unique("other"), topics=[topic], handler=other)
    await consumer.start()
    await eventually(lambda: len(other.records) >= 60, message="all 60 for a new group")
    await consumer.stop()


async def test_a_failed_handler_gets_the_same_records_again(buses):
    bus = await buses.new()
    topic = unique("retry")
    await bus.publish([Message(topic, "case-1", f"v{i}".encode()) for i in range(5)])
    attempts = []

    async def flaky(batch):
        attempts.append([r.value for r in batch])
        if len(attempts) == 1:
            raise RuntimeError("database unavailable")

    consumer = bus.consumer(group=unique("g"), topics=[topic], handler=flaky)
    consumer.retry_backoff = 0.05
    await consumer.start()
    try:
        await eventually(lambda: sum(len(a) for a in attempts[1:]) >= 5, message="redelivery")
    finally:
        await consumer.stop()
    assert attempts[0] == [f"v{i}".encode() for i in range(len(attempts[0]))]
    redelivered = [v for a in attempts[1:] for v in a]
    assert redelivered == [f"v{i}".encode() for i in range(5)]


async def test_records_not_committed_by_a_consumer_that_died_are_delivered_to_the_next(buses):
    bus = await buses.new()
    topic, group = unique("die"), unique("g")
    await bus.publish([Message(topic, "case-9", f"v{i}".encode()) for i in range(10)])
    seen = asyncio.Event()

    async def dies_mid_batch(batch):
        seen.set()
        await asyncio.sleep(3600)  # the process "dies" here, before the commit

    doomed = bus.consumer(group=group, topics=[topic], handler=dies_mid_batch)
    await doomed.start()
    await asyncio.wait_for(seen.wait(), 20)
    await doomed.stop()

    successor_bus = await buses.new()
    got = Collector()
    successor = successor_bus.consumer(group=group, topics=[topic], handler=got)
    await successor.start()
    try:
        await eventually(lambda: len(got.records) >= 10, message="redelivery to the successor")
    finally:
        await successor.stop()
    assert got.values() == [f"v{i}".encode() for i in range(10)]


async def test_two_members_of_a_group_share_the_work_without_losing_records(buses):
    bus_a, bus_b = await buses.new(), await buses.new()
    topic, group = unique("share"), unique("g")
    # The topic exists first (Kafka creates it on first use), so both members can be given partitions.
    await bus_a.publish([Message(topic, "warm-up", b"warm-up")])
    a, b = Collector(), Collector()
    ca = bus_a.consumer(group=group, topics=[topic], handler=a)
    cb = bus_b.consumer(group=group, topics=[topic], handler=b)
    await ca.start()
    await cb.start()
    try:
        # Both members hold partitions and agree on who holds which (the rebalance has settled).
        await eventually(lambda: ca.assignment and cb.assignment and not set(ca.assignment) & set(cb.assignment),
                         timeout=60, message="both members assigned, without overlap")
        await bus_a.publish([Message(topic, f"case-{i}", f"v{i}".encode()) for i in range(100)])
        await eventually(lambda: len(a.records) + len(b.records) >= 101, message="100 records across members")
    finally:
        await ca.stop()
        await cb.stop()
    assert sorted(a.values() + b.values()) == sorted([b"warm-up"] + [f"v{i}".encode() for i in range(100)])
    assert a.records and b.records
