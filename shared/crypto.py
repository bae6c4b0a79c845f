"""Envelope encryption for confidential content at rest (screening answers, transcripts,
agreement documents), built on ``cryptography`` only: no home-made primitives.

Each item is encrypted with a fresh random 256-bit data key (AES-256-GCM) and associated data that
binds it to where it belongs (e.g. ``agreement:<id>:v<version>``), so ciphertext moved to another
record fails to decrypt. The data key is stored only wrapped by a key-encryption key (KEK) from a
``KeyProvider``, an interface shaped like Vault transit / KMS: named keys with versions,
``wrap``/``unwrap``, ``rotate`` and ``rewrap`` (re-wrap a data key under the newest KEK version
without touching the document). Destroying a data key (or every KEK version that wrapped it)
makes the content unreadable: crypto-shredding.

The kit every service uses for a value sealed at rest:

- ``SealedColumns``: the SQLAlchemy mixin of a sealed value's columns (``ciphertext``,
  ``wrapped_key``, ``kek_id``, ``kek_version``), each table keeping its own column details;
- ``Sealed``: the value itself, read from a row with ``Sealed.from_row(row)``, written with
  ``sealed.columns()`` (or ``row.sealed = ...``), or packed into one column (``pack``/``unpack``);
- ``Vault``: seal / open / rewrap with one KEK through ``Envelope``, the associated data binding each
  value to the row it belongs to (``aad(...)``);
- ``create_keyring``: the one place a keyring is built (the local file today), like
  ``shared.bus.create_bus`` builds the bus. Keys are created only when asked to (``create``: dev
  mode, or the ``odr keys init`` command); otherwise a missing file or KEK is a ``MissingKey``;
- ``KeyProvider.hmac``: a keyed hash for looking a sealed value up (an IIN, an email) without
  storing it in the clear or as a bare hash anyone could recompute from a guess;
- ``new_data_key`` / ``seal_with_key`` / ``open_with_key``: AES-256-GCM under a data key the caller
  keeps (the sessions' per-session key), the same sealing ``Envelope`` does under its per-item key.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import hashlib
import hmac as hmac_
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from filelock import FileLock
from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .config import ConfigurationError
from .files import FILE_MODE, private_dir, write_private


class DecryptionError(Exception):
    """Ciphertext, associated data or wrapped key was altered, or the key is gone."""


class MissingKey(ConfigurationError, FileNotFoundError):
    """A key the service needs does not exist, and nothing may create it here (outside dev mode a
    key is only ever created by an operator's command): a new key would seal new data while
    everything sealed before stays unreadable, so the service must not start."""


@dataclass(frozen=True)
class Sealed:
    """What is stored: ciphertext (nonce-prefixed), the wrapped data key and the KEK that wrapped it."""

    ciphertext: bytes
    wrapped_key: bytes
    kek_id: str
    kek_version: int

    @classmethod
    def from_row(cls, row: Any) -> Sealed:
        """The sealed value held in a row's ``ciphertext``/``wrapped_key``/``kek_id``/``kek_version``."""
        return cls(ciphertext=row.ciphertext, wrapped_key=row.wrapped_key, kek_id=row.kek_id,
                   kek_version=row.kek_version)

    def columns(self) -> dict[str, Any]:
        """Column values for a row holding this value (``Model(**sealed.columns())``)."""
        return {"ciphertext": self.ciphertext, "wrapped_key": self.wrapped_key, "kek_id": self.kek_id,
                "kek_version": self.kek_version}

    def pack(self) -> bytes:
        """The value in one column: JSON of base64 ciphertext ``c``, wrapped key ``w``, KEK id ``k``
        and version ``v`` (the notifications' stored format)."""
        return json.dumps({"c": base64.b64encode(self.ciphertext).decode(), "w": base64.b64encode(self.wrapped_key).decode(),
                           "k": self.kek_id, "v": self.kek_version}).encode()

    @classmethod
    def unpack(cls, blob: bytes) -> Sealed:
        d = json.loads(blob)
        return cls(ciphertext=base64.b64decode(d["c"]), wrapped_key=base64.b64decode(d["w"]), kek_id=d["k"],
                   kek_version=d["v"])


class SealedColumns:
    """Mixin: the columns of a value sealed at rest. A table keeps its own column details through
    the class variables (``kek_id`` length, whether ``wrapped_key`` may be NULL: crypto-shredded,
    whether ``kek_version`` is indexed for rewrapping), so adopting the mixin changes no table."""

    sealed_kek_id_length: ClassVar[int] = 64
    sealed_shreddable: ClassVar[bool] = False
    sealed_version_index: ClassVar[bool] = False

    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)

    @declared_attr
    def wrapped_key(cls) -> Mapped[bytes | None]:
        return mapped_column(LargeBinary, nullable=cls.sealed_shreddable)

    @declared_attr
    def kek_id(cls) -> Mapped[str]:
        return mapped_column(String(cls.sealed_kek_id_length))

    @declared_attr
    def kek_version(cls) -> Mapped[int]:
        return mapped_column(Integer, index=cls.sealed_version_index)

    @property
    def sealed(self) -> Sealed:
        return Sealed.from_row(self)

    @sealed.setter
    def sealed(self, value: Sealed) -> None:
        self.ciphertext, self.wrapped_key, self.kek_id, self.kek_version = (
            value.ciphertext, value.wrapped_key, value.kek_id, value.kek_version)


