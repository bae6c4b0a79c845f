"""Tokens: signed, scoped, expiring, rotatable; secrets hashed with argon2."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.auth import KeyRing, TokenService, Unauthorized, hash_secret, verify_secret


@pytest.fixture
def ring(tmp_path):
    return KeyRing.load(tmp_path / "keys.json", create=True)


def test_a_token_carries_its_role_and_scope(ring):
    tokens = TokenService(ring)
    principal = tokens.verify(tokens.issue(subject="p1", role="party", cases=["c1"], party_side="claimant"))
    assert principal.role == "party" and principal.cases == {"c1"} and principal.party_side == "claimant"
    assert principal.can_access_case("c1") and not principal.can_access_case("c2")


def test_a_court_reaches_only_its_own_referrals(ring):
    tokens = TokenService(ring)
    court = tokens.verify(tokens.issue(subject="client-1", role="court", court="almaty"))
    assert court.can_access_case("c1", court_id="almaty")
    assert not court.can_access_case("c1", court_id="astana")
    assert not court.can_access_case("c1", court_id=None)


def test_expired_tampered_and_foreign_tokens_are_refused(ring, tmp_path):
    tokens = TokenService(ring)
    expired = tokens.issue(subject="p", role="party", ttl_seconds=1)
    time.sleep(2.1)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(expired)
    good = tokens.issue(subject="p", role="party", cases=["c1"])
    header, payload, signature = good.split(".")
    forged_payload = jwt.utils.base64url_encode(b'{"sub":"p","role":"admin","iss":"odr","aud":"odr","iat":1,"exp":9999999999}').decode()
    with pytest.raises(Unauthorized):
        tokens.verify(f"{header}.{forged_payload}.{signature}")
    other = TokenService(KeyRing.load(tmp_path / "other.json", create=True))
    with pytest.raises(Unauthorized, match="unknown key"):
        tokens.verify(other.issue(subject="p", role="admin"))
    with pytest.raises(Unauthorized, match="malformed"):
        tokens.verify("not-a-token")


def test_rotation_keeps_old_tokens_valid_and_signs_with_the_new_key(ring):
    old = TokenService(ring).issue(subject="p", role="mediator", cases=["c"])
    rotated = ring.rotated()
    service = TokenService(rotated)
    assert service.verify(old).role == "mediator"
    assert jwt.get_unverified_header(service.issue(subject="p", role="admin"))["kid"] == rotated.active.kid != ring.active.kid


def test_a_verify_only_keyring_cannot_sign(ring):
    public = KeyRing.from_json(ring.to_json(include_private=False))
    token = TokenService(ring).issue(subject="p", role="admin")
    assert TokenService(public).verify(token).role == "admin"
    with pytest.raises(RuntimeError):
        TokenService(public).issue(subject="p", role="admin")


def test_production_refuses_to_invent_a_keyring(tmp_path):
    with pytest.raises(FileNotFoundError):
        KeyRing.load(tmp_path / "missing.json", create=False)


def test_secrets_are_argon2_hashed():
    hashed = hash_secret("s3cret")
    assert hashed.startswith("$argon2") and "s3cret" not in hashed
    assert verify_secret(hashed, "s3cret") and not verify_secret(hashed, "other")
    assert not verify_secret("garbage", "s3cret")


def test_the_key_set_is_a_jwks_that_loads_back_and_verifies_tokens(ring):
    import json

    tokens = TokenService(ring)
    token = tokens.issue(subject="p-1", role="party", cases=["c-1"])
    jwks = ring.jwks()
    assert [(k["kid"], k["kty"], k["crv"], k["alg"]) for k in jwks["keys"]] == [
        (kid, "OKP", "Ed25519", "EdDSA") for kid in ring.keys]
    assert all("d" not in k for k in jwks["keys"])
    verifier = TokenService(KeyRing.from_json(json.dumps(jwks)))
    assert verifier.verify(token).subject == "p-1"
    assert verifier.keyring.active is None  # public keys only: it verifies, never signs
    with pytest.raises(RuntimeError):
        verifier.issue(subject="p-1", role="party")
    # A keyring file (PEM) and the key set name the same keys.
    assert KeyRing.from_json(ring.to_json(include_private=False)).jwks() == jwks


def test_the_jwks_matches_the_seal_key_set_agreements_publishes(ring):
    from services.agreements.signer import PlatformSigner as Sealer

    assert ring.jwks(alg="Ed25519")["keys"] == Sealer(ring).public_keys()  # the seal names its alg Ed25519
