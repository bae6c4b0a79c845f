"""Production-mode settings for tests: data in one directory, the key-encryption keys apart from
it (as ``ODR_KEK_KEYRING`` must be outside dev mode), and every key made beforehand, as an
operator's ``odr keys init`` makes them."""

from __future__ import annotations

from pathlib import Path

from odr.services import SERVICES, app_module
from shared.auth import KeyRing
from shared.config import Settings


def production_settings(root: Path, *services: str, **overrides) -> Settings:
    """Settings with ``dev_mode`` off over ``root``/data and ``root``/secrets, with the keys of
    ``services`` (default: all) created."""
    settings = Settings(data_dir=root / "data", kek_keyring=root / "secrets" / "kek.json", dev_mode=False,
                        **{"public_url": "https://odr.example", **overrides})
    KeyRing.load(settings.resolved_keyring, create=True)
    for name in services or SERVICES:
        app_module(name).SPEC.keys(settings, create=True)
    return settings


def production_env(settings: Settings) -> dict[str, str]:
    """The ``ODR_`` variables of ``settings``' directories, for an ``odr serve`` child process."""
    env = {"ODR_DATA_DIR": str(settings.data_dir), "ODR_KEK_KEYRING": str(settings.kek_keyring),
           "ODR_DEV_MODE": "false"}
    if settings.public_url:
        env["ODR_PUBLIC_URL"] = settings.public_url
    return env
