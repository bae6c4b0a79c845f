"""Signature and digest algorithms behind one interface, for verifying qualified electronic
signatures (``nca.py``).

NCA RK certificates come with RSA keys (today's default for people and companies), ECDSA and
the national GOST algorithms (GOST R 34.10-2015 under the NCA's own arcs and the older
GOST 34.310-2004). RSA and ECDSA are verified by ``cryptography`` through
``pyhanko_certvalidator``'s own signature validator (the same code that checks the certificate
chain). GOST is not in ``cryptography`` or OpenSSL's default provider, so it is a pluggable
``AlgorithmProvider``: an operator who needs it installs a provider (for example one built on a
certified GOST library) and names it in ``ODR_AGREEMENTS_NCA_GOST_PROVIDER``. Without one, a GOST
signature gets a clear 501 refusal rather than a guess; any other unknown algorithm a 422.

The registry is also a ``pyhanko_certvalidator`` ``SignatureValidator``, so the certificates in
the chain are checked by the same providers as the signature itself.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from asn1crypto import algos, keys
from cryptography.hazmat.primitives import hashes
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (DEFAULT_VALIDATION_CONTEXT, DefaultSignatureValidator,
                                                SignatureValidationContext, SignatureValidator)

# Signature (and key) algorithm OIDs of the GOST family used by NCA RK and its neighbours.
GOST_SIGNATURES = frozenset({
    "1.2.398.3.10.1.1.2.3.1",  # GOST R 34.10-2015 with GOST R 34.11-2015, 256 bit (NCA RK arc)
    "1.2.398.3.10.1.1.2.3.2",  # the same, 512 bit
    "1.2.398.3.10.1.1.1.1",    # GOST R 34.10-2015 public keys (NCA RK arc)
    "1.2.398.3.10.1.1.1.2",
    "1.3.6.1.4.1.6801.1.2.2",  # GOST 34.311-95 with GOST 34.310-2004 (older NCA certificates)
    "1.3.6.1.4.1.6801.1.5.8",  # GOST 34.310-2004 keys
    "1.2.643.2.2.3",           # GOST R 34.11-94 with GOST R 34.10-2001
    "1.2.643.7.1.1.3.2",       # GOST R 34.10-2012 with 34.11-2012, 256 bit (TC 26)
    "1.2.643.7.1.1.3.3",       # the same, 512 bit
})
GOST_DIGESTS = frozenset({
    "1.2.398.3.10.1.3.2",      # GOST R 34.11-2015 (NCA RK arc)
    "1.3.6.1.4.1.6801.1.1.1",  # GOST 34.311-95
    "1.2.643.2.2.9",           # GOST R 34.11-94
    "1.2.643.7.1.1.2.2",       # Streebog 256
    "1.2.643.7.1.1.2.3",       # Streebog 512
})
_DIGESTS = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
            "sha3_256": hashes.SHA3_256, "sha3_384": hashes.SHA3_384, "sha3_512": hashes.SHA3_512}


class UnsupportedAlgorithm(AlgorithmNotSupported):
    """No provider knows this algorithm. (An ``InvalidSignature`` for ``pyhanko_certvalidator``,
    so a chain with such a certificate fails as untrusted.)"""

    def __init__(self, algorithm: str) -> None:
        super().__init__(f"algorithm {algorithm} is not supported")
        self.algorithm = algorithm


class AlgorithmUnavailable(UnsupportedAlgorithm):
    """A known algorithm (GOST) whose provider is not installed on this platform."""


class AlgorithmProvider(Protocol):
    """One family of algorithms. ``signatures`` and ``digests`` are mechanism names as
    ``asn1crypto`` spells them (``rsassa_pkcs1v15``, ``ecdsa``, ``sha256``) or dotted OIDs for
    algorithms it does not know (GOST)."""

    name: str
    signatures: frozenset[str]
    digests: frozenset[str]

    def verify(self, *, signature: bytes, data: bytes, public_key: keys.PublicKeyInfo,
               algorithm: algos.SignedDigestAlgorithm, digest_algorithm: str | None) -> None:
        """Raise ``cryptography.exceptions.InvalidSignature`` unless ``signature`` is over ``data``."""
        ...

    def digest(self, algorithm: str, data: bytes) -> bytes: ...


class RsaEcdsa:
    """RSA (PKCS#1 v1.5 and PSS) and ECDSA with the SHA-2/SHA-3 digests, by ``cryptography``."""

    name = "rsa-ecdsa"
    signatures = frozenset({"rsassa_pkcs1v15", "rsassa_pss", "ecdsa"})
    digests = frozenset(_DIGESTS)

    def verify(self, *, signature: bytes, data: bytes, public_key: keys.PublicKeyInfo,
               algorithm: algos.SignedDigestAlgorithm, digest_algorithm: str | None) -> None:
        DefaultSignatureValidator().validate_signature(
            signature, data, public_key, algorithm, SignatureValidationContext(contextual_md_algorithm=digest_algorithm))

    def digest(self, algorithm: str, data: bytes) -> bytes:
        h = hashes.Hash(_DIGESTS[algorithm]())
        h.update(data)
        return h.finalize()


def mechanism(algorithm: algos.SignedDigestAlgorithm) -> str:
    try:
        return algorithm.signature_algo
    except ValueError:
        return algorithm["algorithm"].dotted


class AlgorithmRegistry(SignatureValidator):
    """Dispatches each signature and digest to the provider that declares it."""

    def __init__(self, providers: list[AlgorithmProvider]) -> None:
        self.providers = list(providers)

    def _provider(self, name: str, attr: str, known_elsewhere: frozenset[str]) -> AlgorithmProvider:
        for p in self.providers:
            if name in getattr(p, attr):
                return p
        if name in known_elsewhere:
            raise AlgorithmUnavailable(name)
        raise UnsupportedAlgorithm(name)

    def digest(self, algorithm: str, data: bytes) -> bytes:
        return self._provider(algorithm, "digests", GOST_DIGESTS).digest(algorithm, data)

    def verify(self, *, signature: bytes, data: bytes, public_key: keys.PublicKeyInfo,
               algorithm: algos.SignedDigestAlgorithm, digest_algorithm: str | None) -> None:
        provider = self._provider(mechanism(algorithm), "signatures", GOST_SIGNATURES)
        provider.verify(signature=signature, data=data, public_key=public_key, algorithm=algorithm,
                        digest_algorithm=digest_algorithm)

    def validate_signature(self, signature: bytes, signed_data: bytes, public_key_info: keys.PublicKeyInfo,
                           signature_algorithm: algos.SignedDigestAlgorithm,
                           context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT) -> None:
        """``pyhanko_certvalidator``'s hook: certificate and OCSP/CRL signatures in the chain."""
        self.verify(signature=signature, data=signed_data, public_key=public_key_info, algorithm=signature_algorithm,
                    digest_algorithm=context.contextual_md_algorithm)


def load_provider(path: str) -> AlgorithmProvider:
    """``module:attribute`` naming a provider instance or class (a GOST provider installed by the
    operator)."""
    module, _, attr = path.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    return obj() if isinstance(obj, type) else obj


def registry(*, gost_provider: str | None = None) -> AlgorithmRegistry:
    providers: list[AlgorithmProvider] = [RsaEcdsa()]
    if gost_provider:
        providers.append(load_provider(gost_provider))
    return AlgorithmRegistry(providers)
