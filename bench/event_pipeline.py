"""Event-pipeline benchmark: our outbox → relay → bus → idempotent consumer path, side by side
with a bare aiokafka loop, in one run.

Three pipelines, each fed the same way (producer transactions of ``--txn-size`` events spread over
``--keys`` case keys) and measured the same way (commit timestamp carried in the event, handled
timestamp taken in the consumer's handler):

1. ``embedded``      UnitOfWork → outbox (SQLite) → OutboxRelay → EmbeddedBus (SQLite log)
                     → bus consumer → IdempotentConsumer (inbox in a second SQLite database)
2. ``kafka``         the same, with KafkaBus on the broker from ``tests.support.kafka``
                     (a local Apache Kafka node, or the Kafka in ``ODR_TEST_KAFKA_BOOTSTRAP``)
3. ``bare-aiokafka`` a plain AIOKafkaProducer (idempotent, acks=all) / AIOKafkaConsumer (manual
                     commit) loop on the same broker, same number and size of messages

Each pipeline runs two timed phases after a warm-up (consumer group joined, first events handled):
``throughput`` (the producer commits as fast as it can) and ``paced`` (a fixed offered rate, so the
latency figures are not just the length of a backlog).

    uv run python -m bench.event_pipeline [--events N] [--quick] [--json out.json]

See ``bench/README.md`` for what the figures mean and what we measured.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import MetaData, func, select

from shared.bus.embedded import EmbeddedBus
from shared.config import Settings
from shared.db import create_engine, create_session_factory
from shared.events import Event, envelope, event
from shared.inbox import IdempotentConsumer
from shared.outbox import OutboxRelay
from shared.service import platform_tables
from shared.uow import UnitOfWork

GOAL_EMBEDDED_EVENTS_PER_S = 5_000
GOAL_OVERHEAD_PCT = 25.0
WARMUP_TIMEOUT = 30.0  # the consumer group join takes ~3 s on the mock cluster, well under 1 s on Kafka
PACED_GRACE = 15.0
PIPELINES = ("embedded", "kafka", "bare-aiokafka")
CONSUMER_NAME = "bench.pipeline"
EXPERIMENT: str | None = None  # set by bench.batched_inbox_experiment; recorded with the figures


@event
class BenchPipelineEvent(Event):
    """Benchmark-only event: a sequence number and the producer's commit timestamp (``time.time()``)."""

    type: ClassVar[str] = "odr.bench.pipeline.v1"
    topic: ClassVar[str] = "bench.pipeline"
    summary: ClassVar[str] = "Benchmark event of bench/event_pipeline.py (never published by a service)."

    seq: int
    committed_at: float


def event_type_on(topic: str) -> type[BenchPipelineEvent]:
    """The benchmark event on a topic of its own (a fresh Kafka topic per run), registered like any
    event so UnitOfWork finds its topic by type."""
    if topic == BenchPipelineEvent.topic:
        return BenchPipelineEvent
    suffix = "".join(c if c.isalnum() else "_" for c in topic)
    cls = type(f"BenchPipelineEvent_{suffix}", (BenchPipelineEvent,),
               {"type": f"odr.bench.pipeline.{suffix}.v1", "topic": topic, "__module__": __name__})
    return event(cls)


def _default(name: str) -> Any:
    """Production defaults from Settings, so the benchmark follows them when they change."""
    return Settings.model_fields[name].default


# -- measurement -------------------------------------------------------------------------------


