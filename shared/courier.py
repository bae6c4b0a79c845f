"""Secrets one service hands to another through the bus, readable by that other service only: the
one-time links (invitations, sign-in links) intake makes and notifications delivers.

A link is a bearer secret: whoever reads it can answer an invitation or sign in. So it never
travels in the clear, not in an event, not on the bus, not in a log. Intake seals it for
notifications with HPKE (RFC 9180, base mode: X25519, HKDF-SHA256, AES-256-GCM, from
``cryptography``): notifications holds the private key, intake only the public key, so neither
the bus, nor anyone reading the outbox or the event log, nor intake itself can open what was
sealed. The ``info`` binds each sealed value to what it belongs to (``aad("access-link",
link_id, "link")``), so a value copied into another event does not open.

The key pair lives beside the KEK keyring (``ODR_KEK_KEYRING``'s directory): the private key in
``notifications-courier.key`` (0600, read by notifications), the public key in
``notifications-courier.pub`` (read by intake; on separate machines, copy only this file to
intake). Outside dev mode only ``odr keys init`` creates them; a missing one is a ``MissingKey``
when the service starts.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from filelock import FileLock

from .crypto import DecryptionError, MissingKey
from .files import FILE_MODE, private_dir, write_private

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
PRIVATE_NAME = "notifications-courier.key"
PUBLIC_NAME = "notifications-courier.pub"


def key_paths(kek_keyring: Path) -> tuple[Path, Path]:
    """(private, public) key files beside the KEK keyring file."""
    directory = Path(kek_keyring).parent
    return directory / PRIVATE_NAME, directory / PUBLIC_NAME


def _create(kek_keyring: Path) -> None:
    private, public = key_paths(kek_keyring)
    private_dir(private.parent)
    with FileLock(private.with_name(private.name + ".lock"), mode=FILE_MODE, preserve_lock_file=True):
        if private.exists() and public.exists():
            return
        key = X25519PrivateKey.generate()
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        write_private(private, base64.b64encode(raw).decode())
        write_private(public, base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode())


def public_key(kek_keyring: Path, *, create: bool = False) -> X25519PublicKey:
    """What intake seals with. ``create`` (dev mode, ``odr keys init``) makes the pair if missing."""
    _, public = key_paths(kek_keyring)
    if create and not public.exists():
        _create(kek_keyring)
    if not public.exists():
        raise MissingKey(f"the notifications courier public key {public} does not exist; create it with "
                         "`odr keys init` (or copy it from the notifications service's secrets)")
    return X25519PublicKey.from_public_bytes(base64.b64decode(public.read_text()))


def private_key(kek_keyring: Path, *, create: bool = False) -> X25519PrivateKey:
    """What notifications opens with; only notifications reads this file."""
    private, _ = key_paths(kek_keyring)
    if create and not private.exists():
        _create(kek_keyring)
    if not private.exists():
        raise MissingKey(f"the notifications courier key {private} does not exist; create it with `odr keys init`")
    return X25519PrivateKey.from_private_bytes(base64.b64decode(private.read_text()))


def seal(key: X25519PublicKey, plaintext: str, *, info: bytes) -> str:
    """``plaintext`` sealed for the holder of the private key, as base64 text (an event field)."""
    return base64.b64encode(SUITE.encrypt(plaintext.encode(), key, info=info)).decode()


def open_sealed(key: X25519PrivateKey, sealed: str, *, info: bytes) -> str:
    try:
        return SUITE.decrypt(base64.b64decode(sealed), key, info=info).decode()
    except Exception:  # a wrong key, other info, an altered or truncated value
        raise DecryptionError("the sealed value does not open with this key and info") from None
