"""Issue 18, finding 5: outside dev mode no key is ever created implicitly. A service whose KEK,
token keyring or seal keyring is missing does not start (one line naming the key and what provides
it, and nothing created), the readiness probe says not ready when a key disappears, the KEKs must
live apart from the data directory, and what the platform writes (keys, SQLite files) is private."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from odr.cli import main
from odr.services import SERVICES, app_module
from shared.auth import KeyRing
from shared.config import ConfigurationError, Settings
from shared.crypto import MissingKey
from tests.support.apps import running
from tests.support.keys import production_settings

ROOT = Path(__file__).resolve().parents[2]


def everything_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("service", SERVICES)
def test_a_missing_kek_stops_the_start_and_creates_nothing(tmp_path, service):
    secrets = tmp_path / "secrets"
    KeyRing.load(secrets / "jwt.json", create=True)
    before = everything_under(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", kek_keyring=secrets / "kek.json",
                        jwt_keyring=secrets / "jwt.json", dev_mode=False, public_url="https://odr.example")
    with pytest.raises(MissingKey, match="odr keys init"):
        app_module(service).create_app(settings, configure_logs=False)
    assert everything_under(tmp_path) == before  # no key file, no data directory, no database


def test_a_kek_missing_from_the_keyring_is_named(tmp_path):
    """The keyring exists (another service's keys were made) but lacks this service's KEK."""
    settings = production_settings(tmp_path, "sessions")
    kek_file = settings.resolved_kek_keyring.read_text()
    with pytest.raises(MissingKey, match="'intake-screening'.*odr keys init"):
        app_module("intake").create_app(settings, configure_logs=False)
    assert settings.resolved_kek_keyring.read_text() == kek_file


def test_missing_token_and_seal_keyrings_are_named(tmp_path):
    settings = production_settings(tmp_path, "agreements")
    seal = settings.data_dir / "keys" / "agreements-seal.json"
    seal.unlink()
    with pytest.raises(MissingKey, match="agreements-seal.json.*`odr keys init`.*ODR_AGREEMENTS_SEAL_KEYRING"):
        app_module("agreements").create_app(settings, configure_logs=False)
    assert not seal.exists()
    settings.resolved_keyring.unlink()
    with pytest.raises(MissingKey, match="jwt.json.*`odr keys rotate`.*ODR_JWT_KEYRING"):
        app_module("sessions").create_app(settings, configure_logs=False)
    assert not settings.resolved_keyring.exists()


def test_odr_serve_refuses_in_one_line_and_odr_keys_init_provides_the_keys(tmp_path):
    data, secrets = tmp_path / "data", tmp_path / "secrets"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODR_") or k.startswith("ODR_TEST_")}
    env.update({"ODR_DATA_DIR": str(data), "ODR_KEK_KEYRING": str(secrets / "kek.json"),
                "ODR_JWT_KEYRING": str(secrets / "jwt.json")})
    KeyRing.load(secrets / "jwt.json", create=True)
    proc = subprocess.run([sys.executable, "-m", "odr.cli", "serve", "intake", "--port", "1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("odr serve intake: ") and str(secrets / "kek.json") in lines[0]
    assert "odr keys init" in lines[0] and "ODR_KEK_KEYRING" in lines[0]
    assert not data.exists() and not (secrets / "kek.json").exists()

    proc = subprocess.run([sys.executable, "-m", "odr.cli", "keys", "init", "intake"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    keks = set(json.loads((secrets / "kek.json").read_text()))
    assert keks == {"intake-screening", "intake-totp", "intake-personal", "intake-lookup"}
    assert stat.S_IMODE((secrets / "kek.json").stat().st_mode) == 0o600


def test_production_keeps_the_kek_apart_from_the_data(tmp_path):
    with pytest.raises(ConfigurationError, match="ODR_KEK_KEYRING is not set"):
        _ = Settings(data_dir=tmp_path, dev_mode=False).resolved_kek_keyring
    with pytest.raises(ConfigurationError, match="inside ODR_DATA_DIR"):
        _ = Settings(data_dir=tmp_path, kek_keyring=tmp_path / "keys" / "kek.json", dev_mode=False).resolved_kek_keyring
    KeyRing.load(tmp_path / "jwt.json", create=True)
    with pytest.raises(ConfigurationError, match="inside ODR_DATA_DIR"):
        app_module("sessions").create_app(Settings(data_dir=tmp_path / "data", jwt_keyring=tmp_path / "jwt.json",
                                                   kek_keyring=tmp_path / "data" / "kek.json", dev_mode=False),
                                          configure_logs=False)
    outside = tmp_path / "secrets" / "kek.json"
    assert Settings(data_dir=tmp_path / "data", kek_keyring=outside, dev_mode=False).resolved_kek_keyring == outside
    # Dev mode keeps its convenience: the KEK beside the data, created on first use.
    assert Settings(data_dir=tmp_path, dev_mode=True).resolved_kek_keyring == (tmp_path / "keys" / "kek.json").resolve()


async def test_not_ready_while_a_key_is_missing(tmp_path):
    settings = production_settings(tmp_path, "intake")
    app = app_module("intake").create_app(settings, configure_logs=False)
    kek = settings.resolved_kek_keyring
    async with running(app) as client:
        r = await client.get("/readyz")
        assert r.status_code == 200 and r.json()["checks"]["keys"] == "ok"
        kek.rename(kek.with_name("lost.json"))  # the secret or volume went away
        r = await client.get("/readyz")
        assert r.status_code == 503 and r.json()["status"] == "not-ready" and r.json()["checks"]["keys"] == "error: missing"
        assert not kek.exists()  # the probe never makes a new one
        kek.with_name("lost.json").rename(kek)
        assert (await client.get("/readyz")).status_code == 200


async def test_dev_mode_creates_the_keys_and_every_file_is_private(tmp_path):
    """An embedded run from nothing: the data directory, keys, databases, their WAL files and the
    event log are created readable by the service's user only."""
    data = tmp_path / "var"
    app = app_module("intake").create_app(Settings(data_dir=data, dev_mode=True), configure_logs=False)
    async with running(app) as client:
        r = await client.post("/cases", json={"jurisdiction": "KZ", "category": "civil", "description": "x"})
        assert r.status_code == 201
        files = [p for p in data.rglob("*") if p.is_file()]
        names = {str(p.relative_to(data)) for p in files}
        assert {"keys/kek.json", "keys/jwt.json", "intake.sqlite3", "intake.sqlite3-wal", "bus.sqlite3"} <= names
        wide = {str(p.relative_to(data)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files
                if stat.S_IMODE(p.stat().st_mode) & 0o077}
        assert wide == {}
        for directory in (data, data / "keys"):
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    from shared.db import create_engine

    db = tmp_path / "old.sqlite3"
    db.write_bytes(b"")
    os.chmod(db, 0o644)
    create_engine(f"sqlite+aiosqlite:///{db}")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_keys_init_keeps_what_exists(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ODR_KEK_KEYRING", str(tmp_path / "secrets" / "kek.json"))
    main(["keys", "init", "--data-dir", str(tmp_path / "data")])
    first = {p: p.read_bytes() for p in (tmp_path / "secrets").glob("*.json")}
    first.update({p: p.read_bytes() for p in (tmp_path / "data" / "keys").glob("*.json")})
    main(["keys", "init", "--data-dir", str(tmp_path / "data")])
    assert all(p.read_bytes() == b for p, b in first.items())
    out = capsys.readouterr().out
    assert all(f"{s}: keys ready" in out for s in SERVICES)
    shutil.rmtree(tmp_path / "data")
