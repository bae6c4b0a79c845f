"""Bus backends for the contract suite: every test here runs against the embedded log and Kafka."""

from __future__ import annotations

import pytest

from shared.bus.embedded import EmbeddedBus
from shared.bus.kafka import KafkaBus


class BusFactory:
    """Makes bus instances that share one log, as separate processes would."""

    def __init__(self, kind: str, tmp_path, kafka) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.kafka = kafka
        self.made = []

    async def new(self):
        if self.kind == "embedded":
            bus = EmbeddedBus(self.tmp_path / "bus.sqlite3", poll_seconds=0.01, session_timeout=2.0, heartbeat=0.2)
        else:
            # 6 s is a real broker's minimum session timeout, and the mock cluster's joins time out below it.
            bus = KafkaBus(self.kafka.bootstrap, session_timeout_ms=6000, heartbeat_interval_ms=500)
        await bus.start()
        self.made.append(bus)
        return bus

    async def close(self):
        for bus in self.made:
            await bus.stop()


@pytest.fixture(params=["embedded", "kafka"])
async def buses(request, tmp_path):
    kafka = request.getfixturevalue("kafka") if request.param == "kafka" else None
    factory = BusFactory(request.param, tmp_path, kafka)
    yield factory
    await factory.close()
