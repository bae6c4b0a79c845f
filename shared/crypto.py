"""Envelope encryption for confidential content at rest (screening answers, transcripts,
agreement documents), built on ``cryptography`` only: no home-made primitives.

Each item is encrypted with a fresh random 256-bit data key (AES-256-GCM) and associated data that
binds it to where it belongs (e.g. ``agreement:<id>:v<version>``), so ciphertext moved to another
record fails to decrypt. The data key is stored only wrapped by a key-encryption key (KEK) from a
``KeyProvider``, an interface shaped like Vault transit / KMS: named keys with versions,
``wrap``/``unwrap``, ``rotate`` and ``rewrap`` (re-wrap a data key under the newest KEK version
without touching the document). Destroying a data key (or every KEK version that wrapped it)
makes the content unreadable: crypto-shredding.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DecryptionError(Exception):
    """Ciphertext, associated data or wrapped key was altered, or the key is gone."""


@dataclass(frozen=True)
class Sealed:
    """What is stored: ciphertext (nonce-prefixed), the wrapped data key and the KEK that wrapped it."""

    ciphertext: bytes
    wrapped_key: bytes
    kek_id: str
    kek_version: int


class KeyProvider(abc.ABC):
    @abc.abstractmethod
    def wrap(self, key_id: str, data_key: bytes, *, context: bytes = b"") -> tuple[bytes, int]:
        """Wrap under the newest version of ``key_id``; returns (wrapped, version)."""

    @abc.abstractmethod
    def unwrap(self, key_id: str, wrapped: bytes, version: int, *, context: bytes = b"") -> bytes: ...

    @abc.abstractmethod
    def rotate(self, key_id: str) -> int:
        """Add a new version of ``key_id`` (old versions keep unwrapping); returns it."""

    def rewrap(self, key_id: str, wrapped: bytes, version: int, *, context: bytes = b"") -> tuple[bytes, int]:
        return self.wrap(key_id, self.unwrap(key_id, wrapped, version, context=context), context=context)

    @abc.abstractmethod
    def latest_version(self, key_id: str) -> int: ...


class LocalKeyring(KeyProvider):
    """KEKs in a local JSON file (mode 0600), the embedded default. Production points at a
    Vault transit / KMS provider implementing the same interface.

    Several keyrings may share the file (services in one ``odr dev`` process, replicas, the
    rotate command in another process): every change happens under an exclusive file lock on a
    fresh read of the file, and every use re-reads the file when it changed, so nobody acts on a
    stale copy or writes one back over another's new key.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._keys: dict[str, dict[int, bytes]] = {}
        self._stamp: tuple[int, int] | None = None
        self._reload()

    # -- the file ---------------------------------------------------------------------------

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def _reload(self) -> None:
        stamp = self._file_stamp()
        if stamp is None or stamp == self._stamp:
            return
        raw = json.loads(self.path.read_text())
        self._keys = {k: {int(v): base64.b64decode(b) for v, b in versions.items()} for k, versions in raw.items()}
        self._stamp = stamp

    @contextlib.contextmanager
    def _locked(self):
        """Exclusive lock for a change: re-read, let the caller change ``_keys``, write back."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._stamp = None
                self._reload()
                yield
                tmp = self.path.with_name(self.path.name + ".tmp")
                tmp.write_text(json.dumps({k: {str(v): base64.b64encode(b).decode() for v, b in vs.items()}
                                           for k, vs in self._keys.items()}))
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
                self._stamp = self._file_stamp()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _versions(self, key_id: str) -> dict[int, bytes]:
        self._reload()
        if key_id not in self._keys:
            with self._locked():
                self._keys.setdefault(key_id, {1: AESGCM.generate_key(bit_length=256)})
        return self._keys[key_id]

    # -- KeyProvider --------------------------------------------------------------------------

    def latest_version(self, key_id: str) -> int:
        return max(self._versions(key_id))

    def wrap(self, key_id: str, data_key: bytes, *, context: bytes = b"") -> tuple[bytes, int]:
        versions = self._versions(key_id)
        version = max(versions)
        nonce = os.urandom(12)
        return nonce + AESGCM(versions[version]).encrypt(nonce, data_key, context), version

    def unwrap(self, key_id: str, wrapped: bytes, version: int, *, context: bytes = b"") -> bytes:
        kek = self._versions(key_id).get(version)
        if kek is None:
            raise DecryptionError(f"key {key_id} v{version} does not exist (destroyed?)")
        try:
            return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], context)
        except InvalidTag:
            raise DecryptionError("the wrapped data key was altered") from None

    def rotate(self, key_id: str) -> int:
        self._versions(key_id)
        with self._locked():
            versions = self._keys.setdefault(key_id, {})
            new = max(versions, default=0) + 1
            versions[new] = AESGCM.generate_key(bit_length=256)
        return new

    def destroy_version(self, key_id: str, version: int) -> None:
        with self._locked():
            self._keys.get(key_id, {}).pop(version, None)


class Envelope:
    """Seal and open items with per-item data keys wrapped by ``kek_id`` from ``provider``."""

    def __init__(self, provider: KeyProvider, kek_id: str) -> None:
        self.provider = provider
        self.kek_id = kek_id

    def seal(self, plaintext: bytes, *, aad: bytes) -> Sealed:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)
        wrapped, version = self.provider.wrap(self.kek_id, data_key, context=aad)
        return Sealed(ciphertext=ciphertext, wrapped_key=wrapped, kek_id=self.kek_id, kek_version=version)

    def open(self, sealed: Sealed, *, aad: bytes) -> bytes:
        data_key = self.provider.unwrap(sealed.kek_id, sealed.wrapped_key, sealed.kek_version, context=aad)
        try:
            return AESGCM(data_key).decrypt(sealed.ciphertext[:12], sealed.ciphertext[12:], aad)
        except InvalidTag:
            raise DecryptionError("the ciphertext or its associated data was altered") from None

    def rewrap(self, sealed: Sealed, *, aad: bytes) -> Sealed:
        """Same ciphertext, data key re-wrapped under the newest KEK version (no document decrypted)."""
        wrapped, version = self.provider.rewrap(sealed.kek_id, sealed.wrapped_key, sealed.kek_version, context=aad)
        return Sealed(ciphertext=sealed.ciphertext, wrapped_key=wrapped, kek_id=sealed.kek_id, kek_version=version)
