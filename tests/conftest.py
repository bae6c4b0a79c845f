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


def pytest_collection_modifyitems(config, items):
    """With several workers (``./scripts/test`` runs ``-n 2 --dist loadgroup``), a test file runs
    on one worker so that its module-scoped fixtures start once, and the e2e package runs on one
    worker because its tests share one production-shaped platform (tests/e2e/conftest.py), the
    most expensive thing the suite starts. The groups that take longest go first so that the two
    workers finish together: the e2e platform, then the browser tests, then the rest."""
    weight = {"tests/e2e": 0, "tests/client": 1}
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            path = item.nodeid.split("::", 1)[0]
            group = "tests/e2e" if path.startswith("tests/e2e/") else path
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: weight.get("/".join(item.nodeid.split("/", 2)[:2]), 2))


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