class Phase:
    """Events with sequence numbers in ``seqs``: when each was committed and handled."""

    def __init__(self, name: str, seqs: range) -> None:
        self.name = name
        self.seqs = seqs
        self.expected = len(seqs)
        self.commit_times: list[float] = []  # the timestamp carried by each transaction's events
        self.commit_ends: list[float] = []  # when each producer transaction returned
        self.handled_at: dict[int, float] = {}
        self.latencies: list[float] = []
        self.duplicates = 0
        self.committed = 0  # events whose transaction returned
        self.commit_seconds = 0.0  # time the producers spent in their transactions
        self.cpu_seconds = 0.0  # process CPU time (all threads) from the first commit to the last handled
        self.done = asyncio.Event()

    def handled(self, seq: int, committed_at: float, now: float) -> None:
        if seq in self.handled_at:  # a redelivery, or a batch retried after a rollback
            self.duplicates += 1
            return
        self.handled_at[seq] = now
        self.latencies.append(now - committed_at)
        if len(self.handled_at) >= self.expected:
            self.done.set()

    def result(self, *, rate: float | None, timed_out: bool) -> dict:
        n = len(self.handled_at)
        first_commit = min(self.commit_times) if self.commit_times else float("nan")
        last_handled = max(self.handled_at.values()) if self.handled_at else float("nan")
        last_commit_end = max(self.commit_ends) if self.commit_ends else float("nan")
        elapsed = last_handled - first_commit
        lat = sorted(self.latencies)
        return {
            "phase": self.name,
            "offered_rate": rate,
            "events": self.expected,
            "handled": n,
            "complete": n == self.expected and not timed_out,
            "duplicates_seen_by_handler": self.duplicates,
            "elapsed_s": elapsed,
            "events_per_s": n / elapsed if n and elapsed > 0 else 0.0,
            "producer_events_per_s": self.committed / (last_commit_end - first_commit) if self.committed else 0.0,
            "producer_us_per_event": self.commit_seconds / self.committed * 1e6 if self.committed else 0.0,
            # CPU time of the whole process per handled event: unlike events/s, hardly moved by
            # other work on the machine, so the figure to compare two versions by.
            "cpu_us_per_event": self.cpu_seconds / n * 1e6 if n else 0.0,
            "latency_ms": {
                "p50": _pct(lat, 50) * 1e3,
                "p90": _pct(lat, 90) * 1e3,
                "p99": _pct(lat, 99) * 1e3,
                "max": (lat[-1] if lat else float("nan")) * 1e3,
            },
        }


