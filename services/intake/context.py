"""What the intake service's own code needs besides the platform runtime: the vaults that seal
screening answers, authenticator secrets and personal data with the KEK keyring. Built once when
the service starts (``ServiceSpec.context``); routes take ``ctx: Ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.config import Settings
from shared.crypto import create_keyring
from shared.deps import service_context
from shared.service import ServiceRuntime

from . import personal, screening, totp


@dataclass(frozen=True)
class IntakeContext:
    vault: screening.Vault
    totp_vault: totp.TotpVault
    personal: personal.Vault


KEYS = (screening.KEK_ID, totp.KEK_ID, *personal.KEYS)


def keys(settings: Settings, *, create: bool) -> None:
    """The service's keys (``ServiceSpec.keys``): every KEK and the lookup key, in the KEK keyring."""
    create_keyring(settings.resolved_kek_keyring, *KEYS, create=create)


def build(runtime: ServiceRuntime) -> IntakeContext:
    path = runtime.settings.resolved_kek_keyring
    return IntakeContext(vault=screening.Vault(path), totp_vault=totp.TotpVault(path),
                         personal=personal.Vault(create_keyring(path, *personal.KEYS, create=runtime.settings.dev_mode)))


Ctx = Annotated[IntakeContext, Depends(service_context)]
