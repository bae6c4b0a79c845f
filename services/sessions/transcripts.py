"""Confidential transcripts: every session has its own AES-256-GCM data key, stored only wrapped by
a key-encryption key (``shared.crypto`` key provider; the local keyring by default). Stored
messages and the records the service sends itself over the bus are sealed with it, bound by
associated data to where they belong, so the bus and the database never hold room content in
clear. Ending a session without every party's consent destroys the wrapped key: everything sealed
with it, including records still on the bus, becomes unreadable (crypto-shredding).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto import DecryptionError, KeyProvider, LocalKeyring

KEK_ID = "sessions-transcripts"


def key_provider(path: Path) -> KeyProvider:
    """The local keyring; it creates the sessions KEK once, under its own file lock, even when
    several replicas start together on one data directory."""
    ring = LocalKeyring(Path(path))
    ring.latest_version(KEK_ID)  # creates and saves it if missing
    return ring


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap(provider: KeyProvider, data_key: bytes, session_id: str) -> tuple[bytes, int]:
    return provider.wrap(KEK_ID, data_key, context=session_id.encode())


def unwrap(provider: KeyProvider, wrapped: bytes, version: int, session_id: str) -> bytes:
    return provider.unwrap(KEK_ID, wrapped, version, context=session_id.encode())


def seal(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def open_sealed(data_key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(data_key).decrypt(sealed[:12], sealed[12:], aad)
    except InvalidTag:
        raise DecryptionError("sealed content was altered or belongs elsewhere") from None


def message_aad(session_id: str, channel: str, seq: int) -> bytes:
    return f"msg:{session_id}:{channel}:{seq}".encode()


def fanout_aad(session_id: str) -> bytes:
    return f"fanout:{session_id}".encode()