def aad(*parts: object) -> bytes:
    """Associated data binding a sealed value to where it belongs: the parts joined by ``:``
    (``aad("agreement", agreement_id, "v3")`` is ``b"agreement:<id>:v3"``)."""
    return ":".join(str(p) for p in parts).encode()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal_with_key(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM under ``data_key``; the random 96-bit nonce is prefixed to the ciphertext."""
    nonce = os.urandom(12)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def open_with_key(data_key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(data_key).decrypt(sealed[:12], sealed[12:], aad)
    except InvalidTag:
        raise DecryptionError("the ciphertext or its associated data was altered") from None


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

    @abc.abstractmethod
    def hmac(self, key_id: str, data: bytes) -> bytes:
        """HMAC-SHA256 of ``data`` under ``key_id`` (Vault transit's ``hmac``): the same input
        always gives the same digest, so a lookup column can hold it. The key is never rotated
        (a new version would change every digest)."""


class LocalKeyring(KeyProvider):
    """KEKs in a local JSON file (mode 0600, its directory 0700), the embedded default. Production
    keeps the file apart from the data directory (``ODR_KEK_KEYRING``) or points at a Vault
    transit / KMS provider implementing the same interface.

    Only a keyring opened with ``create`` (dev mode, ``odr keys init``) adds a missing KEK; any
    other raises ``MissingKey``, naming the key and what provides it.

    Several keyrings may share the file (services in one ``odr dev`` process, replicas, the
    rotate command in another process): every change happens under an exclusive file lock on a
    fresh read of the file, and every use re-reads the file when it changed, so nobody acts on a
    stale copy or writes one back over another's new key.
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self.create = create
        self._keys: dict[str, dict[int, bytes]] = {}
        self._stamp: tuple[int, int] | None = None
        if not create and not self.path.exists():
            raise MissingKey(f"the key-encryption keyring {self.path} does not exist; create it with "
                             "`odr keys init` or point ODR_KEK_KEYRING at it")
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
        private_dir(self.path.parent)
        # flock on <file>.lock, kept on release; no soft-lock fallback, which other holders would not see.
        with FileLock(self.path.with_name(self.path.name + ".lock"), mode=FILE_MODE, preserve_lock_file=True):
            self._stamp = None
            self._reload()
            yield
            write_private(self.path, json.dumps({k: {str(v): base64.b64encode(b).decode() for v, b in vs.items()}
                                                 for k, vs in self._keys.items()}))
            self._stamp = self._file_stamp()

    def _versions(self, key_id: str) -> dict[int, bytes]:
        self._reload()
        if key_id not in self._keys:
            if not self.create:
                raise MissingKey(f"the key-encryption key {key_id!r} is not in {self.path}; create it with "
                                 "`odr keys init`")
            with self._locked():
                self._keys.setdefault(key_id, {1: new_data_key()})
        return self._keys[key_id]

    # -- KeyProvider --------------------------------------------------------------------------

    def latest_version(self, key_id: str) -> int:
        return max(self._versions(key_id))

    def wrap(self, key_id: str, data_key: bytes, *, context: bytes = b"") -> tuple[bytes, int]:
        versions = self._versions(key_id)
        version = max(versions)
        return seal_with_key(versions[version], data_key, context), version

    def unwrap(self, key_id: str, wrapped: bytes, version: int, *, context: bytes = b"") -> bytes:
        kek = self._versions(key_id).get(version)
        if kek is None:
            raise DecryptionError(f"key {key_id} v{version} does not exist (destroyed?)")
        try:
            return open_with_key(kek, wrapped, context)
        except DecryptionError:
            raise DecryptionError("the wrapped data key was altered") from None

    def hmac(self, key_id: str, data: bytes) -> bytes:
        versions = self._versions(key_id)
        return hmac_.new(versions[min(versions)], data, hashlib.sha256).digest()

    def rotate(self, key_id: str) -> int:
        """Add a version (an operator's explicit act, so a missing key is created here too)."""
        with self._locked():
            versions = self._keys.setdefault(key_id, {})
            new = max(versions, default=0) + 1
            versions[new] = new_data_key()
        return new

    def destroy_version(self, key_id: str, version: int) -> None:
        with self._locked():
            self._keys.get(key_id, {}).pop(version, None)


def create_keyring(path: Path, *kek_ids: str, create: bool = False) -> LocalKeyring:
    """The KEK provider: the local keyring file at ``path`` (the embedded default; a Vault transit /
    KMS provider would be chosen here). Every KEK named in ``kek_ids`` must exist (``MissingKey``
    otherwise), so a service finds a lost key when it starts, not on the first request that needs
    it; with ``create`` (dev mode, ``odr keys init``) missing ones are created now, under the file
    lock, even when several replicas start together on one data directory."""
    keyring = LocalKeyring(Path(path), create=create)
    for kek_id in kek_ids:
        keyring.latest_version(kek_id)
    return keyring


class Envelope:
    """Seal and open items with per-item data keys wrapped by ``kek_id`` from ``provider``."""

    def __init__(self, provider: KeyProvider, kek_id: str) -> None:
        self.provider = provider
        self.kek_id = kek_id

    def seal(self, plaintext: bytes, *, aad: bytes) -> Sealed:
        data_key = new_data_key()
        ciphertext = seal_with_key(data_key, plaintext, aad)
        wrapped, version = self.provider.wrap(self.kek_id, data_key, context=aad)
        return Sealed(ciphertext=ciphertext, wrapped_key=wrapped, kek_id=self.kek_id, kek_version=version)

    def open(self, sealed: Sealed, *, aad: bytes) -> bytes:
        data_key = self.provider.unwrap(sealed.kek_id, sealed.wrapped_key, sealed.kek_version, context=aad)
        return open_with_key(data_key, sealed.ciphertext, aad)

    def rewrap(self, sealed: Sealed, *, aad: bytes) -> Sealed:
        """Same ciphertext, data key re-wrapped under the newest KEK version (no document decrypted)."""
        wrapped, version = self.provider.rewrap(sealed.kek_id, sealed.wrapped_key, sealed.kek_version, context=aad)
        return Sealed(ciphertext=sealed.ciphertext, wrapped_key=wrapped, kek_id=sealed.kek_id, kek_version=version)


class Vault:
    """Values sealed at rest with one KEK: ``seal`` gives a ``Sealed`` to store (``columns()``,
    ``row.sealed = ...`` or ``pack()``); ``open`` and ``rewrap`` take a ``Sealed`` or a row with
    ``SealedColumns``. ``aad`` binds a value to the identity of its row, so a value moved to another
    row does not open."""

    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope

    @classmethod
    def local(cls, keyring_path: Path, kek_id: str, *, create: bool = False) -> Vault:
        """A vault over the keyring ``create_keyring`` builds for ``keyring_path``."""
        return cls(Envelope(create_keyring(keyring_path, kek_id, create=create), kek_id))

    @property
    def provider(self) -> KeyProvider:
        return self.envelope.provider

    @property
    def kek_id(self) -> str:
        return self.envelope.kek_id

    def seal(self, plaintext: bytes, *, aad: bytes) -> Sealed:
        return self.envelope.seal(plaintext, aad=aad)

    def open(self, sealed: Sealed | Any, *, aad: bytes) -> bytes:
        return self.envelope.open(_as_sealed(sealed), aad=aad)

    def rewrap(self, sealed: Sealed | Any, *, aad: bytes) -> Sealed:
        return self.envelope.rewrap(_as_sealed(sealed), aad=aad)


def _as_sealed(value: Sealed | Any) -> Sealed:
    return value if isinstance(value, Sealed) else Sealed.from_row(value)


# -- streaming AEAD for files ------------------------------------------------------------------
#
# Documents are too big to seal in one AES-GCM call held in memory, so they are sealed as a
# stream of AES-256-GCM segments: the nonce-based "STREAM" construction of Hoang, Reyhanitabar,
# Rogaway and Vizár (2015), the one Tink's and age's streaming AEADs use. Nothing new is invented
# here: it composes AES-GCM and HKDF from ``cryptography``. Each segment's 96-bit nonce is a
# random 7-byte prefix (per stream), a 4-byte segment counter and a 1-byte last-segment flag, so
# segments cannot be reordered, dropped, duplicated or moved to another stream, and a stream cut
# after any segment fails to open (its last segment was not sealed as last). The key of a stream
# is derived with HKDF from the caller's data key, so that data key may also seal other values
# with ``seal_with_key`` without sharing nonces with the stream.

STREAM_SEGMENT = 64 * 1024  # plaintext bytes per segment
STREAM_MAGIC = b"ODRS1"
_STREAM_HEADER = len(STREAM_MAGIC) + 7
_TAG = 16


def _stream_key(data_key: bytes) -> AESGCM:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"odr stream v1").derive(data_key))


