"""Confidential transcripts: every session has its own AES-256-GCM data key, stored only wrapped by
a key-encryption key (``shared.crypto`` key provider; the local keyring by default). Stored
messages and the records the service sends itself over the bus are sealed with it, bound by
associated data to where they belong, so the bus and the database never hold room content in
clear. Ending a session without every party's consent destroys the wrapped key: everything sealed
with it, including records still on the bus, becomes unreadable (crypto-shredding).
"""

from __future__ import annotations

from pathlib import Path

from shared import crypto
from shared.crypto import KeyProvider, create_keyring

KEK_ID = "sessions-transcripts"


def key_provider(path: Path, *, create: bool = False) -> KeyProvider:
    """The keyring (``shared.crypto.create_keyring``) with the sessions KEK; with ``create`` (dev
    mode, ``odr keys init``) a missing KEK is created once under the file lock, even when several
    replicas start together on one data directory."""
    return create_keyring(path, KEK_ID, create=create)


# A session's data key seals its messages and fan-out records with ``shared.crypto``'s AES-256-GCM.
new_data_key = crypto.new_data_key
seal = crypto.seal_with_key
open_sealed = crypto.open_with_key


def wrap(provider: KeyProvider, data_key: bytes, session_id: str) -> tuple[bytes, int]:
    return provider.wrap(KEK_ID, data_key, context=session_id.encode())


def unwrap(provider: KeyProvider, wrapped: bytes, version: int, session_id: str) -> bytes:
    return provider.unwrap(KEK_ID, wrapped, version, context=session_id.encode())


def message_aad(session_id: str, channel: str, seq: int) -> bytes:
    return crypto.aad("msg", session_id, channel, seq)


def fanout_aad(session_id: str) -> bytes:
    return crypto.aad("fanout", session_id)


def proposals_vault(provider: KeyProvider) -> crypto.Vault:
    """Proposals are sealed values of their own (``shared.crypto.Vault``) under the sessions KEK:
    an accepted one outlives the session's data key."""
    return crypto.Vault(crypto.Envelope(provider, KEK_ID))


def proposal_aad(case_id: str, proposal_id: str) -> bytes:
    return crypto.aad("proposal", case_id, proposal_id)
