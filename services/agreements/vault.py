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
import os
from pathlib import Path

from shared.crypto import DecryptionError, Envelope, LocalKeyring, Sealed
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


class ReloadingKeyring(LocalKeyring):
    """The local keyring, re-read when the file changes, so that a running service picks up a
    rotation done by ``python -m services.agreements.keys rotate`` in another process (new items
    are wrapped under the new version, re-wrapped items unwrap)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._mtime = self._stat()

    def _stat(self) -> float | None:
        try:
            return os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return None

    def _refresh(self) -> None:
        mtime = self._stat()
        if mtime != self._mtime and mtime is not None:
            super().__init__(self.path)
            self._mtime = mtime

    def _save(self) -> None:
        super()._save()
        self._mtime = self._stat()

    def _versions(self, key_id: str) -> dict[int, bytes]:
        # every operation (wrap, unwrap, rotate, destroy) goes through here: never act on a stale copy
        self._refresh()
        return super()._versions(key_id)


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
