"""Recovery codes for two-step sign-in: what a mediator or administrator types instead of the
authenticator's code when the phone is lost. Ten are made when two-step sign-in is turned on
(and when renewed, which voids the old ones), shown once, kept only as SHA-256 hashes (each code
carries 80 random bits, so no slow hash is needed), and each signs in once: spending is a
conditional update, so two sign-ins racing with one code cannot both succeed."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import utcnow
from shared.problems import Problem

from .models import RecoveryCode

COUNT = 10
# xxxx-xxxx-xxxx-xxxx in RFC 4648 base32 (no 0/1/8/9 to misread), case and dashes ignored on entry
PATTERN = r"^\s*[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){3}\s*$"


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once: each signs in once instead of an authenticator code.")


def _new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 80 bits, 16 characters
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().replace("-", "").upper().encode()).hexdigest()


async def replace(session: AsyncSession, *, account_id: str, now: datetime | None = None) -> list[str]:
    """New codes for the account; every earlier one, used or not, stops working."""
    now = now or utcnow()
    await discard(session, account_id=account_id)
    codes = [_new_code() for _ in range(COUNT)]
    session.add_all(RecoveryCode(code_hash=_hash(c), account_id=account_id, created_at=now) for c in codes)
    return codes


async def left(session: AsyncSession, *, account_id: str) -> int:
    """How many of the account's codes are still unused (the desk says so; none left is a cue to renew)."""
    return (await session.execute(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None)))).scalar_one()


async def discard(session: AsyncSession, *, account_id: str) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))


async def spend(session: AsyncSession, *, account_id: str, code: str, now: datetime | None = None) -> None:
    """Accept an unused code of this account once, or raise the same 401 as a wrong password."""
    spent = await session.execute(update(RecoveryCode).where(
        RecoveryCode.code_hash == _hash(code), RecoveryCode.account_id == account_id,
        RecoveryCode.used_at.is_(None)).values(used_at=now or utcnow()))
    if spent.rowcount != 1:
        raise Problem(401, "invalid-credentials", "the username, password or code is not valid")
