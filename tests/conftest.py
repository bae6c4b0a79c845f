"""Fixtures over real connections: SQLite files, a throw-away PostgreSQL database, and a Kafka
wire-protocol broker (librdkafka's mock cluster, or the real Kafka in ODR_TEST_KAFKA_BOOTSTRAP)."""

from __future__ import annotations

import pytest

from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.kafka import KafkaForTests


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
    from shared.config import SERVICES

    created = {}
    for service in SERVICES:
        name, url = await create_pg_database(f"odr_test_{service}")
        created[service] = (name, url)
    template_base = created[SERVICES[0]][1].rsplit("/", 1)[0]
    names = {s: n for s, (n, _) in created.items()}
    yield template_base, names
    for name in names.values():
        await drop_pg_database(name)
