"""Envelope encryption: round trip, tamper detection, binding to its record, rotation, shredding."""

from __future__ import annotations

import pytest

from shared.crypto import DecryptionError, Envelope, LocalKeyring, Sealed


@pytest.fixture
def envelope(tmp_path):
    return Envelope(LocalKeyring(tmp_path / "kek.json", create=True), "agreements")


def test_round_trip_and_no_plaintext_in_what_is_stored(envelope):
    sealed = envelope.seal(b"pays 1,000,000 KZT by 1 March", aad=b"agreement:a1:v1")
    assert b"KZT" not in sealed.ciphertext + sealed.wrapped_key
    assert envelope.open(sealed, aad=b"agreement:a1:v1") == b"pays 1,000,000 KZT by 1 March"


def test_tampering_or_moving_ciphertext_is_detected(envelope):
    sealed = envelope.seal(b"terms", aad=b"agreement:a1:v1")
    flipped = bytes([sealed.ciphertext[-1] ^ 1])
    with pytest.raises(DecryptionError):
        envelope.open(Sealed(sealed.ciphertext[:-1] + flipped, sealed.wrapped_key, sealed.kek_id, sealed.kek_version),
                      aad=b"agreement:a1:v1")
    with pytest.raises(DecryptionError):
        envelope.open(Sealed(sealed.ciphertext, sealed.wrapped_key[:-1] + b"\0", sealed.kek_id, sealed.kek_version),
                      aad=b"agreement:a1:v1")
    with pytest.raises(DecryptionError):
        envelope.open(sealed, aad=b"agreement:a2:v1")


def test_rotation_rewraps_without_touching_ciphertext_and_survives_a_reload(envelope, tmp_path):
    sealed = envelope.seal(b"terms", aad=b"x")
    new_version = envelope.provider.rotate("agreements")
    rewrapped = envelope.rewrap(sealed, aad=b"x")
    assert rewrapped.kek_version == new_version and rewrapped.ciphertext == sealed.ciphertext
    reloaded = Envelope(LocalKeyring(tmp_path / "kek.json"), "agreements")
    assert reloaded.open(rewrapped, aad=b"x") == b"terms"
    assert reloaded.open(sealed, aad=b"x") == b"terms"  # old version still unwraps until destroyed
    reloaded.provider.destroy_version("agreements", 1)
    with pytest.raises(DecryptionError):
        reloaded.open(sealed, aad=b"x")  # crypto-shredded
    assert reloaded.open(rewrapped, aad=b"x") == b"terms"


def test_keyrings_sharing_a_file_never_lose_each_others_keys(tmp_path):
    """Two services in one process (odr dev) and a rotate command in another share the file."""
    path = tmp_path / "kek.json"
    a, b = LocalKeyring(path, create=True), LocalKeyring(path, create=True)
    sealed_a = Envelope(a, "intake").seal(b"answers", aad=b"s")
    sealed_b = Envelope(b, "agreements").seal(b"terms", aad=b"t")  # b creates its KEK after a did
    rotated = LocalKeyring(path).rotate("intake")  # "another process" rotates
    fresh = LocalKeyring(path)
    assert Envelope(fresh, "intake").open(sealed_a, aad=b"s") == b"answers"
    assert Envelope(fresh, "agreements").open(sealed_b, aad=b"t") == b"terms"
    assert a.latest_version("intake") == rotated  # a running keyring sees the rotation
    assert Envelope(a, "agreements").open(sealed_b, aad=b"t") == b"terms"
