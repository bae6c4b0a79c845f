"""A three-node Apache Kafka cluster (KRaft, every node broker and controller), started for this
module only: a partition leader dies while ``KafkaBus`` publishes and consumes through it."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.bus import Message
from shared.bus.kafka import KafkaBus
from tests.support import kafka_broker
from tests.support.kafka import unique
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(300)

WAIT = 90.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    missing = kafka_broker.missing_tools()
    if missing:
        pytest.skip(f"a local Kafka cluster needs {' and '.join(missing)}")
    kafka = kafka_broker.LocalKafka(tmp_path_factory.mktemp("kafka-cluster"), nodes=3)
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.stop(kill=True)


async def test_a_partition_leader_killed_mid_stream_loses_no_record_and_the_retried_sends_are_not_duplicated(cluster):
    """kill -9 of the node leading a partition while records are in flight: the producer retries
    them against the new leader, and idempotence keeps each record at one offset; the consumer
    group goes on from its committed offsets; the node comes back as a follower."""
    topic, group = unique("leader"), unique("g")
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=3)])
    finally:
        await admin.close()

    bus = KafkaBus(cluster.bootstrap, session_timeout_ms=6000, heartbeat_interval_ms=500)
    await bus.start()
    got: list = []

    async def collect(batch):
        got.extend(batch)

    consumer = bus.consumer(group=group, topics=[topic], handler=collect)
    published: list[Message] = []
    stop = asyncio.Event()

    async def publish_until_stopped():
        n = 0
        while not stop.is_set():
            batch = [Message(topic, f"case-{(n + i) % 10}", f"{n + i}".encode()) for i in range(20)]
            await bus.publish(batch)
            published.extend(batch)
            n += 20
            await asyncio.sleep(0.01)

    await consumer.start()
    publisher = asyncio.create_task(publish_until_stopped())
    try:
        await eventually(lambda: len(got) >= 200, timeout=WAIT, message="records flowing")
        leader = await asyncio.to_thread(cluster.leader, topic, 0)
        assert leader in (1, 2, 3)
        await asyncio.to_thread(cluster.node(leader).stop, kill=True)

        async def new_leader():
            return (await asyncio.to_thread(cluster.leader, topic, 0)) not in (leader, -1)

        await eventually(new_leader, timeout=WAIT, interval=0.2, message="a new leader for partition 0")
        before = len(published)
        await eventually(lambda: len(published) >= before + 100, timeout=WAIT, message="publishing on the new leader")
        await asyncio.to_thread(cluster.start)  # the killed node rejoins as a follower
        before = len(published)
        await eventually(lambda: len(published) >= before + 60, timeout=WAIT, message="publishing after it rejoined")
    finally:
        stop.set()
        await publisher

    try:
        await eventually(lambda: len({r.value for r in got}) >= len(published), timeout=WAIT,
                         message=f"all {len(published)} records consumed")
    finally:
        await consumer.stop()
        await bus.stop()

    # Redelivery to the consumer (a commit lost in the failover) is allowed: it is the same offset.
    at_offsets = {(r.partition, r.offset): r for r in got}
    in_log = Counter(r.value for r in at_offsets.values())
    assert set(in_log) == {m.value for m in published}
    assert [v for v, n in in_log.items() if n > 1] == [], "a retried send was written twice"
    per_key: dict[str, list[bytes]] = defaultdict(list)
    for (_, _), r in sorted(at_offsets.items()):
        per_key[r.key].append(r.value)
    sent_per_key: dict[str, list[bytes]] = defaultdict(list)
    for m in published:
        sent_per_key[m.key].append(m.value)
    assert dict(per_key) == dict(sent_per_key), "records of one key out of publish order"
