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


DEV_PUBLIC_URL = "http://127.0.0.1:8000"


class ConfigurationError(Exception):
    """Start-up refused: a key is missing or a setting is unsafe outside dev mode. The message is
    one line that names what is missing and the setting or command that provides it, because an
    operator reads it in a crash loop's log."""


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
    dev_mode: bool = Field(False, description="Explicit development mode: enables the dev token endpoint and creates missing keys (token, key-encryption, seal) on first use. Never in production.")
    migrate_on_start: bool = Field(True, description="Apply Alembic migrations when a service starts (production: run `odr migrate`).")
    jwt_keyring: Path | None = Field(
        None, description="JSON keyring of Ed25519 token keys (kid, public, optional private). Default: data_dir/keys/jwt.json, created only in dev mode (`odr keys rotate` makes one)."
    )
    kek_keyring: Path | None = Field(
        None, description="Key-encryption-key file for envelope encryption (`shared.crypto.LocalKeyring`), kept apart from the data: "
        "required outside dev mode, and refused there inside data_dir. Create it with `odr keys init`. Dev mode default: data_dir/keys/kek.json, created."
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
    public_url: str | None = Field(
        None, description="The address people reach the platform at (e.g. `https://odr.example.kz`): the start of every "
        "link in emails, notices and court webhooks. Required outside dev mode by the services that send links "
        "(notifications refuses to start without it); in dev mode `odr dev` sets it from its own host and port, and "
        "without it a service takes it from the request (the in-app feed) or uses `http://127.0.0.1:8000`.",
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
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

    def link_base(self, *, request_base: str | None = None) -> str:
        """Where links people follow start: ``public_url``; in dev mode without it, the address the
        request came to (``request_base``), else the default dev address. Outside dev mode without
        it, a ``ConfigurationError``: a link to a guessed address would send people nowhere."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.dev_mode:
            return (request_base or DEV_PUBLIC_URL).rstrip("/")
        raise ConfigurationError(
            "ODR_PUBLIC_URL is not set: outside dev mode links in emails and notices need the address people reach "
            "the platform at (e.g. https://odr.example.kz)")

    @cached_property
    def resolved_bus_path(self) -> Path:
        return (self.bus_path or self.data_dir / "bus.sqlite3").resolve()

    @cached_property
    def resolved_kek_keyring(self) -> Path:
        """Where the KEKs are. Outside dev mode they must be set apart from the data directory
        (another volume, a secret mount): a copy of the data directory, a backup or a stolen
        disk then holds ciphertext without the keys that open it."""
        if self.kek_keyring is None:
            if self.dev_mode:
                return (self.data_dir / "keys" / "kek.json").resolve()
            raise ConfigurationError(
                "ODR_KEK_KEYRING is not set: outside dev mode the key-encryption keys must live apart from "
                "ODR_DATA_DIR; set it to a file outside the data directory and create it with `odr keys init`")
        path = self.kek_keyring.resolve()
        if not self.dev_mode and path.is_relative_to(self.data_dir.resolve()):
            raise ConfigurationError(
                f"ODR_KEK_KEYRING {path} is inside ODR_DATA_DIR {self.data_dir.resolve()}: outside dev mode the "
                "key-encryption keys must live apart from the data (another volume or a secret mount)")
        return path

    @cached_property
    def resolved_keyring(self) -> Path:
        return (self.jwt_keyring or self.data_dir / "keys" / "jwt.json").resolve()
