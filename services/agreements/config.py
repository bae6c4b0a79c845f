"""Settings of the agreements service only, read from ``ODR_AGREEMENTS_`` environment variables
(the platform settings in ``shared.config`` stay the single source for everything shared)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import Settings


class AgreementsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ODR_AGREEMENTS_", extra="ignore")

    seal_keyring: Path | None = Field(
        None, description="Ed25519 keyring of the platform seal (same format as the token keyring). "
        "Default: data_dir/keys/agreements-seal.json. Created when missing only in dev mode; otherwise `odr keys init` makes it.")
    kek_id: str = Field("agreements", description="Name of the key-encryption key in the KEK provider.")
    maintenance_seconds: float = Field(
        60.0, description="How often the overdue-obligation check and the retention shredding run.")
    checkpoint_every: int = Field(10, description="A sealed audit checkpoint after this many audit entries.")

    def seal_keyring_path(self, settings: Settings) -> Path:
        return (self.seal_keyring or settings.data_dir / "keys" / "agreements-seal.json").resolve()
