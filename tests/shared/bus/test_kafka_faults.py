"""Kafka under the faults production meets, on the session's Apache Kafka broker: a consumer group
whose members join, leave and are killed while events stream through it, and a broker restart
under load. The whole event path runs (unit of work, outbox relay, ``KafkaBus``, idempotent
consumer with its inbox on PostgreSQL); what a user would notice is checked: every committed event
has its effect exactly once, in commit order per case, and nothing stays unpublished.

These need a broker this test can restart and a real group coordinator, so they run on the local
Apache Kafka (not on an external ``ODR_TEST_KAFKA_BOOTSTRAP``, which they must not restart, nor
on the mock cluster of a machine without Java).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections import defaultdict

import pytest

from shared.bus import Message
from shared.bus.kafka import KafkaBus
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.kafka import unique
from tests.support.pipeline import MiniService, make_bus, ping_type
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(300)

WAIT = 90.0


@pytest.fixture
def local_kafka(kafka):
    if kafka.local is None:
        pytest.skip(f"needs the local Apache Kafka the tests start; this run uses {kafka.description}")
    return kafka


@pytest.fixture
async def pg_url():
    name, url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


class Stream:
    """Commits pings for ``cases`` cases, one round after another, until stopped."""

    def __init__(self, service: MiniService, cases: int = 8, pause: float = 0.05) -> None:
        self.service = service
        self.cases = cases
        self.pause = pause
        self.rounds = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def committed(self) -> int:
        return self.rounds * self.cases

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._stop.is_set():
            async with self.service.uow() as uow:
                for case in range(self.cases):
                    uow.publish(self.service.ping(case_id=f"case-{case}", seq=self.rounds))
                await uow.commit()
            self.rounds += 1
            await asyncio.sleep(self.pause)

    async def stop(self) -> int:
        self._stop.set()
        await self._task
        return self.committed


async def effects_by_member(service: MiniService) -> dict[str, int]:
    async with service.session_factory() as s:
        rows = (await s.execute(service.effects.select())).all()
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.member] += 1
    return counts


async def assert_exactly_once_in_order(service: MiniService, committed: int, cases: int) -> None:
    """Every committed event has its effect once, each case's in commit order; none unpublished."""
    async def all_handled():
        return len(await service.effect_rows()) >= committed

    await eventually(all_handled, timeout=WAIT, interval=0.1, message=f"{committed} effects")
    await asyncio.sleep(1.0)  # a duplicate would show up now
    rows = await service.effect_rows()
    assert len({event_id for _, _, event_id in rows}) == len(rows), "an event had its effect twice"
    per_case: dict[str, list[int]] = defaultdict(list)
    for case_id, seq, _ in rows:
        per_case[case_id].append(seq)
    rounds = committed // cases
    assert per_case == {f"case-{c}": list(range(rounds)) for c in range(cases)}
    assert await service.unpublished() == 0


@contextlib.asynccontextmanager
async def child_member(*, bootstrap: str, database_url: str, ping: str, group: str, member: str):
    """A group member in a process of its own (``python -m tests.support.pipeline``), to kill -9."""
    config = {"bus": {"kind": "kafka", "bootstrap": bootstrap}, "database_url": database_url, "ping": ping,
              "consume": group, "member": member}
    child = subprocess.Popen([sys.executable, "-m", "tests.support.pipeline", json.dumps(config)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)
        assert line.strip() == "CONSUMING", child.stderr.read()[-3000:] if child.poll() is not None else line
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)


