"""What the intake service's own code needs besides the platform runtime: the vaults that seal
screening answers, authenticator secrets and personal data with the KEK keyring, the public key
one-time links are sealed with for notifications (``shared.courier``), and the rate limits of
sign-in, codes and links (kept in intake's database, so every replica counts the same
attempts). Built once when the service starts (``ServiceSpec.context``); routes take ``ctx: Ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from shared import courier
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
    courier: X25519PublicKey  # notifications' public key: links are sealed for it (``reach``)


KEYS = (screening.KEK_ID, totp.KEK_ID, *personal.KEYS)


def keys(settings: Settings, *, create: bool) -> None:
    """The service's keys (``ServiceSpec.keys``): every KEK and the lookup key, in the KEK keyring,
    and the notifications courier's public key that links are sealed with (``shared.courier``)."""
    create_keyring(settings.resolved_kek_keyring, *KEYS, create=create)
    courier.public_key(settings.resolved_kek_keyring, create=create)


def build(runtime: ServiceRuntime) -> IntakeContext:
    path = runtime.settings.resolved_kek_keyring
    return IntakeContext(vault=screening.Vault(path), totp_vault=totp.TotpVault(path),
                         personal=personal.Vault(create_keyring(path, *personal.KEYS, create=runtime.settings.dev_mode)),
                         limits=IntakeLimits(settings=runtime.settings, engine=runtime.engine, table=rate_limits),
                         courier=courier.public_key(path, create=runtime.settings.dev_mode))


Ctx = Annotated[IntakeContext, Depends(service_context)]
