"""The sealed-at-rest kit (``shared.crypto``): one vault over rows with the sealed columns, the
stored formats the services already hold (four columns, one packed column, a data key's own
sealing), the keyring factory and the keyring's file lock."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import threading

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.crypto import (DecryptionError, Envelope, LocalKeyring, Sealed, SealedColumns, Vault, aad,
                           create_keyring, new_data_key, open_with_key, seal_with_key)


class Base(DeclarativeBase):
    pass


class Plain(SealedColumns, Base):
    __tablename__ = "plain"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)


class Shreddable(SealedColumns, Base):
    __tablename__ = "shreddable"
    sealed_kek_id_length = 100
    sealed_shreddable = True
    sealed_version_index = True
    id: Mapped[str] = mapped_column(String(36), primary_key=True)


@pytest.fixture
def vault(tmp_path):
    return Vault.local(tmp_path / "kek.json", "things", create=True)


def test_a_row_holds_a_sealed_value_bound_to_its_identity(vault):
    row = Plain(id="r1", sealed=vault.seal(b"secret terms", aad=aad("thing", "r1")))
    assert b"secret" not in row.ciphertext + row.wrapped_key
    assert (row.kek_id, row.kek_version) == ("things", 1)
    assert Sealed.from_row(row) == row.sealed
    assert vault.open(row, aad=aad("thing", "r1")) == b"secret terms"
    assert vault.open(Sealed.from_row(row), aad=b"thing:r1") == b"secret terms"
    other = Plain(id="r2", **row.sealed.columns())  # the value moved to another row
    with pytest.raises(DecryptionError):
        vault.open(other, aad=aad("thing", other.id))


def test_rewrap_keeps_the_ciphertext_and_moves_to_the_newest_kek_version(vault):
    row = Plain(id="r1", sealed=vault.seal(b"x", aad=b"thing:r1"))
    assert vault.provider.rotate(vault.kek_id) == 2
    new = vault.rewrap(row, aad=b"thing:r1")
    assert new.ciphertext == row.ciphertext and new.kek_version == 2
    row.sealed = new
    assert vault.open(row, aad=b"thing:r1") == b"x"


def test_the_mixin_keeps_each_tables_own_columns():
    plain, shreddable = Plain.__table__.c, Shreddable.__table__.c
    assert not plain.wrapped_key.nullable and shreddable.wrapped_key.nullable
    assert plain.kek_id.type.length == 64 and shreddable.kek_id.type.length == 100
    assert not plain.kek_version.index and shreddable.kek_version.index
    assert not plain.ciphertext.nullable and not plain.kek_id.nullable and not plain.kek_version.nullable


def test_a_packed_value_is_the_one_column_format_already_stored(vault):
    """Notifications keep contact details and webhook secrets as one JSON column: a value packed
    by the code before the kit opens, and the kit packs the same shape."""
    envelope = vault.envelope
    s = envelope.seal(b"aigerim@example.kz", aad=b"contact:p1:email")
    old_blob = json.dumps({"c": base64.b64encode(s.ciphertext).decode(), "w": base64.b64encode(s.wrapped_key).decode(),
                           "k": s.kek_id, "v": s.kek_version}).encode()
    assert vault.open(Sealed.unpack(old_blob), aad=b"contact:p1:email") == b"aigerim@example.kz"
    assert s.pack() == old_blob
    assert Sealed.unpack(s.pack()) == s


def test_a_data_keys_sealing_reads_what_was_sealed_before():
    """Sessions seal messages with a session's data key: nonce, then AES-GCM ciphertext and tag."""
    key = new_data_key()
    nonce = os.urandom(12)
    old = nonce + AESGCM(key).encrypt(nonce, b"words", b"msg:s1:main:3")
    assert open_with_key(key, old, b"msg:s1:main:3") == b"words"
    new = seal_with_key(key, b"words", b"msg:s1:main:3")
    assert new[:12] != old[:12] and open_with_key(key, new, b"msg:s1:main:3") == b"words"
    with pytest.raises(DecryptionError):
        open_with_key(key, new, b"msg:s1:main:4")
    with pytest.raises(DecryptionError):
        open_with_key(new_data_key(), new, b"msg:s1:main:3")


def test_create_keyring_creates_the_named_keks_once(tmp_path):
    path = tmp_path / "keys" / "kek.json"
    ring = create_keyring(path, "a", "b", create=True)
    assert set(json.loads(path.read_text())) == {"a", "b"}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    before = path.read_text()
    again = create_keyring(path, "a")
    assert again.latest_version("a") == 1 and path.read_text() == before  # nothing created twice
    assert Envelope(again, "b").open(Envelope(ring, "b").seal(b"x", aad=b"y"), aad=b"y") == b"x"


def test_a_change_waits_for_whoever_holds_the_keyring_lock(tmp_path):
    """The lock is flock on ``<file>.lock``, as before the kit: a holder in another process (an
    older release during an upgrade, the rotate command) keeps changes out until it lets go."""
    path = tmp_path / "kek.json"
    ring = LocalKeyring(path, create=True)
    ring.latest_version("k")
    done = threading.Event()
    with open(path.with_name("kek.json.lock"), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: (ring.rotate("k"), done.set()))
        worker.start()
        assert not done.wait(0.3)
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(5)
    assert done.is_set() and LocalKeyring(path).latest_version("k") == 2
