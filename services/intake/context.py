"""What the intake service's own code needs besides the platform runtime: the vaults that seal
screening answers, authenticator secrets and personal data with the KEK keyring, and the rate
limits of sign-in, codes and links (kept in intake's database, so every replica counts the same
attempts). Built once when the service starts (``ServiceSpec.context``); routes take ``ctx: Ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.config import Settings
from shared.crypto import create_keyring
from shared.deps import service_context
from shared.service import ServiceRuntime

from . import personal, screening, totp
from .models import rate_limits
from .ratelimits import IntakeLimits


@dataclass(frozen=True)
class IntakeContext:
    vault: screening.Vault
    totp_vault: totp.TotpVault
    personal: personal.Vault
    limits: IntakeLimits


KEYS = (screening.KEK_ID, totp.KEK_ID, *personal.KEYS)


def keys(settings: Settings, *, create: bool) -> None:
    """The service's keys (``ServiceSpec.keys``): every KEK and the lookup key, in the KEK keyring."""
    create_keyring(settings.resolved_kek_keyring, *KEYS, create=create)


def build(runtime: ServiceRuntime) -> IntakeContext:
    path = runtime.settings.resolved_kek_keyring
    return IntakeContext(vault=screening.Vault(path), totp_vault=totp.TotpVault(path),
                         personal=personal.Vault(create_keyring(path, *personal.KEYS, create=runtime.settings.dev_mode)),
                         limits=IntakeLimits(settings=runtime.settings, engine=runtime.engine, table=rate_limits))


Ctx = Annotated[IntakeContext, Depends(service_context)]
