"""Settings of the agreements service only, read from ``ODR_AGREEMENTS_`` environment variables
(the platform settings in ``shared.config`` stay the single source for everything shared)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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

    # Qualified electronic signatures (NCA RK, ``nca.py``). Without trust anchors they are refused (501).
    nca_trust_anchors: list[Path] = Field(
        default_factory=list, description="NCA RK root certificates (PEM or DER files, or directories of them) that "
        "a signer's chain must reach; read at start, never fetched. Empty: qualified signatures are not offered.")
    nca_intermediates: list[Path] = Field(
        default_factory=list, description="NCA intermediate CA certificates (NCALayer's CMS usually carries only the "
        "signer's own certificate).")
    nca_revocation: Literal["off", "soft-fail", "hard-fail", "require"] = Field(
        "require", description="Revocation policy (pyhanko-certvalidator's modes): 'require' needs OCSP or CRL "
        "for every certificate of the chain, 'hard-fail' refuses when a certificate names an OCSP/CRL source that "
        "cannot be checked, 'soft-fail' ignores failures to check, 'off' skips revocation.")
    nca_fetch_revocation: bool = Field(
        True, description="Ask the OCSP responders and CRL addresses named in the certificates when a party signs.")
    nca_crls: list[Path] = Field(default_factory=list, description="CRL files (PEM or DER) to check revocation with.")
    ncalayer_url: str = Field(
        "wss://127.0.0.1:13579", description="Where the browser finds NCALayer. Only dev mode honours another value "
        "(the browser tests' stand-in for NCALayer); in production it is always NCALayer's own address.")
    nca_gost_provider: str | None = Field(
        None, description="'module:attribute' of an installed GOST algorithm provider (see algorithms.py); without "
        "one, GOST signatures are refused with 501.")

    def seal_keyring_path(self, settings: Settings) -> Path:
        return (self.seal_keyring or settings.data_dir / "keys" / "agreements-seal.json").resolve()
