"""An optional second factor for staff accounts (mediators, administrators): time-based one-time
codes (RFC 6238, pyotp) from any authenticator app. The shared secret is sealed with the
service's key-encryption key, bound to the account; a code is accepted once, also when several
sign-ins race with it. Recovery codes (``recovery``) stand in for the app when it is lost."""

from __future__ import annotations

from datetime import datetime, timezone

import pyotp
import segno
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import crypto
from shared.crypto import Envelope, aad, create_keyring
from shared.problems import Conflict, Problem

from .models import TotpFactor

ISSUER = "ODR"
KEK_ID = "intake-totp"
STEP_SECONDS = 30


class TotpVault(crypto.Vault):
    """The TOTP KEK's vault (``shared.crypto.Vault``) over the keyring at ``keyring_path``."""

    def __init__(self, keyring_path) -> None:
        super().__init__(Envelope(create_keyring(keyring_path), KEK_ID))


def secret_aad(account_id: str) -> bytes:
    """A TOTP secret belongs to one account."""
    return aad("totp", account_id)


async def begin(session: AsyncSession, vault: TotpVault, *, account_id: str, username: str) -> tuple[str, str]:
    """A new secret waiting for its first code; replaces an unconfirmed one. Returns the secret and
    its otpauth:// URI (for a QR code)."""
    row = await session.get(TotpFactor, account_id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("totp-enabled", "two-step sign-in is already on; turn it off first to start again")
    secret = pyotp.random_base32()
    sealed = vault.seal(secret.encode(), aad=secret_aad(account_id))
    if row is None:
        row = TotpFactor(account_id=account_id, last_step=0)
        session.add(row)
    row.sealed = sealed
    row.created_at, row.confirmed_at, row.last_step = datetime.now(timezone.utc), None, 0
    return secret, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_code(uri: str) -> str:
    """The otpauth:// address as a QR code (an SVG ``data:`` URI) for the authenticator app on a
    phone to scan: typing a 32-character key on a phone is where people give up (segno, no image
    library needed)."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=4, dark="#000", light="#fff")


async def spend(session: AsyncSession, vault: TotpVault, row: TotpFactor, code: str | None, *,
                now: datetime | None = None) -> None:
    """Accept ``code`` for this factor once (the current step or one step either side, for clock
    drift), or raise a 401 problem. The step is claimed by a conditional update (``last_step`` only
    moves forward): of concurrent sign-ins with one code, one changes the row and the others find
    it spent, on SQLite and PostgreSQL alike (the row's write lock orders them)."""
    if not code:
        raise Problem(401, "totp-required", "enter the code from your authenticator app")
    now = now or datetime.now(timezone.utc)
    totp = pyotp.TOTP(vault.open(row, aad=secret_aad(row.account_id)).decode())
    step = int(now.timestamp()) // STEP_SECONDS
    for candidate in (step - 1, step, step + 1):  # pyotp's verify compares in constant time
        if candidate > row.last_step and totp.verify(code.strip(), for_time=candidate * STEP_SECONDS):
            claimed = await session.execute(update(TotpFactor).where(
                TotpFactor.account_id == row.account_id, TotpFactor.last_step < candidate).values(last_step=candidate))
            if claimed.rowcount == 1:
                return
            break  # another sign-in spent this code (or a later one) first
    raise Problem(401, "invalid-credentials", "the username, password or code is not valid")


async def confirmed(session: AsyncSession, account_id: str) -> TotpFactor | None:
    row = await session.get(TotpFactor, account_id)
    return row if row is not None and row.confirmed_at is not None else None
