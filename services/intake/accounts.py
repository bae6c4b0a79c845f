"""Who signs in, and how. Mediators and administrators have staff accounts: an argon2-checked
password and, if they turn it on, a second factor (``totp``, with single-use ``recovery`` codes).
Courts are machine clients with OAuth 2.0 client credentials. Parties have no accounts at all:
they hold case-scoped tokens from filing or from one-time links (``consent``). Dev tokens exist
only in explicit dev mode.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import (Principal, TokenService, hash_secret, hash_secret_off_loop, new_client_secret,
                         verify_secret_off_loop)
from shared.contracts.intake import ReferringBody
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.revocation import Revocations
from shared.uow import UnitOfWork

from . import cases, recovery, revocation, totp
from .models import Account, CourtClient, TotpFactor
from .schemas import Input

# a staff account's credentials, whether an administrator's or a mediator's (``register.MediatorCreate``)
Username = Field(pattern=r"^[a-z0-9._-]{3,100}$")
Password = Field(min_length=12, max_length=200)


class AccountCreate(Input):
    username: str = Username
    password: str = Password
    role: Literal["admin"] = "admin"


class AccountCreated(BaseModel):
    id: str
    username: str
    role: str


class Login(Input):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    totp_code: str | None = Field(None, pattern=r"^\s*[0-9]{6}\s*$",
                                  description="the authenticator app's code, for accounts with two-step sign-in")
    recovery_code: str | None = Field(None, pattern=recovery.PATTERN,
                                      description="instead of `totp_code` when the app is lost: one of the account's "
                                                  "recovery codes, each good once")


class TotpSetup(BaseModel):
    secret: str = Field(description="base32 secret for the authenticator app (shown once)")
    otpauth_uri: str = Field(description="the same as an otpauth:// URI")
    qr_code: str = Field(description="the otpauth:// URI as a QR code to scan with the app: an SVG `data:` URI")


class TotpStatus(BaseModel):
    enabled: bool = Field(description="sign-in asks for an authenticator code (turned on and confirmed)")
    since: datetime | None = Field(None, description="when it was turned on")
    recovery_codes_left: int = Field(0, description="unused recovery codes; none left: renew them")


class TotpCode(Input):
    code: str = Field(pattern=r"^\s*[0-9]{6}\s*$")


class CourtClientCreate(Input):
    court_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$", description="the referring body's id")
    name: str = Field(min_length=1, max_length=200)
    kind: ReferringBody = Field("court", description="a court, or for criminal cases a prosecutor or an investigator")


class CourtClientCreated(BaseModel):
    client_id: str
    court_id: str
    kind: ReferringBody = "court"
    client_secret: str = Field(description="Shown once; only its argon2 hash is kept.")


class PasswordChange(Input):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Password


class DevTokenRequest(Input):
    subject: str = Field(min_length=1, max_length=100)
    role: Literal["party", "mediator", "court", "admin"]
    cases: list[str] = Field(default_factory=list, max_length=100)
    court: str | None = None
    # a party's side, so that a party's steps (signing) can be tried without its invitation
    party_side: Literal["claimant", "respondent"] | None = None


# -- staff accounts ------------------------------------------------------------------------------

_DUMMY_HASH = hash_secret("not a password anyone has")


async def create_account(uow: UnitOfWork, *, request: AccountCreate) -> AccountCreated:
    await unique_username(uow.session, request.username)
    account = Account(id=f"adm-{secrets.token_hex(6)}", username=request.username, role=request.role,
                      password_hash=await hash_secret_off_loop(request.password), created_at=cases.utcnow())
    uow.session.add(account)
    await uow.commit()
    return AccountCreated(id=account.id, username=account.username, role=account.role)


async def unique_username(session: AsyncSession, username: str) -> None:
    if (await session.execute(select(Account.id).where(Account.username == username))).first() is not None:
        raise Conflict("username-taken", "that username is taken")


async def login(uow: UnitOfWork, *, username: str, password: str, tokens: TokenService,
                totp_vault: totp.TotpVault | None = None, totp_code: str | None = None,
                recovery_code: str | None = None) -> str:
    """Mediators and administrators: argon2-checked password (in a thread, not on the event
    loop), then the authenticator code, or a recovery code, if the account turned two-step
    sign-in on; a token with the cases assigned now."""
    account = (await uow.session.execute(select(Account).where(Account.username == username))).scalar_one_or_none()
    ok = await verify_secret_off_loop(account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not ok or account.disabled_at is not None:
        raise Problem(401, "invalid-credentials", "the username or password is not valid")
    factor = await totp.confirmed(uow.session, account.id)
    if factor is not None:
        if recovery_code:
            await recovery.spend(uow.session, account_id=account.id, code=recovery_code)
        elif totp_vault is None:
            raise Problem(401, "totp-required", "enter the code from your authenticator app")
        else:
            await totp.spend(uow.session, totp_vault, factor, totp_code)
        await uow.commit()  # the code is spent
    if account.role == "mediator":
        return tokens.issue(subject=account.id, role="mediator",
                            cases=await cases.assigned_cases(uow.session, account.id))
    return tokens.issue(subject=account.id, role="admin")


async def refresh(uow: UnitOfWork, *, principal: Principal, tokens: TokenService, session_max_seconds: int,
                  now: float | None = None) -> str:
    """A fresh token for someone whose token is still valid, so a mediation longer than a token's
    life does not throw people out. The sign-in time travels along: after ``session_max_seconds``
    the person signs in again. A mediator's cases are read anew (assignments change)."""
    now = now or datetime.now(timezone.utc).timestamp()
    if principal.auth_time is None or now - principal.auth_time > session_max_seconds:
        raise Problem(401, "session-expired", "this sign-in is too old to refresh; sign in again")
    await _still_allowed(uow.session, principal)
    scope: list[str] | frozenset[str] = principal.cases
    if principal.role == "mediator":
        scope = await cases.assigned_cases(uow.session, principal.subject)
    return tokens.issue(subject=principal.subject, role=principal.role, cases=sorted(scope), court=principal.court,
                        party_side=principal.party_side, auth_time=principal.auth_time, acting=principal.acting,
                        acting_for=principal.acting_for)


