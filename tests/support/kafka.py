"""A Kafka wire-protocol broker for tests and benchmarks.

No Apache Kafka distribution can be installed on our machines, so by default we start librdkafka's
mock cluster from the pinned ``confluent-kafka`` wheel: a real Kafka protocol server on 127.0.0.1
that aiokafka produces to and consumes from (consumer groups, committed offsets, auto-created
topics with 4 partitions). When ``ODR_TEST_KAFKA_BOOTSTRAP`` is set, that real Kafka is used
instead and nothing is started.

The mock cluster lives inside a librdkafka client object, so it runs as long as that object does;
``MockKafka`` keeps it in a child process so that test processes can be killed freely.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

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
    """A real Kafka from ``ODR_TEST_KAFKA_BOOTSTRAP``, else a fresh mock cluster."""

    def __init__(self) -> None:
        self._mock: MockKafka | None = None
        self.bootstrap = os.environ.get(ENV) or ""
        if not self.bootstrap:
            self._mock = MockKafka()
            self.bootstrap = self._mock.bootstrap
        self.is_mock = self._mock is not None

    def close(self) -> None:
        if self._mock is not None:
            self._mock.close()


def unique(prefix: str) -> str:
    """Fresh topic and group names per test, so a real shared Kafka works the same as the mock."""
    return f"{prefix}-{os.getpid()}-{time.monotonic_ns()}"
