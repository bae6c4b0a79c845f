"""What the agreements use cases need besides a unit of work: the vault (envelope encryption
with the ``agreements`` KEK), the platform signer, the qualified-signature verifiers
(``signing.py``) and the service's own settings. Built once
when the service starts (``ServiceSpec.context``), so the gateway's embedded run and a
standalone process get the same objects; routes take ``ctx: Ctx``, the maintenance work reads
``runtime.context``, the key commands build one from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.config import Settings
from shared.crypto import Envelope, create_keyring
from shared.deps import service_context
from shared.service import ServiceRuntime

from .config import AgreementsSettings
from .signer import PlatformSigner
from .signing import QualifiedSignatureVerifier, verifiers
from .vault import Vault


@dataclass
class Context:
    settings: Settings
    config: AgreementsSettings
    vault: Vault
    signer: PlatformSigner
    qualified: dict[str, QualifiedSignatureVerifier]


def keys(settings: Settings, *, create: bool, config: AgreementsSettings | None = None) -> None:
    """The service's keys (``ServiceSpec.keys``): its KEK and the seal keyring."""
    config = config or AgreementsSettings()
    create_keyring(settings.resolved_kek_keyring, config.kek_id, create=create)
    PlatformSigner.load(config.seal_keyring_path(settings), create=create)


def build(settings: Settings, config: AgreementsSettings | None = None) -> Context:
    config = config or AgreementsSettings()
    keyring = create_keyring(settings.resolved_kek_keyring, config.kek_id, create=settings.dev_mode)
    return Context(settings=settings, config=config, vault=Vault(Envelope(keyring, config.kek_id)),
                   signer=PlatformSigner.load(config.seal_keyring_path(settings), create=settings.dev_mode),
                   qualified=verifiers(config))


def for_service(runtime: ServiceRuntime) -> Context:
    return build(runtime.settings)


Ctx = Annotated[Context, Depends(service_context)]
