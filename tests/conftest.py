"""Fixtures over real connections: SQLite files, a throw-away PostgreSQL database, and Apache Kafka
(a local KRaft node shared by the session, or the Kafka in ODR_TEST_KAFKA_BOOTSTRAP; see
tests/support/kafka.py)."""

from __future__ import annotations

import pytest

from tests.support.databases import create_pg_database, drop_pg_database, service_databases
from shared.bus.embedded import EmbeddedBus
from shared.bus.kafka import KafkaBus
from tests.support import kafka as kafka_support
from tests.support.kafka import KafkaForTests
from tests.support.migrated import MigratedTemplates


# The longest groups, measured, longest first: they start first so that no worker begins one of
# them while the others are nearly done. Then the browser tests (tens of seconds each), then the rest.
LONGEST = ("tests/client/test_every_screen_speaks.py", "tests/e2e",
           "tests/client/test_done_when.py[postgresql-kafka]", "tests/client/test_done_when.py[embedded]",
           "tests/client/test_audio_video.py", "tests/shared/bus/test_kafka_faults.py",
           "tests/shared/bus/test_kafka_cluster.py")


def pytest_collection_modifyitems(config, items):
    """With several workers (``./scripts/test`` runs ``-n 2 --dist loadgroup --no-loadscope-reorder``),
    a test file runs on one worker so that its module-scoped fixtures start once, and the e2e
    package runs on one worker because its tests share one production-shaped platform
    (tests/e2e/conftest.py), the most expensive thing the suite starts. A file may name groups of
    its own (an ``xdist_group`` mark): the done-when walk runs each platform as a group, as they
    share nothing. The groups that take longest go first (``LONGEST``), so that the workers finish
    together; ``--no-loadscope-reorder`` keeps this order (xdist would otherwise hand out the
    groups with the most tests first, and these long ones, of one or two tests, last)."""

    def group(item) -> str:
        marker = item.get_closest_marker("xdist_group")
        if marker is not None:
            return marker.args[0] if marker.args else marker.kwargs["name"]
        path = item.nodeid.split("::", 1)[0]
        return "tests/e2e" if path.startswith("tests/e2e/") else path

    def order(item) -> int:
        name = group(item)
        if name in LONGEST:
            return LONGEST.index(name)
        return len(LONGEST) + (0 if name.startswith("tests/client/") else 1)

    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group(item)))
    items.sort(key=order)


def pytest_report_header(config):
    """The run's first lines say which Kafka it vouches for (a mock cluster vouches for none)."""
    return [f"kafka: {kafka_support.describe()}"]


@pytest.fixture(scope="session", autouse=True)
def migrated_sqlite_templates(tmp_path_factory):
    """Services started on a fresh SQLite file begin from a copy of a migrated one (see
    tests/support/migrated.py for why and what still runs every migration)."""
    import shared.service

    templates = MigratedTemplates(tmp_path_factory.mktemp("migrated"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shared.service, "upgrade", templates.upgrade)
        yield templates


@pytest.fixture(scope="session")
def kafka():
    broker = KafkaForTests()
    yield broker
    broker.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'service.sqlite3'}"
        return
    name, url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


@pytest.fixture
async def pg_database_template():
    """One throw-away PostgreSQL database per service; yields an ``ODR_DATABASE_URL`` template."""
    async with service_databases() as template:
        yield template


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
            # 6 s is a real broker's minimum session timeout (group.min.session.timeout.ms).
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
