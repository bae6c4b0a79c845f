"""Access tokens and secrets.

Tokens are JWTs signed with Ed25519 (PyJWT, EdDSA). The keyring holds several keys by ``kid`` so
keys can be rotated: the newest key with a private part signs, every listed public key verifies.
Services that only verify get a keyring without private parts. Every service verifies tokens
itself; nothing trusts a header set by the gateway.

Tokens can be revoked before they expire (sign-out, recusal, a disabled account, a changed
password or client secret): ``TokenService.verify`` asks the service's ``Revocations``, so every
route and websocket of every service refuses a revoked token in this one place.

Roles: ``party`` and ``mediator`` tokens are scoped to case ids, ``court`` tokens to one court,
``admin`` to the register and rule sets.

A ``party`` token is held by anyone on a side of one case: its subject is their participant id, and
it says what they are (``act``: party, representative, interpreter, support_person) and for whom
(``for``: the party's participant id). The role stays ``party`` for all of them, so every service
scopes them to their case and side as before; the services refuse to let those who only assist
(``Principal.may_act`` is false: interpreters, support persons) consent, accept or sign. A token
without ``act`` (issued before it existed) is a party's own. Secrets (passwords, court client secrets) are hashed with
argon2.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import jwt
from jwt.algorithms import OKPAlgorithm
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .problems import Forbidden, Problem

if TYPE_CHECKING:
    from .revocation import Revocations

Role = Literal["party", "mediator", "court", "admin"]
ROLES: tuple[str, ...] = ("party", "mediator", "court", "admin")
# What the holder of a party token is on their side; the first two act for a party.
Acting = Literal["party", "representative", "interpreter", "support_person"]
ACTING: tuple[str, ...] = ("party", "representative", "interpreter", "support_person")
ACTS_FOR_PARTY: tuple[str, ...] = ("party", "representative")


class Unauthorized(Problem):
    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(401, "unauthorized", detail)


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    cases: frozenset[str] = field(default_factory=frozenset)
    court: str | None = None
    party_side: str | None = None
    token_id: str | None = None
    auth_time: int | None = None  # when the person signed in (kept across refreshes), epoch seconds
    issued_at: float | None = None  # when this token was issued (microseconds), what revocations compare
    expires_at: int | None = None
    # party tokens: what the holder is on the side, and the party (participant id) they act with
    acting: str = "party"
    acting_for: str | None = None

    @property
    def may_act(self) -> bool:
        """Whether this person may consent, accept or sign for a party: the party itself or its
        representative, not an interpreter or support person (who read and join the room)."""
        return self.role == "party" and self.acting in ACTS_FOR_PARTY

    @property
    def party_id(self) -> str | None:
        """The party a party token acts for: its own subject, or the represented party."""
        if self.role != "party":
            return None
        return self.acting_for or self.subject

    def can_access_case(self, case_id: str, *, court_id: str | None = None) -> bool:
        if self.role == "admin":
            return True
        if self.role == "court":
            return court_id is not None and court_id == self.court
        return case_id in self.cases


# -- keyring ----------------------------------------------------------------------------------


@dataclass
class SigningKey:
    kid: str
    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = None


class KeyRing:
    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("the keyring has no keys")
        self.keys = {k.kid: k for k in keys}
        signers = [k for k in keys if k.private is not None]
        self.active: SigningKey | None = signers[-1] if signers else None

    @staticmethod
    def generate_key() -> SigningKey:
        private = Ed25519PrivateKey.generate()
        return SigningKey(kid=f"k{int(time.time())}-{uuid.uuid4().hex[:6]}", public=private.public_key(), private=private)

    def to_json(self, *, include_private: bool = True) -> str:
        out = []
        for k in self.keys.values():
            entry = {
                "kid": k.kid,
                "public": k.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
            }
            if include_private and k.private is not None:
                entry["private"] = k.private.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ).decode()
            out.append(entry)
        return json.dumps({"keys": out}, indent=2)

    def jwks(self, *, alg: str = "EdDSA") -> dict:
        """The public keys as a JSON Web Key Set (RFC 7517/8037: ``kty`` OKP, ``crv`` Ed25519), by
        PyJWT: what a verifier outside the platform fetches. ``from_json`` reads it back."""
        return {"keys": [{"kid": k.kid, "alg": alg, **OKPAlgorithm.to_jwk(k.public, as_dict=True)}
                         for k in self.keys.values()]}

    @classmethod
    def from_json(cls, text: str) -> "KeyRing":
        """A keyring file (``kid`` with PEM ``public`` / ``private``, as ``to_json`` writes) or a
        JSON Web Key Set (``jwks()``; a JWK with ``d`` can sign), loaded by PyJWT."""
        keys = []
        for entry in json.loads(text)["keys"]:
            if "kty" in entry:
                key = jwt.PyJWK(entry, algorithm="EdDSA").key
                private = key if isinstance(key, Ed25519PrivateKey) else None
                public = private.public_key() if private is not None else key
            else:
                private = (serialization.load_pem_private_key(entry["private"].encode(), None)
                           if entry.get("private") else None)
                public = serialization.load_pem_public_key(entry["public"].encode())
            keys.append(SigningKey(kid=entry["kid"], public=public, private=private))
        return cls(keys)

    @classmethod
    def load(cls, path: Path, *, create: bool = False, setting: str = "ODR_JWT_KEYRING",
             command: str = "odr keys rotate") -> "KeyRing":
        """Load the keyring file; in dev (``create``) make one with a fresh key (0600) if it is
        missing. Otherwise a missing file is a ``MissingKey`` naming the ``setting`` that points at
        it and the ``command`` that makes it (the seal keyring has its own)."""
        from .crypto import MissingKey
        from .files import write_private

        if not path.exists():
            if not create:
                raise MissingKey(f"the keyring {path} does not exist; create it with `{command}` or point {setting} at it")
            write_private(path, cls([cls.generate_key()]).to_json())
        return cls.from_json(path.read_text())

    def rotated(self) -> "KeyRing":
        return KeyRing([*self.keys.values(), self.generate_key()])


# -- tokens -----------------------------------------------------------------------------------


class TokenService:
    def __init__(self, keyring: KeyRing, *, issuer: str = "odr", ttl_seconds: int = 900,
                 revocations: Revocations | None = None) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds
        # What was revoked before its expiry (``shared.revocation``): checked on every verification.
        self.revocations = revocations

    def issue(self, *, subject: str, role: Role, cases: list[str] | tuple[str, ...] = (), court: str | None = None,
              party_side: str | None = None, ttl_seconds: int | None = None, auth_time: int | None = None,
              acting: str | None = None, acting_for: str | None = None) -> str:
        """A signed access token. ``auth_time`` is when the person actually signed in: a refresh
        keeps it, so a session can be kept alive only up to a limit (``session_max_seconds``)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role}")
        key = self.keyring.active
        if key is None or key.private is None:
            raise RuntimeError("this keyring can verify tokens but not sign them")
        clock = time.time()
        now = int(clock)
        claims = {
            # ``iat`` to the microsecond (a NumericDate may have a fraction, RFC 7519 section 2): a
            # revocation refuses tokens issued before it, and a new sign-in in the same second is not.
            "iss": self.issuer, "aud": self.issuer, "sub": subject, "role": role, "iat": math.floor(clock * 1e6) / 1e6,
            "exp": now + (ttl_seconds or self.ttl_seconds), "jti": uuid.uuid4().hex, "auth_time": auth_time or now,
        }
        if cases:
            claims["cases"] = sorted(cases)
        if court:
            claims["court"] = court
        if party_side:
            claims["side"] = party_side
        if acting and acting != "party":
            if acting not in ACTING:
                raise ValueError(f"unknown acting {acting}")
            claims["act"] = acting
        if acting_for and acting_for != subject:
            claims["for"] = acting_for
        return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid})

    def verify(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthorized("the token is malformed") from None
        key = self.keyring.keys.get(kid or "")
        if key is None:
            raise Unauthorized("the token was signed with an unknown key")
        try:
            claims = jwt.decode(token, key.public, algorithms=["EdDSA"], audience=self.issuer, issuer=self.issuer,
                                options={"require": ["exp", "iat", "sub", "role"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("the token is not valid") from None
        if claims["role"] not in ROLES:
            raise Unauthorized("the token has an unknown role")
        if claims.get("act", "party") not in ACTING:
            raise Unauthorized("the token says an unknown kind of participant")
        principal = Principal(subject=claims["sub"], role=claims["role"], cases=frozenset(claims.get("cases", ())),
                              court=claims.get("court"), party_side=claims.get("side"), token_id=claims.get("jti"),
                              auth_time=int(claims.get("auth_time", claims["iat"])), issued_at=float(claims["iat"]),
                              expires_at=int(claims["exp"]), acting=claims.get("act", "party"),
                              acting_for=claims.get("for"))
        if self.revocations is not None:
            principal = self.revocations.screen(principal)
            if principal is None:
                raise Unauthorized("the token was revoked; sign in again")
        return principal


_bearer = HTTPBearer(auto_error=False)


async def bearer_token(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str | None:
    """Dependency: the request's bearer token, or None if it sent none."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    return credentials.credentials


async def current_principal(request: Request, token: str | None = Depends(bearer_token)) -> Principal:
    if token is None:
        raise Unauthorized()
    tokens: TokenService = request.app.state.runtime.tokens
    return tokens.verify(token)


def require_roles(*roles: Role):
    """Dependency: the caller's principal, refused unless it has one of ``roles``."""

    async def _dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return _dependency


# -- secrets ----------------------------------------------------------------------------------

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


# argon2 takes most of a second of CPU by design; on the event loop that would stall every other
# request, websocket and worker of the process (all services of `odr dev`). Hashing and checking
# run in a few threads of their own instead: the bound also caps argon2's memory (64 MiB each).
HASHING_THREADS = 4
_hashing = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


async def hash_secret_off_loop(secret: str) -> str:
    """``hash_secret`` in the hashing threads: what request handlers call."""
    return await asyncio.get_running_loop().run_in_executor(_hashing, hash_secret, secret)


async def verify_secret_off_loop(secret_hash: str, secret: str) -> bool:
    """``verify_secret`` in the hashing threads: what request handlers call."""
    return await asyncio.get_running_loop().run_in_executor(_hashing, verify_secret, secret_hash, secret)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)
