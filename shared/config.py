"""Settings for every service and the CLI, read from ``ODR_`` environment variables.

One class so the README's configuration table has a single source; every field documented here
appears there. Defaults are the embedded run: SQLite per service and the embedded event log,
all under ``./var``.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ODR_", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where embedded data lives (SQLite files, event log, keys).")
    database_url: str | None = Field(
        None,
        description="Database URL for a service; `{service}` is replaced by the service name "
        "(e.g. `postgresql+asyncpg://postgres@127.0.0.1/odr_{service}`). Default: SQLite file per service in data_dir.",
    )
    bus: Literal["embedded", "kafka"] = Field("embedded", description="Event bus backend.")
    bus_path: Path | None = Field(None, description="Embedded event log file. Default: data_dir/bus.sqlite3.")
    kafka_bootstrap: str = Field("localhost:9092", description="Kafka bootstrap servers (comma separated).")
    kafka_client_id: str = Field("odr", description="Kafka client id prefix.")
    dev_mode: bool = Field(False, description="Explicit development mode: enables the dev token endpoint. Never in production.")
    migrate_on_start: bool = Field(True, description="Apply Alembic migrations when a service starts (production: run `odr migrate`).")
    jwt_keyring: Path | None = Field(
        None, description="JSON keyring of Ed25519 token keys (kid, public, optional private). Default: data_dir/keys/jwt.json, created in dev."
    )
    kek_keyring: Path | None = Field(
        None, description="Local key-encryption-key file for envelope encryption (`shared.crypto.LocalKeyring`). Default: data_dir/keys/kek.json."
    )
    jwt_issuer: str = Field("odr", description="`iss` and `aud` of access tokens.")
    access_token_ttl_seconds: int = Field(900, description="Lifetime of access tokens.")
    session_max_seconds: int = Field(43200, description="How long a sign-in can be kept alive by refreshing its token (`POST /intake/auth/refresh`); after that, sign in again.")
    revocation_poll_seconds: float = Field(1.0, description="How often a service reads the revocations its other replicas consumed (sign-outs, recusals, disabled accounts); the replica that consumes one applies it at once.")
    rate_limit_sign_in_account: str = Field(
        "10 per 15 minutes",
        description="Failed sign-ins per staff account (password, authenticator or recovery code) and failed secrets per "
        "court client, in `limits` notation. Past it the account is refused with 429 and `Retry-After` until the window "
        "ends, even with the right password.")
    rate_limit_sign_in_address: str = Field(
        "30 per 15 minutes",
        description="Failed sign-in, code and link attempts per client address, all such endpoints together.")
    rate_limit_sign_in_links: str = Field("3 per hour", description="Sign-in links one side of a case can be sent.")
    rate_limit_sign_in_links_address: str = Field("10 per hour", description="Sign-in link requests per client address.")
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="`odr serve`: the proxies (comma-separated addresses or `*`) whose `X-Forwarded-For` names the client "
        "address that rate limits count, and whose `X-Forwarded-Proto: https` makes a request count as TLS (answered "
        "with HSTS). Set it to the gateway's address (or `*` where only the gateway can reach the service).")
    root_path: str = Field("", description="Path prefix the gateway strips before a service (`odr serve` behind nginx or an Ingress, e.g. `/intake`); the server restores it for links, docs and OpenAPI `servers`.")
    log_level: str = Field("INFO", description="Log level.")
    log_format: Literal["json", "text"] = Field("json", description="Structured JSON logs or plain text.")
    relay_batch_size: int = Field(500, description="Outbox rows published per relay round.")
    relay_poll_seconds: float = Field(0.05, description="How often the relay looks for rows committed by other processes.")
    consumer_poll_seconds: float = Field(0.02, description="Embedded log poll interval when idle.")

    @field_validator("rate_limit_sign_in_account", "rate_limit_sign_in_address", "rate_limit_sign_in_links",
                     "rate_limit_sign_in_links_address")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        """A rate in `limits` notation ("10 per 15 minutes", "5/hour"); a typo stops start-up."""
        from .ratelimit import parse_rate

        parse_rate(value)
        return value

    def database_url_for(self, service: str) -> str:
        """A service's own database: ``ODR_<SERVICE>_DATABASE_URL`` wins, then the templated
        ``ODR_DATABASE_URL``, then a SQLite file in the data directory."""
        specific = os.environ.get(f"ODR_{service.upper()}_DATABASE_URL")
        if specific:
            return specific
        if self.database_url:
            return self.database_url.replace("{service}", service)
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.sqlite3').resolve()}"

    @cached_property
    def resolved_bus_path(self) -> Path:
        return (self.bus_path or self.data_dir / "bus.sqlite3").resolve()

    @cached_property
    def resolved_kek_keyring(self) -> Path:
        return (self.kek_keyring or self.data_dir / "keys" / "kek.json").resolve()

    @cached_property
    def resolved_keyring(self) -> Path:
        return (self.jwt_keyring or self.data_dir / "keys" / "jwt.json").resolve()