def _pct(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


class Recorder:
    """Routes a handled event to the phase its sequence number belongs to."""

    def __init__(self) -> None:
        self.phases: list[Phase] = []
        self.stray = 0

    def phase(self, name: str, seqs: range) -> Phase:
        p = Phase(name, seqs)
        self.phases.append(p)
        return p

    def handled(self, seq: int, committed_at: float) -> None:
        now = time.time()
        for p in reversed(self.phases):
            if seq in p.seqs:
                p.handled(seq, committed_at, now)
                return
        self.stray += 1


class WarningCounter(logging.Handler):
    """Counts warnings of the platform's loggers (relay retries, handler failures, consumer errors)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.name}: {record.getMessage()}"
        self.counts[key] = self.counts.get(key, 0) + 1


class StageTimer:
    """Time one stage of a pipeline spends, and how many events it moved."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.events = 0

    def add(self, seconds: float, events: int) -> None:
        self.seconds += seconds
        self.calls += 1
        self.events += events

    def summary(self) -> dict:
        return {
            "seconds": self.seconds,
            "calls": self.calls,
            "events": self.events,
            "avg_batch": self.events / self.calls if self.calls else 0.0,
            "us_per_event": self.seconds / self.events * 1e6 if self.events else 0.0,
        }


def case_key(seq: int, keys: int) -> str:
    return f"case-{seq % keys:04d}"


# -- pipelines -------------------------------------------------------------------------------


class Pipeline(abc.ABC):
    name: str

    def __init__(self, recorder: Recorder, keys: int) -> None:
        self.recorder = recorder
        self.keys = keys

    @abc.abstractmethod
    async def start_producer(self) -> None: ...

    @abc.abstractmethod
    async def start_consumer(self) -> None: ...

    @abc.abstractmethod
    async def commit(self, seqs: range) -> float:
        """One producer transaction of ``seqs``; returns the commit timestamp the events carry."""

    @abc.abstractmethod
    async def stop(self) -> None: ...

    async def verify(self, expected: int) -> dict:
        return {}

    def diagnostics(self) -> dict:
        return {}


class OursPipeline(Pipeline):
    """UnitOfWork → outbox → OutboxRelay → bus → consumer → IdempotentConsumer (inbox)."""

    def __init__(self, recorder: Recorder, keys: int, *, name: str, workdir: Path, bus_factory, topic: str,
                 group: str) -> None:
        super().__init__(recorder, keys)
        self.name = name
        self.workdir = workdir
        self.bus_factory = bus_factory
        self.topic = topic
        self.group = group
        self.stage = {name: StageTimer() for name in ("relay_round", "bus_publish", "consumer_handler")}
        self.consumer = None
        self.relay: OutboxRelay | None = None
        self.bus = None

    async def start_producer(self) -> None:
        self.event_cls = event_type_on(self.topic)
        self.metadata = MetaData()
        self.outbox, self.inbox = platform_tables(self.metadata)
        self.producer_engine = create_engine(f"sqlite+aiosqlite:///{self.workdir / 'producer.sqlite3'}")
        self.consumer_engine = create_engine(f"sqlite+aiosqlite:///{self.workdir / 'consumer.sqlite3'}")
        for engine in (self.producer_engine, self.consumer_engine):
            async with engine.begin() as conn:
                await conn.run_sync(self.metadata.create_all)
        self.producer_sessions = create_session_factory(self.producer_engine)
        self.consumer_sessions = create_session_factory(self.consumer_engine)

        self.bus = self.bus_factory()
        await self.bus.start()
        self.relay = OutboxRelay(table=self.outbox, session_factory=self.producer_sessions, bus=self.bus,
                                 batch_size=_default("relay_batch_size"), poll_seconds=_default("relay_poll_seconds"),
                                 linger_seconds=_default("relay_linger_seconds"))
        # Instrumentation only (instance attributes shadow the methods; nothing in shared/ changes):
        # how big the relay's batches are and how long each stage spends per event.
        publish, publish_pending = self.bus.publish, self.relay.publish_pending

        async def timed_publish(messages):
            t = time.perf_counter()
            await publish(messages)
            self.stage["bus_publish"].add(time.perf_counter() - t, len(messages))

        async def timed_publish_pending():
            t = time.perf_counter()
            n = await publish_pending()
            if n:
                self.stage["relay_round"].add(time.perf_counter() - t, n)
            return n

        self.bus.publish = timed_publish
        self.relay.publish_pending = timed_publish_pending
        await self.relay.start()

    def producer_uow(self) -> UnitOfWork:
        return UnitOfWork(session_factory=self.producer_sessions, outbox=self.outbox, source="/odr/bench-producer",
                          on_commit=self.relay.notify)

    def consumer_uow(self) -> UnitOfWork:
        return UnitOfWork(session_factory=self.consumer_sessions, outbox=self.outbox, source="/odr/bench-consumer")

    async def _handle(self, session, evt: BenchPipelineEvent, ce) -> None:
        self.recorder.handled(evt.seq, evt.committed_at)

    async def start_consumer(self) -> None:
        handler = IdempotentConsumer(name=CONSUMER_NAME, table=self.inbox, uow_factory=self.consumer_uow,
                                     handlers={self.event_cls.type: self._handle})

        async def timed_handler(records):
            t = time.perf_counter()
            await handler(records)
            self.stage["consumer_handler"].add(time.perf_counter() - t, len(records))

        self.consumer = self.bus.consumer(group=self.group, topics=[self.topic], handler=timed_handler)
        await self.consumer.start()

    async def commit(self, seqs: range) -> float:
        # The timestamp is taken before the events are staged, so the latency includes building the
        # envelopes (~20 µs per event) as well as the outbox insert and the commit itself.
        async with self.producer_uow() as uow:
            now = time.time()
            for seq in seqs:
                uow.publish(self.event_cls(case_id=case_key(seq, self.keys), seq=seq, committed_at=now))
            await uow.commit()
        return now

    async def verify(self, expected: int) -> dict:
        """Exactly-once effect: one inbox row per event, every outbox row published."""
        deadline = time.monotonic() + 10
        while True:
            async with self.consumer_sessions() as s:
                inbox_rows = (await s.execute(select(func.count()).select_from(self.inbox)
                                              .where(self.inbox.c.status == "handled"))).scalar_one()
            async with self.producer_sessions() as s:
                unpublished = (await s.execute(select(func.count()).select_from(self.outbox)
                                               .where(self.outbox.c.published_at.is_(None)))).scalar_one()
            if (inbox_rows >= expected and unpublished == 0) or time.monotonic() > deadline:
                return {"inbox_rows": inbox_rows, "outbox_unpublished": unpublished, "expected": expected}
            await asyncio.sleep(0.05)

    def diagnostics(self) -> dict:
        stats = self.consumer.stats if self.consumer else None
        return {
            "stages": {name: t.summary() for name, t in self.stage.items()},
            "consumer_failed_batches": stats.failed_batches if stats else 0,
        }

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self.bus is not None:
            await self.bus.stop()
        for engine in (getattr(self, "producer_engine", None), getattr(self, "consumer_engine", None)):
            if engine is not None:
                await engine.dispose()


class BareKafkaPipeline(Pipeline):
    """A plain aiokafka producer/consumer loop with the same client settings as KafkaBus."""

    name = "bare-aiokafka"

    def __init__(self, recorder: Recorder, keys: int, *, bootstrap: str, topic: str, group: str,
                 value_size: int) -> None:
        super().__init__(recorder, keys)
        self.bootstrap = bootstrap
        self.topic = topic
        self.group = group
        self.value_size = value_size
        self.producer = None
        self.consumer = None
        self._task: asyncio.Task | None = None
        self.stage = {"consumer_handler": StageTimer()}

    def value(self, seq: int, committed_at: float) -> bytes:
        """A JSON value as large as our CloudEvents envelope of the same event."""
        body = {"id": str(uuid.uuid4()), "subject": case_key(seq, self.keys), "seq": seq, "committed_at": committed_at}
        raw = json.dumps(body, separators=(",", ":"))
        pad = self.value_size - len(raw) - len(',"pad":""')
        if pad > 0:
            body["pad"] = "x" * pad
            raw = json.dumps(body, separators=(",", ":"))
        return raw.encode()

    async def start_producer(self) -> None:
        from aiokafka import AIOKafkaProducer

        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, client_id="bench-bare-producer",
                                         enable_idempotence=True, acks="all", linger_ms=2)
        await self.producer.start()

    async def commit(self, seqs: range) -> float:
        now = time.time()
        futures = [await self.producer.send(self.topic, key=case_key(seq, self.keys).encode(), value=self.value(seq, now))
                   for seq in seqs]
        await asyncio.gather(*futures)
        return now

    async def start_consumer(self) -> None:
        from aiokafka import AIOKafkaConsumer

        self.consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap, client_id="bench-bare-consumer", group_id=self.group,
            enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed",
            session_timeout_ms=10000, heartbeat_interval_ms=1000,
        )
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        consumer = self.consumer
        while True:
            fetched = await consumer.getmany(timeout_ms=200, max_records=500)
            if not fetched:
                continue
            t = time.perf_counter()
            for msgs in fetched.values():
                for m in msgs:
                    body = json.loads(m.value)
                    self.recorder.handled(body["seq"], body["committed_at"])
            await consumer.commit({tp: msgs[-1].offset + 1 for tp, msgs in fetched.items()})
            self.stage["consumer_handler"].add(time.perf_counter() - t, sum(len(msgs) for msgs in fetched.values()))

    def diagnostics(self) -> dict:
        return {"stages": {name: t.summary() for name, t in self.stage.items()}}

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        if self.consumer is not None:
            await self.consumer.stop()
        if self.producer is not None:
            await self.producer.stop()


