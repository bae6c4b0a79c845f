"""An optional second factor for staff accounts (mediators, administrators): time-based one-time
codes (RFC 6238, pyotp) from any authenticator app. The shared secret is sealed with the
service's key-encryption key, bound to the account; a code is accepted once."""

from __future__ import annotations

from datetime import datetime, timezone

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from shared.crypto import Envelope, LocalKeyring, Sealed
from shared.problems import Conflict, Problem

from .models import TotpFactor

ISSUER = "ODR"
KEK_ID = "intake-totp"
STEP_SECONDS = 30


class TotpVault:
    def __init__(self, keyring_path) -> None:
        self.envelope = Envelope(LocalKeyring(keyring_path), KEK_ID)

    def seal(self, secret: str, account_id: str) -> Sealed:
        return self.envelope.seal(secret.encode(), aad=f"totp:{account_id}".encode())

    def open(self, row: TotpFactor) -> str:
        sealed = Sealed(ciphertext=row.ciphertext, wrapped_key=row.wrapped_key, kek_id=row.kek_id,
                        kek_version=row.kek_version)
        return self.envelope.open(sealed, aad=f"totp:{row.account_id}".encode()).decode()


async def begin(session: AsyncSession, vault: TotpVault, *, account_id: str, username: str) -> tuple[str, str]:
    """A new secret waiting for its first code; replaces an unconfirmed one. Returns the secret and
    its otpauth:// URI (for a QR code)."""
    row = await session.get(TotpFactor, account_id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("totp-enabled", "two-step sign-in is already on; turn it off first to start again")
    secret = pyotp.random_base32()
    sealed = vault.seal(secret, account_id)
    if row is None:
        row = TotpFactor(account_id=account_id, last_step=0)
        session.add(row)
    row.ciphertext, row.wrapped_key, row.kek_id, row.kek_version = (sealed.ciphertext, sealed.wrapped_key,
                                                                      sealed.kek_id, sealed.kek_version)
    row.created_at, row.confirmed_at, row.last_step = datetime.now(timezone.utc), None, 0
    return secret, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def check(vault: TotpVault, row: TotpFactor, code: str | None, *, now: datetime | None = None) -> None:
    """Accept ``code`` for this factor once (the current step or one step either side, for clock
    drift), or raise a 401 problem."""
    if not code:
        raise Problem(401, "totp-required", "enter the code from your authenticator app")
    now = now or datetime.now(timezone.utc)
    totp = pyotp.TOTP(vault.open(row))
    step = int(now.timestamp()) // STEP_SECONDS
    for candidate in (step - 1, step, step + 1):
        if candidate > row.last_step and totp.at(candidate * STEP_SECONDS) == code.strip():
            row.last_step = candidate
            return
    raise Problem(401, "invalid-credentials", "the username, password or code is not valid")


async def confirmed(session: AsyncSession, account_id: str) -> TotpFactor | None:
    row = await session.get(TotpFactor, account_id)
    return row if row is not None and row.confirmed_at is not None else None
