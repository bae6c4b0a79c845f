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

from shared import crypto
from shared.crypto import DecryptionError, aad
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
    return aad("agreement", agreement_id, f"v{version}")


def pdf_aad(agreement_id: str, version: int) -> bytes:
    return aad("agreement", agreement_id, f"v{version}", "pdf")


def comment_aad(agreement_id: str, comment_id: str) -> bytes:
    return aad("agreement", agreement_id, "comment", comment_id)


class Vault(crypto.Vault):
    """``shared.crypto.Vault`` with the agreements' problems: a shredded item is ``Shredded`` (410),
    one that fails its integrity check is logged and becomes ``IntegrityFailure``."""

    def open(self, row, *, aad: bytes, what: str = "content") -> bytes:
        if row.wrapped_key is None:
            raise Shredded()
        try:
            return super().open(row, aad=aad)
        except DecryptionError as exc:
            log.error("encrypted item failed its integrity check", extra={"item": what, "reason": str(exc)})
            raise IntegrityFailure(what) from None
