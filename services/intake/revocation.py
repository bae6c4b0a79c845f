"""Ending access before tokens expire. Intake issues every token, so it decides when they stop:
each use case here stores its change and publishes ``odr.access.revoked.v1`` in one transaction;
every service (intake too) consumes it into its revocations (``shared.revocation``), and this
process applies it at once on commit, so the caller's next request here is already refused.

What revokes what:

- sign-out: this one token;
- sign out everywhere, a disabled account, a changed password or court client secret
  (``accounts``): every token of the account (or client) issued before now;
- a recusal (``proposals.recuse``): the mediator's tokens issued before now, for that case only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.auth import Principal, TokenService
from shared.contracts.intake import EVERY_CASE, AccessRevoked
from shared.problems import Problem
from shared.revocation import Revocation, Revocations, epoch
from shared.uow import UnitOfWork

from . import cases


# How long a revocation of "every token issued before" is kept: longer than any token lives (15
# minutes by default; each refresh issues a new token), and than one `odr token` issues by default.
KEEP_SECONDS = 86_400


def revoke(uow: UnitOfWork, *, revocations: Revocations | None, tokens: TokenService, subject: str, reason: str,
           case_id: str = EVERY_CASE, token_id: str | None = None, expires_at: datetime | None = None,
           now: datetime | None = None) -> None:
    """Stage a revocation: one token (``token_id``, forgotten at its ``expires_at``), or every
    token of ``subject`` issued before ``now`` (for ``case_id`` only, or every case). Applied in
    this process once the transaction commits."""
    now = now or cases.utcnow()
    if token_id is None or expires_at is None:
        expires_at = now + timedelta(seconds=max(tokens.ttl_seconds, KEEP_SECONDS))
    evt = AccessRevoked(case_id=case_id, subject=subject, token_id=token_id,
                        issued_before=None if token_id is not None else now, expires_at=expires_at, reason=reason)
    uow.publish(evt)
    if revocations is not None:
        uow.after_commit(lambda: revocations.add(Revocation.of(evt)))


async def sign_out(uow: UnitOfWork, *, principal: Principal, tokens: TokenService,
                   revocations: Revocations | None) -> None:
    """This token stops working everywhere; the person's other sign-ins stay."""
    if principal.token_id is None:
        raise Problem(400, "token-without-id", "this token has no id to revoke; use sign out everywhere")
    revoke(uow, revocations=revocations, tokens=tokens, subject=principal.subject, reason="signed_out",
           token_id=principal.token_id,
           expires_at=epoch(principal.expires_at) if principal.expires_at else None)
    await uow.commit()


async def sign_out_everywhere(uow: UnitOfWork, *, principal: Principal, tokens: TokenService,
                              revocations: Revocations | None) -> None:
    """Every token of this person (account, court client or party) issued until now stops
    working, on every device."""
    revoke(uow, revocations=revocations, tokens=tokens, subject=principal.subject, reason="signed_out_everywhere")
    await uow.commit()
