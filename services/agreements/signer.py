"""The platform signer (``PlatformSigner``). The platform's seal on an executed agreement is an
Ed25519 signature (``cryptography``) by the platform over the canonical hash of the executed
document, the list of signers and the times. Anyone holding the sealed
document can check it offline with the public keys (``GET /seal/keys``) or ask
``POST /verify``. The same keys sign the audit chain's checkpoints.

The seal keyring has the same format as the token keyring (``shared.auth.KeyRing``): keys by
``kid``, the newest private key signs, every listed public key verifies, so the seal key can be
rotated without invalidating earlier seals.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.exceptions import InvalidSignature

from shared.auth import KeyRing

from .documents import canonical_bytes

ALGORITHM = "Ed25519"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PlatformSigner:
    """Signs with the newest key of the seal keyring; verifies with any key listed in it."""

    def __init__(self, keyring: KeyRing) -> None:
        if keyring.active is None:
            raise ValueError("the seal keyring has no private key")
        self.keyring = keyring

    @classmethod
    def load(cls, path: Path, *, create: bool = False) -> "PlatformSigner":
        """The seal keyring at ``path``; made with a fresh key only with ``create`` (dev mode,
        ``odr keys init``): a seal key invented on start would seal with a key nobody published."""
        return cls(KeyRing.load(path, create=create, setting="ODR_AGREEMENTS_SEAL_KEYRING", command="odr keys init"))

    def sign(self, payload: dict) -> dict:
        """``{"alg", "kid", "payload", "signature"}``; the signature covers RFC 8785 of the payload."""
        key = self.keyring.active
        signature = key.private.sign(canonical_bytes(payload))
        return {"alg": ALGORITHM, "kid": key.kid, "payload": payload, "signature": _b64(signature)}

    def verify(self, seal: dict) -> bool:
        try:
            key = self.keyring.keys.get(seal["kid"])
            if key is None or seal.get("alg") != ALGORITHM:
                return False
            key.public.verify(_unb64(seal["signature"]), canonical_bytes(seal["payload"]))
            return True
        except (InvalidSignature, KeyError, TypeError, ValueError):
            return False

    def public_keys(self) -> list[dict]:
        """The verification keys as JWKs (built by PyJWT, the same as the token key set)."""
        return self.keyring.jwks(alg=ALGORITHM)["keys"]