async def test_members_joining_leaving_and_killed_mid_stream_lose_no_event_and_duplicate_no_effect(local_kafka, pg_url):
    kafka = local_kafka
    ping_name, group = unique("members"), unique("g")
    bus_a = make_bus({"kind": "kafka", "bootstrap": kafka.bootstrap})
    bus_c = make_bus({"kind": "kafka", "bootstrap": kafka.bootstrap})
    await bus_a.start()
    await bus_c.start()
    service = MiniService(database_url=pg_url, bus=bus_a, ping=ping_type(ping_name), member="a")
    member_c = MiniService(database_url=pg_url, bus=bus_c, ping=ping_type(ping_name), member="c")
    await service.create_tables()
    stream = Stream(service)
    try:
        await service.start_consumer(group)
        await service.relay.start()
        stream.start()

        async def member_has_effects(name: str, more_than: int = 0):
            return (await effects_by_member(service)).get(name, 0) > more_than

        await eventually(lambda: member_has_effects("a"), timeout=WAIT, message="member a handling")
        async with child_member(bootstrap=kafka.bootstrap, database_url=pg_url, ping=ping_name, group=group,
                                member="b") as child_b:
            # b joins: the group rebalances mid-stream and b takes partitions over from a.
            await eventually(lambda: member_has_effects("b"), timeout=WAIT, message="member b handling")
            # c joins too.
            await member_c.start_consumer(group)
            await eventually(lambda: member_has_effects("c"), timeout=WAIT, message="member c handling")
            # a leaves the group in order.
            await service.consumer.stop()
            service.consumer = None
            after_leave = (await effects_by_member(service)).get("c", 0)
            await eventually(lambda: member_has_effects("c", after_leave), timeout=WAIT,
                             message="member c handling after a left")
            # b is killed: no goodbye, its uncommitted batches go to c after the session timeout.
            b_before = (await effects_by_member(service)).get("b", 0)
            await eventually(lambda: member_has_effects("b", b_before), timeout=WAIT,
                             message="member b busy when it is killed")
            child_b.send_signal(signal.SIGKILL)
            child_b.wait(10)
        committed_at_kill = stream.committed
        await eventually(lambda: _at_least(service, committed_at_kill), timeout=WAIT,
                         message="everything committed before the kill handled by the survivor")
        committed = await stream.stop()
        await assert_exactly_once_in_order(service, committed, stream.cases)
        counts = await effects_by_member(service)
        assert set(counts) == {"a", "b", "c"}, counts
    finally:
        if not stream._stop.is_set() and stream._task is not None:
            await stream.stop()
        await member_c.close()
        await service.close()
        await bus_a.stop()
        await bus_c.stop()


async def _at_least(service: MiniService, n: int) -> bool:
    return len(await service.effect_rows()) >= n


async def test_a_broker_restart_under_load_loses_no_event_and_duplicates_no_effect(local_kafka, pg_url):
    kafka = local_kafka
    bus = make_bus({"kind": "kafka", "bootstrap": kafka.bootstrap})
    await bus.start()
    service = MiniService(database_url=pg_url, bus=bus, ping=ping_type(unique("restart")))
    await service.create_tables()
    stream = Stream(service)
    try:
        await service.start_consumer(unique("g"))
        await service.relay.start()
        stream.start()
        await eventually(lambda: _at_least(service, 40), timeout=WAIT, message="events flowing")
        # kill -9 of the broker while the relay publishes and the consumer fetches and commits;
        # events keep being committed to the outbox while it is down.
        await asyncio.to_thread(kafka.local.restart, kill=True)
        restarted_at = stream.committed
        await eventually(lambda: _at_least(service, restarted_at + 40), timeout=WAIT,
                         message="events flowing again after the restart")
        committed = await stream.stop()
        await assert_exactly_once_in_order(service, committed, stream.cases)
    finally:
        if not stream._stop.is_set() and stream._task is not None:
            await stream.stop()
        await service.close()
        await bus.stop()


async def test_a_bus_started_while_the_broker_is_down_waits_for_it_instead_of_failing(local_kafka):
    """A service process that starts during a broker restart (a replica killed at the wrong
    moment, a rolling upgrade) comes up once the broker is back, rather than exiting."""
    kafka = local_kafka
    topic, group = unique("late"), unique("g")
    bus = KafkaBus(kafka.bootstrap, session_timeout_ms=6000, heartbeat_interval_ms=500)
    got = []

    async def collect(batch):
        got.extend(batch)

    consumer = bus.consumer(group=group, topics=[topic], handler=collect)
    await asyncio.to_thread(kafka.local.stop)
    try:
        starting = asyncio.create_task(bus.start())
        joining = asyncio.create_task(consumer.start())
        await asyncio.sleep(2.0)
        assert not starting.done() and not joining.done(), "gave up while the broker was down"
    finally:
        await asyncio.to_thread(kafka.local.start)
    await asyncio.wait_for(asyncio.gather(starting, joining), WAIT)
    try:
        await bus.publish([Message(topic, "case-1", b"after the restart")])
        await eventually(lambda: got, timeout=WAIT, message="the record published after the broker came back")
    finally:
        await consumer.stop()
        await bus.stop()
    assert [r.value for r in got] == [b"after the restart"]