# -- driver ----------------------------------------------------------------------------------


@dataclass
class Config:
    events: int
    paced_events: int
    rate: float
    txn_size: int
    keys: int
    producers: int
    warmup_events: int
    phase_timeout: float
    pipelines: list[str] = field(default_factory=lambda: list(PIPELINES))


async def run_phase(pipe: Pipeline, phase: Phase, cfg: Config, rate: float | None, timeout: float) -> dict:
    """Commit ``phase.seqs`` in transactions of ``cfg.txn_size`` from ``cfg.producers`` concurrent
    producers (as fast as possible, or at ``rate`` events/s) and wait until all are handled."""
    seqs = phase.seqs
    batches = iter([seqs[i:i + cfg.txn_size] for i in range(0, len(seqs), cfg.txn_size)])
    start = time.monotonic()
    deadline = start + timeout
    cpu_start = time.process_time()  # every thread of this process: the loop, SQLite's, the bus's

    stopping = False

    async def producer() -> None:
        for batch in batches:  # one iterator shared by all producers
            if stopping:
                return
            if rate:
                due = start + (batch.start - seqs.start) / rate
                if due > time.monotonic():
                    await asyncio.sleep(due - time.monotonic())
            t = time.perf_counter()
            ts = await pipe.commit(batch)
            phase.commit_seconds += time.perf_counter() - t
            phase.commit_times.append(ts)
            phase.commit_ends.append(time.time())
            phase.committed += len(batch)

    producers = [asyncio.create_task(producer()) for _ in range(cfg.producers)]
    _, pending = await asyncio.wait(producers, timeout=max(0.0, deadline - time.monotonic()))
    timed_out = bool(pending)
    if pending:
        # Let each producer finish the transaction it is in (cancelling one inside a SQLite
        # transaction only makes noise), then give up on them.
        stopping = True
        _, pending = await asyncio.wait(pending, timeout=10)
        for t in pending:
            t.cancel()
        await asyncio.gather(*producers, return_exceptions=True)
    else:
        for t in producers:
            t.result()  # a failed transaction fails the phase
        try:
            await asyncio.wait_for(phase.done.wait(), timeout=max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            timed_out = True
    phase.cpu_seconds = time.process_time() - cpu_start
    return phase.result(rate=rate, timed_out=timed_out)


async def run_pipeline(make, cfg: Config) -> dict:
    recorder = Recorder()
    pipe: Pipeline = make(recorder)
    warm = recorder.phase("warm-up", range(0, cfg.warmup_events))
    throughput = recorder.phase("throughput", range(cfg.warmup_events, cfg.warmup_events + cfg.events))
    paced_start = cfg.warmup_events + cfg.events
    paced = recorder.phase("paced", range(paced_start, paced_start + cfg.paced_events))
    out: dict[str, Any] = {"pipeline": pipe.name}
    t0 = time.monotonic()
    try:
        await pipe.start_producer()
        # Warm-up: the first events exist before the consumer starts (so the Kafka topic exists and
        # is auto-created), then the consumer joins its group and handles them.
        for i in range(0, cfg.warmup_events, cfg.txn_size):
            warm.commit_times.append(await pipe.commit(warm.seqs[i:i + cfg.txn_size]))
        await pipe.start_consumer()
        try:
            await asyncio.wait_for(warm.done.wait(), timeout=WARMUP_TIMEOUT)
        except asyncio.TimeoutError:
            raise RuntimeError(f"{pipe.name}: the warm-up events were not handled within the timeout") from None
        out["warmup_s"] = time.monotonic() - t0
        out["throughput"] = await run_phase(pipe, throughput, cfg, None, cfg.phase_timeout)
        if cfg.paced_events and not out["throughput"]["complete"]:
            out["paced_skipped"] = "the throughput phase did not finish, its backlog would distort the latencies"
        elif cfg.paced_events:
            # Offering the events takes paced_events / rate; allow a backlog to drain after that.
            out["paced"] = await run_phase(pipe, paced, cfg, cfg.rate, cfg.paced_events / cfg.rate + PACED_GRACE)
        out["verify"] = await pipe.verify(cfg.warmup_events + cfg.events + cfg.paced_events)
        out["diagnostics"] = pipe.diagnostics()
        out["diagnostics"]["stray_events"] = recorder.stray
    except Exception as exc:  # one pipeline failing must not lose the others' figures
        logging.getLogger("bench").exception("%s pipeline failed", pipe.name)
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            await asyncio.wait_for(pipe.stop(), timeout=30)
        except Exception as exc:  # report, do not hide the measurement
            out["stop_error"] = repr(exc)
    out["total_s"] = time.monotonic() - t0
    return out


def envelope_size() -> int:
    ce = envelope(BenchPipelineEvent(case_id=case_key(42, 100), seq=123_456, committed_at=time.time()),
                  source="/odr/bench-producer")
    return len(ce.to_bytes())


async def main_async(cfg: Config, counter: WarningCounter) -> dict:
    from tests.support.kafka import KafkaForTests, unique

    results: dict[str, Any] = {"config": cfg.__dict__, "environment": environment(), "pipelines": {}}
    value_size = envelope_size()
    results["environment"]["message_bytes"] = value_size
    with tempfile.TemporaryDirectory(prefix="odr-bench-") as tmp:
        tmpdir = Path(tmp)
        kafka = None
        try:
            if "embedded" in cfg.pipelines:
                work = tmpdir / "embedded"
                work.mkdir()

                def embedded_bus():
                    return EmbeddedBus(work / "bus.sqlite3", poll_seconds=_default("consumer_poll_seconds"))

                results["pipelines"]["embedded"] = await run_pipeline(
                    lambda r: OursPipeline(r, cfg.keys, name="embedded", workdir=work, bus_factory=embedded_bus,
                                           topic="bench.pipeline", group=CONSUMER_NAME), cfg)
            kafka_pipelines = [p for p in ("kafka", "bare-aiokafka") if p in cfg.pipelines]
            if kafka_pipelines:
                t = time.monotonic()
                try:
                    kafka = KafkaForTests()
                except Exception as exc:
                    logging.getLogger("bench").exception("no Kafka broker")
                    for name in kafka_pipelines:
                        results["pipelines"][name] = {"pipeline": name, "error": f"no Kafka broker: {exc!r}"}
                    kafka_pipelines = []
                else:
                    results["environment"]["kafka"] = kafka.description
                    results["environment"]["kafka_start_s"] = time.monotonic() - t
            if "kafka" in kafka_pipelines:
                from shared.bus.kafka import KafkaBus

                work = tmpdir / "kafka"
                work.mkdir()
                results["pipelines"]["kafka"] = await run_pipeline(
                    lambda r: OursPipeline(r, cfg.keys, name="kafka", workdir=work,
                                           bus_factory=lambda: KafkaBus(kafka.bootstrap, client_id=unique("bench")),
                                           topic=unique("bench.pipeline"), group=unique("bench.pipeline")), cfg)
            if "bare-aiokafka" in kafka_pipelines:
                results["pipelines"]["bare-aiokafka"] = await run_pipeline(
                    lambda r: BareKafkaPipeline(r, cfg.keys, bootstrap=kafka.bootstrap, topic=unique("bench.bare"),
                                                group=unique("bench.bare"), value_size=value_size), cfg)
        finally:
            if kafka is not None:
                kafka.close()
    results["ratios"] = ratios(results["pipelines"])
    results["platform_warnings"] = counter.counts
    return results


def ratios(p: dict) -> dict:
    out: dict[str, Any] = {}
    emb = p.get("embedded", {}).get("throughput")
    if emb:
        out["embedded_events_per_s"] = emb["events_per_s"]
        out["embedded_vs_goal"] = emb["events_per_s"] / GOAL_EMBEDDED_EVENTS_PER_S
        out["embedded_goal_met"] = emb["events_per_s"] >= GOAL_EMBEDDED_EVENTS_PER_S
    ours, bare = p.get("kafka", {}).get("throughput"), p.get("bare-aiokafka", {}).get("throughput")
    if ours and bare and ours["events_per_s"] > 0:
        overhead = (bare["events_per_s"] / ours["events_per_s"] - 1) * 100
        out["kafka_overhead_over_bare_pct"] = overhead
        out["kafka_overhead_goal_met"] = overhead <= GOAL_OVERHEAD_PCT
        # On the mock cluster the bare consumer (faster than its producer) keeps catching up, and a
        # fetch that finds nothing waits the full fetch_max_wait_ms even if records arrive, so its
        # last events can lag up to 0.5 s: its end-to-end figure is understated. Its producer rate
        # bounds what it would do on a real broker, so this is the overhead's other end.
        if bare["producer_events_per_s"] > bare["events_per_s"]:
            out["kafka_overhead_vs_bare_producer_rate_pct"] = (bare["producer_events_per_s"] / ours["events_per_s"] - 1) * 100
    ours_p, bare_p = p.get("kafka", {}).get("paced"), p.get("bare-aiokafka", {}).get("paced")
    if ours_p and bare_p:
        out["paced_p50_added_ms"] = ours_p["latency_ms"]["p50"] - bare_p["latency_ms"]["p50"]
        out["paced_p99_added_ms"] = ours_p["latency_ms"]["p99"] - bare_p["latency_ms"]["p99"]
    return out


def environment() -> dict:
    import aiokafka
    import sqlalchemy

    try:
        import confluent_kafka

        librdkafka = confluent_kafka.libversion()[0]
    except Exception:  # pragma: no cover - only the test group installs it
        librdkafka = None
    return {
        "experiment": EXPERIMENT,
        "git": _git_state(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "aiokafka": aiokafka.__version__,
        "librdkafka": librdkafka,
        "event_loop": type(asyncio.get_event_loop_policy()).__module__,
    }


def _git_state() -> str | None:
    """The commit measured, and whether the working tree differed from it."""
    import subprocess

    try:
        root = Path(__file__).resolve().parent.parent
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "shared"], cwd=root, capture_output=True,
                               text=True, timeout=5).stdout.strip()
        return f"{head}{' + uncommitted changes in shared/' if dirty else ''}" if head else None
    except Exception:
        return None


