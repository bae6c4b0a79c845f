"""The Kafka the tests and benchmarks run against.

By default: Apache Kafka itself, one KRaft node started on 127.0.0.1 from the jars Maven fetched
(``tests.support.kafka_broker``), shared by the whole test session (tests use fresh topic and
group names, ``unique``). When ``ODR_TEST_KAFKA_BOOTSTRAP`` is set, that Kafka is used instead and
nothing is started.

Only on a machine without Java (or without Maven and no cached jars) the tests fall back to
librdkafka's mock cluster from the pinned ``confluent-kafka`` wheel, and the run says so in its
first lines (``describe()``, the pytest header): the mock hides rebalances, restarts and fetch
timing, so such a run does not vouch for Kafka.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support import kafka_broker

ENV = "ODR_TEST_KAFKA_BOOTSTRAP"

_CHILD = r"""
import sys, time
from confluent_kafka import Producer
p = Producer({"test.mock.num.brokers": 1, "bootstrap.servers": "", "log_level": 0})
md = p.list_topics(timeout=10)
print(",".join(f"{b.host}:{b.port}" for b in md.brokers.values()), flush=True)
for line in sys.stdin:  # lives until the parent closes stdin
    pass
"""


def describe() -> str:
    """What ``KafkaForTests`` will run against, in one line (before anything is started)."""
    if os.environ.get(ENV):
        return f"external Kafka at {os.environ[ENV]} ({ENV})"
    missing = kafka_broker.missing_tools()
    if missing:
        return (f"librdkafka MOCK cluster, not Apache Kafka: {' and '.join(missing)} missing on this machine "
                f"(install default-jre-headless and maven, or run ./scripts/test)")
    return (f"Apache Kafka {kafka_broker.kafka_version()} (KRaft, one node on 127.0.0.1, "
            f"jars from Maven Central in {kafka_broker.cache_dir()})")


class MockKafka:
    """librdkafka's mock cluster in a child process; ``bootstrap`` is its address."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
        line = self._proc.stdout.readline().strip()
        if not line:
            self._proc.kill()
            raise RuntimeError("the librdkafka mock cluster did not start")
        self.bootstrap = line

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()


class KafkaForTests:
    """The Kafka of a test session: external (``ODR_TEST_KAFKA_BOOTSTRAP``), a local Apache Kafka
    node (``local``, which tests may restart), or the mock cluster where Java is missing."""

    def __init__(self) -> None:
        self._mock: MockKafka | None = None
        self._root: Path | None = None
        self.local: kafka_broker.LocalKafka | None = None
        self.bootstrap = os.environ.get(ENV) or ""
        self.description = describe()
        if not self.bootstrap:
            if kafka_broker.missing_tools():
                self._mock = MockKafka()
                self.bootstrap = self._mock.bootstrap
            else:
                self._root = Path(tempfile.mkdtemp(prefix="odr-kafka-"))
                self.local = kafka_broker.LocalKafka(self._root).start()
                self.bootstrap = self.local.bootstrap
        self.is_mock = self._mock is not None
        self._platform_topics = False

    def create_platform_topics(self) -> None:
        """The platform's topics as deployments create them (``deploy/kafka``), once per session:
        the services expect them to exist, as they do under docker-compose's kafka-init. The mock
        cluster creates topics on first use instead."""
        if self._platform_topics or self.is_mock:
            return
        kafka_broker.create_topics(self.bootstrap)
        self._platform_topics = True

    def close(self) -> None:
        if self._mock is not None:
            self._mock.close()
        if self.local is not None:
            self.local.stop()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)


def unique(prefix: str) -> str:
    """Fresh topic and group names per test, so tests sharing one Kafka never see each other."""
    return f"{prefix}-{os.getpid()}-{time.monotonic_ns()}"