def _segment_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 2**32:
        raise ValueError("stream too long")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


async def seal_stream(data_key: bytes, chunks, aad: bytes):
    """Seal an async iterable of plaintext chunks (any sizes); yields the sealed stream: a header,
    then segments of ``STREAM_SEGMENT`` plaintext bytes each (the last one shorter, possibly empty)."""
    aead = _stream_key(data_key)
    prefix = os.urandom(7)
    yield STREAM_MAGIC + prefix
    buf = bytearray()
    counter = 0
    async for chunk in chunks:
        buf += chunk
        # keep at least one byte back: the final segment is known only when the input ends
        while len(buf) > STREAM_SEGMENT:
            seg = bytes(buf[:STREAM_SEGMENT])
            del buf[:STREAM_SEGMENT]
            yield aead.encrypt(_segment_nonce(prefix, counter, False), seg, aad)
            counter += 1
    yield aead.encrypt(_segment_nonce(prefix, counter, True), bytes(buf), aad)


async def open_stream(data_key: bytes, chunks, aad: bytes):
    """Open what ``seal_stream`` produced (an async iterable of chunks of any sizes); yields the
    plaintext segment by segment. ``DecryptionError`` when anything was altered, reordered or cut
    off (raised at the segment where it shows, so a consumer may already have earlier segments)."""
    aead = _stream_key(data_key)
    size = STREAM_SEGMENT + _TAG
    buf = bytearray()
    prefix = None
    counter = 0
    async for chunk in chunks:
        buf += chunk
        if prefix is None:
            if len(buf) < _STREAM_HEADER:
                continue
            if bytes(buf[:len(STREAM_MAGIC)]) != STREAM_MAGIC:
                raise DecryptionError("not a sealed stream")
            prefix = bytes(buf[len(STREAM_MAGIC):_STREAM_HEADER])
            del buf[:_STREAM_HEADER]
        while len(buf) > size:  # more follows, so this segment is not the last
            seg = bytes(buf[:size])
            del buf[:size]
            try:
                yield aead.decrypt(_segment_nonce(prefix, counter, False), seg, aad)
            except InvalidTag:
                raise DecryptionError("a segment of the stream was altered") from None
            counter += 1
    if prefix is None:
        raise DecryptionError("not a sealed stream")
    try:
        yield aead.decrypt(_segment_nonce(prefix, counter, True), bytes(buf), aad)
    except InvalidTag:
        raise DecryptionError("the stream was altered or cut short") from None