def print_report(results: dict) -> None:
    cfg = results["config"]
    env = results["environment"]
    print()
    if env.get("experiment"):
        print(f"EXPERIMENT ({env['experiment']}): not the platform's figures")
    print(f"event pipeline: {cfg['events']:,} events unpaced, then {cfg['paced_events']:,} paced at {cfg['rate']:,.0f}/s; "
          f"{cfg['txn_size']} events per transaction, {cfg['producers']} producer(s), {cfg['keys']} case keys, "
          f"{env['message_bytes']} B messages")
    print(f"code {env.get('git')}; python {env['python']} ({env['event_loop']}), {env['cpus']} CPUs, sqlite {env['sqlite']}, "
          f"aiokafka {env['aiokafka']}, kafka: {env.get('kafka', '-')}")
    print()
    head = (f"{'pipeline':<14} {'events/s':>9} {'producer/s':>10} {'p50 ms':>8} {'p99 ms':>8} │ "
            f"{'paced p50':>9} {'paced p99':>9} {'paced max':>9}  notes")
    print(head)
    print("─" * (len(head) + 10))
    for name, r in results["pipelines"].items():
        t, pc = r.get("throughput"), r.get("paced")
        if not t:
            print(f"{name:<14} (no result: {r.get('error', 'failed')})")
            continue
        notes = []
        for ph in (t, pc):
            if ph and not ph["complete"]:
                notes.append(f"{ph['phase']} INCOMPLETE {ph['handled']}/{ph['events']}")
            if ph and ph["duplicates_seen_by_handler"]:
                notes.append(f"{ph['phase']}: {ph['duplicates_seen_by_handler']} handled twice")
        v = r.get("verify") or {}
        if v and (v.get("inbox_rows") != v.get("expected") or v.get("outbox_unpublished")):
            notes.append(f"inbox rows {v.get('inbox_rows')}/{v.get('expected')}, unpublished {v.get('outbox_unpublished')}")
        line = (f"{name:<14} {t['events_per_s']:>9,.0f} {t['producer_events_per_s']:>10,.0f} "
                f"{t['latency_ms']['p50']:>8.0f} {t['latency_ms']['p99']:>8.0f} │ ")
        if pc:
            line += f"{pc['latency_ms']['p50']:>9.1f} {pc['latency_ms']['p99']:>9.1f} {pc['latency_ms']['max']:>9.1f}"
        else:
            line += f"{'-':>9} {'-':>9} {'-':>9}"
        print(line + "  " + "; ".join(notes))
    print()
    print("events/s   end to end, first commit → last handled, producers committing as fast as they can")
    print("producer/s the producers' commit rate alone; p50/p99: commit → handled in that phase (mostly backlog)")
    print(f"paced      commit → handled with {cfg['rate']:,.0f} events/s offered (the latency at a load the pipeline can take)")
    print()
    print("where the time goes (unpaced + paced + warm-up), µs per event and average batch; stages run")
    print("concurrently, so the slowest one bounds events/s:")
    for name, r in results["pipelines"].items():
        t = r.get("throughput")
        if not t:
            continue
        parts = [f"CPU {t.get('cpu_us_per_event', 0):,.0f} (all threads)", f"producer txn {t['producer_us_per_event']:,.0f}"]
        stages = r.get("diagnostics", {}).get("stages", {})
        labels = {"relay_round": "relay round", "bus_publish": "of which bus.publish", "consumer_handler": "consumer handler"}
        for key, label in labels.items():
            st = stages.get(key)
            if st and st["events"]:
                parts.append(f"{label} {st['us_per_event']:,.0f} (batch {st['avg_batch']:.0f})")
        print(f"  {name:<14} " + ", ".join(parts))
    print()
    rt = results["ratios"]
    if "embedded_events_per_s" in rt:
        print(f"embedded vs goal {GOAL_EMBEDDED_EVENTS_PER_S:,}/s: {rt['embedded_events_per_s']:,.0f}/s = "
              f"{rt['embedded_vs_goal']:.0%} of goal  [{'met' if rt['embedded_goal_met'] else 'NOT met'}]")
    if "kafka_overhead_over_bare_pct" in rt:
        print(f"our layer's overhead over bare aiokafka (bare/ours - 1): {rt['kafka_overhead_over_bare_pct']:+,.0f}%  "
              f"(goal ≤ {GOAL_OVERHEAD_PCT:.0f}%)  [{'met' if rt['kafka_overhead_goal_met'] else 'NOT met'}]")
        if "kafka_overhead_vs_bare_producer_rate_pct" in rt:
            print(f"  (against bare's producer rate instead, which its end-to-end figure would reach on a real broker: "
                  f"{rt['kafka_overhead_vs_bare_producer_rate_pct']:+,.0f}%)")
    if "paced_p50_added_ms" in rt:
        print(f"latency our layer adds over bare aiokafka at {cfg['rate']:,.0f}/s: p50 {rt['paced_p50_added_ms']:+.1f} ms, "
              f"p99 {rt['paced_p99_added_ms']:+.1f} ms")
    if env.get("kafka", "").startswith("librdkafka"):
        print("(mock cluster: a fetch waits fetch_max_wait_ms = 500 ms even when records arrive, so Kafka latencies")
        print(" here are ~uniform over 0-500 ms; a real broker answers at once.)")
    if results.get("platform_warnings"):
        print()
        print("warnings logged by the platform during the run:")
        for msg, n in results["platform_warnings"].items():
            print(f"  {n:>5} × {msg}")


