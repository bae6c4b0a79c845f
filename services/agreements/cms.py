"""A detached CMS (RFC 5652) / CAdES-BES signature over given bytes: its structure and the
signature of its one signer, with ``asn1crypto`` parsing the structure and the algorithm registry
(``algorithms.py``) doing the cryptography. The certificate chain is not checked here (``nca.py``
does that with ``pyhanko_certvalidator``).

Why this and not ``cryptography``'s ``pkcs7`` module: ``cryptography`` builds PKCS#7 signatures
but does not verify them, and it has no GOST; ``asn1crypto`` is the ASN.1 layer that
``pyhanko_certvalidator`` is built on, so one parsed certificate serves both steps. The steps are
RFC 5652 section 5.4's: the message-digest attribute equals the digest of the content, and the
signature is over the DER of the signed attributes (as a SET).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, x509
from cryptography.exceptions import InvalidSignature

from .algorithms import AlgorithmRegistry, UnsupportedAlgorithm


class MalformedCms(Exception):
    """Not a CMS SignedData we can read, or one without exactly one signer and its certificate."""


class ContentMismatch(Exception):
    """The CMS is over other bytes than the ones being signed."""


class BadSignature(Exception):
    """The signature value does not verify with the signer's certificate."""


@dataclass(frozen=True)
class SignedCms:
    signer: x509.Certificate
    certificates: list[x509.Certificate]
    digest_algorithm: str
    signature_algorithm: str
    claimed_signing_time: datetime | None


def _parse(data: bytes) -> tuple[cms.SignedData, cms.SignerInfo]:
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise MalformedCms("the CMS is not SignedData")
        signed = info["content"]
        signers = signed["signer_infos"]
        if len(signers) != 1:
            raise MalformedCms(f"the CMS has {len(signers)} signers; exactly one is expected")
        signed.native  # parses every field now, so a broken inner structure fails here
        return signed, signers[0]
    except MalformedCms:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise MalformedCms(f"the CMS cannot be parsed: {e}") from None


def _signer_certificate(signed: cms.SignedData, signer: cms.SignerInfo) -> tuple[x509.Certificate, list]:
    certs = [c.chosen for c in (signed["certificates"] or []) if c.name == "certificate"]
    sid = signer["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            if cert.issuer == sid.chosen["issuer"] and cert.serial_number == sid.chosen["serial_number"].native:
                return cert, certs
        elif cert.key_identifier == sid.chosen.native:
            return cert, certs
    raise MalformedCms("the CMS does not carry the signer's certificate")


def _attribute(attrs: cms.CMSAttributes, name: str):
    values = [a["values"] for a in attrs if a["type"].native == name]
    if len(values) != 1 or len(values[0]) != 1:
        return None
    return values[0][0]


def verify_detached(data: bytes, *, content: bytes, algorithms: AlgorithmRegistry) -> SignedCms:
    """The signer's certificate and what the CMS says, if its one signature is over ``content``.
    Raises ``MalformedCms``, ``ContentMismatch``, ``BadSignature`` or the registry's
    ``UnsupportedAlgorithm``."""
    signed, signer = _parse(data)
    cert, certs = _signer_certificate(signed, signer)
    encapsulated = signed["encap_content_info"]["content"].native
    if encapsulated is not None and encapsulated != content:
        raise ContentMismatch("the CMS carries other content than the document hash")
    digest_algorithm = signer["digest_algorithm"]["algorithm"]
    digest_name = digest_algorithm.native if digest_algorithm.native != digest_algorithm.dotted \
        else digest_algorithm.dotted
    signature_algorithm = signer["signature_algorithm"]
    attrs = signer["signed_attrs"]
    claimed = None
    if attrs.native is not None and len(attrs):
        content_type = _attribute(attrs, "content_type")
        message_digest = _attribute(attrs, "message_digest")
        if content_type is None or message_digest is None:
            raise MalformedCms("the signed attributes lack content-type or message-digest")
        if content_type.native != signed["encap_content_info"]["content_type"].native:
            raise MalformedCms("the content-type attribute does not match the content")
        if not hmac.compare_digest(message_digest.native, algorithms.digest(digest_name, content)):
            raise ContentMismatch("the CMS is over other content than the document hash")
        signing_time = _attribute(attrs, "signing_time")
        claimed = signing_time.native if signing_time is not None else None
        to_verify = b"\x31" + attrs.dump()[1:]  # the [0] IMPLICIT tag is signed as a SET (RFC 5652 5.4)
    else:
        to_verify = content
    try:
        algorithms.verify(signature=signer["signature"].native, data=to_verify, public_key=cert.public_key,
                          algorithm=signature_algorithm, digest_algorithm=digest_name)
    except UnsupportedAlgorithm:
        raise
    except InvalidSignature:
        raise BadSignature("the signature does not verify with the signer's certificate") from None
    except (ValueError, TypeError, AssertionError):
        raise BadSignature("the signature does not verify with the signer's certificate") from None
    return SignedCms(signer=cert, certificates=certs, digest_algorithm=digest_name,
                     signature_algorithm=f'{signature_algorithm["algorithm"].native}/{digest_name}',
                     claimed_signing_time=claimed)
