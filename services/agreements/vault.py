"""Encrypted storage of agreement content (document versions, comments, PDFs)
with ``shared.crypto``'s envelope encryption: a fresh AES-256-GCM data key per item, associated
data binding the item to its agreement and version, the data key stored only wrapped by the
``agreements`` key-encryption key.

A tampered ciphertext, associated data or wrapped key fails authentication and becomes a problem
(``integrity-failure``), never data. Crypto-shredding forgets the wrapped data keys: the
ciphertext stays but can never be opened again.
"""

from __future__ import annotations

import logging

from shared.crypto import DecryptionError, Envelope, Sealed
from shared.problems import Problem

log = logging.getLogger("odr.agreements.vault")


class IntegrityFailure(Problem):
    def __init__(self, what: str) -> None:
        super().__init__(500, "integrity-failure",
                         f"{what} failed its integrity check (altered or unreadable) and was not returned; "
                         "the incident has been logged")


class Shredded(Problem):
    def __init__(self) -> None:
        super().__init__(410, "shredded", "this agreement's content was destroyed at the end of its retention period")


def version_aad(agreement_id: str, version: int) -> bytes:
    return f"agreement:{agreement_id}:v{version}".encode()


def pdf_aad(agreement_id: str, version: int) -> bytes:
    return f"agreement:{agreement_id}:v{version}:pdf".encode()


def comment_aad(agreement_id: str, comment_id: str) -> bytes:
    return f"agreement:{agreement_id}:comment:{comment_id}".encode()



class Vault:
    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope

    def seal(self, plaintext: bytes, *, aad: bytes) -> dict:
        """Column values for a row holding an encrypted item."""
        s = self.envelope.seal(plaintext, aad=aad)
        return {"ciphertext": s.ciphertext, "wrapped_key": s.wrapped_key, "kek_id": s.kek_id, "kek_version": s.kek_version}

    def open(self, row, *, aad: bytes, what: str) -> bytes:
        if row.wrapped_key is None:
            raise Shredded()
        try:
            return self.envelope.open(Sealed(ciphertext=row.ciphertext, wrapped_key=row.wrapped_key,
                                             kek_id=row.kek_id, kek_version=row.kek_version), aad=aad)
        except DecryptionError as exc:
            log.error("encrypted item failed its integrity check", extra={"item": what, "reason": str(exc)})
            raise IntegrityFailure(what) from None

    def rewrap(self, row, *, aad: bytes) -> dict:
        s = self.envelope.rewrap(Sealed(ciphertext=row.ciphertext, wrapped_key=row.wrapped_key, kek_id=row.kek_id,
                                        kek_version=row.kek_version), aad=aad)
        return {"wrapped_key": s.wrapped_key, "kek_version": s.kek_version}