def parse_args(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace]:
    ap = argparse.ArgumentParser(prog="python -m bench.event_pipeline", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, help="events in the unpaced (throughput) phase [default 6000; --quick 1500]")
    ap.add_argument("--paced-events", type=int, help="events in the paced (latency) phase [default 1000; --quick 400]")
    ap.add_argument("--rate", type=float, default=200.0, help="offered rate of the paced phase, events/s [200]")
    ap.add_argument("--txn-size", type=int, default=20, help="events per producer transaction [20]")
    ap.add_argument("--keys", type=int, default=100, help="case keys the events are spread over [100]")
    ap.add_argument("--producers", type=int, default=1, help="concurrent producer tasks [1]")
    ap.add_argument("--warmup-events", type=int, default=100, help="events handled before timing starts [100]")
    ap.add_argument("--timeout", type=float, help="limit of the throughput phase, seconds [45; --quick 20]")
    ap.add_argument("--only", action="append", choices=PIPELINES, help="run only this pipeline (repeatable)")
    ap.add_argument("--quick", action="store_true", help="smaller run, about 30 s")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop (what uvicorn[standard] uses)")
    args = ap.parse_args(argv)
    cfg = Config(
        events=args.events or (1500 if args.quick else 6000),
        paced_events=args.paced_events if args.paced_events is not None else (400 if args.quick else 1000),
        rate=max(1.0, args.rate),
        txn_size=max(1, args.txn_size),
        keys=max(1, args.keys),
        producers=max(1, args.producers),
        warmup_events=max(1, args.warmup_events),
        phase_timeout=args.timeout or (20.0 if args.quick else 45.0),
        pipelines=args.only or list(PIPELINES),
    )
    return cfg, args


def _finite(value: Any) -> Any:
    """NaN (a phase without events) as null, so the file is strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    cfg, args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    counter = WarningCounter()
    logging.getLogger("odr").addHandler(counter)
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    started = time.monotonic()
    results = asyncio.run(main_async(cfg, counter))
    results["wall_s"] = time.monotonic() - started
    print_report(results)
    print(f"\nwall time {results['wall_s']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(_finite(results), indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")
    return 1 if any("error" in r for r in results["pipelines"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
