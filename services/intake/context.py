"""What the intake service's own code needs besides the platform runtime: the vaults that seal
screening answers and authenticator secrets with the KEK keyring, and the rate limits of sign-in,
codes and links (kept in intake's database, so every replica counts the same attempts). Built once when the service
starts (``ServiceSpec.context``); routes take ``ctx: Ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.deps import service_context
from shared.service import ServiceRuntime

from .models import rate_limits
from .ratelimits import IntakeLimits
from .screening import Vault
from .totp import TotpVault


@dataclass(frozen=True)
class IntakeContext:
    vault: Vault
    totp_vault: TotpVault
    limits: IntakeLimits


def build(runtime: ServiceRuntime) -> IntakeContext:
    keyring = runtime.settings.resolved_kek_keyring
    return IntakeContext(vault=Vault(keyring), totp_vault=TotpVault(keyring),
                         limits=IntakeLimits(settings=runtime.settings, engine=runtime.engine, table=rate_limits))


Ctx = Annotated[IntakeContext, Depends(service_context)]
