"""Settings: embedded defaults, and PostgreSQL/Kafka selected by ODR_ variables only."""

from __future__ import annotations

from shared.bus import create_bus
from shared.bus.embedded import EmbeddedBus
from shared.bus.kafka import KafkaBus
from shared.config import Settings


def test_defaults_are_the_embedded_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.database_url_for("intake") == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'intake.sqlite3'}"
    assert isinstance(create_bus(s), EmbeddedBus)
    assert s.resolved_bus_path == tmp_path / "var" / "bus.sqlite3"


def test_environment_selects_postgresql_and_kafka(monkeypatch):
    monkeypatch.setenv("ODR_DATABASE_URL", "postgresql+asyncpg://db/odr_{service}")
    monkeypatch.setenv("ODR_AGREEMENTS_DATABASE_URL", "postgresql+asyncpg://vault-db/agreements")
    monkeypatch.setenv("ODR_BUS", "kafka")
    monkeypatch.setenv("ODR_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    s = Settings()
    assert s.database_url_for("intake") == "postgresql+asyncpg://db/odr_intake"
    assert s.database_url_for("agreements") == "postgresql+asyncpg://vault-db/agreements"
    bus = create_bus(s)
    assert isinstance(bus, KafkaBus) and bus.bootstrap == "k1:9092,k2:9092"