async def _still_allowed(session: AsyncSession, principal: Principal) -> None:
    """Refreshing re-checks the account or court client behind the token, not only the token: a
    disabled account, a revoked client, or a password or secret changed after the token was issued
    ends the sign-in (the revocation has refused the token everywhere already; this holds even
    after the revocation is forgotten). A subject with no account (a party, a dev or `odr token`
    token) has nothing to re-check."""
    issued = datetime.fromtimestamp(principal.issued_at or 0, tz=timezone.utc)
    if principal.role in ("mediator", "admin"):
        account = await session.get(Account, principal.subject)
        if account is not None and (account.disabled_at is not None or (
                account.password_changed_at is not None and issued <= account.password_changed_at)):
            raise Problem(401, "sign-in-revoked", "this sign-in has ended; sign in again")
    elif principal.role == "court":
        client = await session.get(CourtClient, principal.subject)
        if client is not None and (client.revoked_at is not None or (
                client.secret_rotated_at is not None and issued <= client.secret_rotated_at)):
            raise Problem(401, "sign-in-revoked", "the client's secret changed; request a new token with it")


async def disable_account(uow: UnitOfWork, *, account_id: str, principal: Principal, tokens: TokenService,
                          revocations: Revocations | None) -> AccountCreated:
    """An administrator disables a staff account: it cannot sign in or refresh, and the tokens it
    holds stop working."""
    account = await uow.session.get(Account, account_id)
    if account is None:
        raise NotFound("the account")
    if account.id == principal.subject:
        raise Forbidden("you cannot disable your own account")
    now = cases.utcnow()
    if account.disabled_at is None:
        account.disabled_at = now
    revocation.revoke(uow, revocations=revocations, tokens=tokens, subject=account.id, reason="account_disabled", now=now)
    await uow.commit()
    return AccountCreated(id=account.id, username=account.username, role=account.role)


async def change_password(uow: UnitOfWork, *, principal: Principal, change: PasswordChange, tokens: TokenService,
                          revocations: Revocations | None) -> str:
    """A staff member changes their password: every token issued before stops working (a
    stolen one too); the answer carries a fresh token for this sign-in."""
    account = await uow.session.get(Account, principal.subject)
    if account is None or principal.role not in ("mediator", "admin") or account.disabled_at is not None:
        raise Forbidden("passwords are for mediator and administrator accounts")
    if not await verify_secret_off_loop(account.password_hash, change.current_password):
        raise Problem(401, "invalid-credentials", "the current password is not right")
    now = cases.utcnow()
    account.password_hash = await hash_secret_off_loop(change.new_password)
    account.password_changed_at = now
    revocation.revoke(uow, revocations=revocations, tokens=tokens, subject=account.id, reason="password_changed", now=now)
    scope = await cases.assigned_cases(uow.session, account.id) if account.role == "mediator" else []
    await uow.commit()
    return tokens.issue(subject=account.id, role=principal.role, cases=scope, auth_time=principal.auth_time)


# -- two-step sign-in ----------------------------------------------------------------------------


async def _staff_account(session: AsyncSession, principal: Principal) -> Account:
    account = await session.get(Account, principal.subject)
    if account is None or principal.role not in ("mediator", "admin"):
        raise Forbidden("two-step sign-in is for mediator and administrator accounts")
    return account


async def _spend_code(uow: UnitOfWork, vault: totp.TotpVault, row: TotpFactor, code: str) -> None:
    """A signed-in staff member's authenticator code (to confirm, renew or turn off): a wrong one is
    a 422 about the code, not sign-in's 401, which would read as "your sign-in is not valid"."""
    try:
        await totp.spend(uow.session, vault, row, code)
    except Problem:
        raise Problem(422, "invalid-code", "that code is not right; check the app's clock and try the next code") from None


async def totp_status(uow: UnitOfWork, *, principal: Principal) -> TotpStatus:
    """Whether the account's sign-in asks for a code, so the desk offers to turn it on only when it
    is off (and otherwise new recovery codes, or turning it off)."""
    account = await _staff_account(uow.session, principal)
    row = await totp.confirmed(uow.session, account.id)
    if row is None:
        return TotpStatus(enabled=False)
    return TotpStatus(enabled=True, since=row.confirmed_at,
                      recovery_codes_left=await recovery.left(uow.session, account_id=account.id))


async def totp_begin(uow: UnitOfWork, *, principal: Principal, vault: totp.TotpVault) -> TotpSetup:
    """Start turning on two-step sign-in: a secret for the authenticator app, not yet required."""
    account = await _staff_account(uow.session, principal)
    secret, uri = await totp.begin(uow.session, vault, account_id=account.id, username=account.username)
    await uow.commit()
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_code=totp.qr_code(uri))


async def totp_confirm(uow: UnitOfWork, *, principal: Principal, vault: totp.TotpVault, code: str) -> list[str]:
    """The first code from the app proves it holds the secret; from now on sign-in asks for codes.
    Returns the recovery codes, shown this once."""
    account = await _staff_account(uow.session, principal)
    row = await uow.session.get(TotpFactor, account.id)
    if row is None:
        raise Conflict("totp-not-started", "start two-step sign-in first")
    if row.confirmed_at is not None:
        raise Conflict("totp-enabled", "two-step sign-in is already on")
    await _spend_code(uow, vault, row, code)
    row.confirmed_at = cases.utcnow()
    codes = await recovery.replace(uow.session, account_id=account.id)
    await uow.commit()
    return codes


async def totp_disable(uow: UnitOfWork, *, principal: Principal, vault: totp.TotpVault, code: str) -> None:
    """Turning it off takes a current code, so a stolen token alone cannot. The recovery codes go too."""
    account = await _staff_account(uow.session, principal)
    row = await totp.confirmed(uow.session, account.id)
    if row is None:
        raise NotFound("two-step sign-in")
    await _spend_code(uow, vault, row, code)
    await uow.session.delete(row)
    await recovery.discard(uow.session, account_id=account.id)
    await uow.commit()


async def renew_recovery_codes(uow: UnitOfWork, *, principal: Principal, vault: totp.TotpVault, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), for a current authenticator code: a
    stolen token alone cannot mint a way in."""
    account = await _staff_account(uow.session, principal)
    row = await totp.confirmed(uow.session, account.id)
    if row is None:
        raise NotFound("two-step sign-in")
    await _spend_code(uow, vault, row, code)
    codes = await recovery.replace(uow.session, account_id=account.id)
    await uow.commit()
    return codes


# -- court clients and dev tokens ----------------------------------------------------------------


async def create_court_client(uow: UnitOfWork, *, request: CourtClientCreate) -> CourtClientCreated:
    secret = new_client_secret()
    client = CourtClient(client_id=f"court-{secrets.token_hex(8)}", court_id=request.court_id, name=request.name,
                         kind=request.kind, secret_hash=await hash_secret_off_loop(secret), created_at=cases.utcnow())
    uow.session.add(client)
    await uow.commit()
    return CourtClientCreated(client_id=client.client_id, court_id=client.court_id, kind=client.kind,
                              client_secret=secret)


async def referring_body(uow: UnitOfWork, *, principal: Principal) -> ReferringBody:
    """The kind of body a court-role token acts for: its client's kind (a dev token, which has no
    client, is a court's)."""
    client = await uow.session.get(CourtClient, principal.subject)
    return client.kind if client is not None and client.court_id == principal.court else "court"  # type: ignore[return-value]


async def rotate_court_client_secret(uow: UnitOfWork, *, client_id: str, tokens: TokenService,
                                    revocations: Revocations | None) -> CourtClientCreated:
    """A new secret; every token issued with the old one stops working (and is not refreshed)."""
    client = await uow.session.get(CourtClient, client_id)
    if client is None or client.revoked_at is not None:
        raise NotFound("the court client")
    secret = new_client_secret()
    now = cases.utcnow()
    client.secret_hash = await hash_secret_off_loop(secret)
    client.secret_rotated_at = now
    revocation.revoke(uow, revocations=revocations, tokens=tokens, subject=client.client_id,
                      reason="client_secret_rotated", now=now)
    await uow.commit()
    return CourtClientCreated(client_id=client.client_id, court_id=client.court_id, kind=client.kind,
                              client_secret=secret)


async def court_token(uow: UnitOfWork, *, tokens: TokenService, client_id: str, client_secret: str) -> str:
    """OAuth 2.0 client credentials for court clients: a court-scoped access token."""
    client = await uow.session.get(CourtClient, client_id)
    ok = await verify_secret_off_loop(client.secret_hash if client else _DUMMY_HASH, client_secret)
    if client is None or client.revoked_at is not None or not ok:
        raise Problem(401, "invalid-client", "the client id or secret is not valid")
    return tokens.issue(subject=client.client_id, role="court", court=client.court_id)


def ensure_dev_mode(enabled: bool) -> None:
    if not enabled:
        raise Forbidden("dev tokens exist only when the embedded run is started with `odr dev`")
