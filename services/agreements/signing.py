"""How a signer's identity is established when they sign.

A **platform signature**: the signer is authenticated by their access token (a party by their
case-scoped link, the mediator by their account) and confirms the exact document hash they saw.
The assurance recorded with it says so (``credential: bearer-token``, role, side, token id).

A **qualified electronic signature** (Kazakhstan: ЭЦП of the National Certification Authority,
НУЦ РК): a detached CMS made on the signer's own device (NCALayer) with their key over the
*signed content*, the ASCII bytes of the 64-character hex document hash, i.e. the SHA-256 of the
RFC 8785 canonical document the platform seals. The server verifies it (``nca.py``); the
assurance keeps the certificate's identity and the CMS itself, so whoever holds the sealed
document can check the signature again with any CAdES tool.

Providers are behind ``QualifiedSignatureVerifier``; the NCA verifier is configured by the
``ODR_AGREEMENTS_NCA_*`` settings, and without trust anchors ``NcaNotConfigured`` refuses (501)
instead of pretending.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Protocol

from shared.auth import Principal
from shared.problems import Problem

from .algorithms import registry
from .config import AgreementsSettings
from .nca import NcaVerifier, QualifiedIdentity, load_certificates, load_crls


def signed_content(document_hash: str) -> bytes:
    """The bytes a qualified signature is over: the document hash as the signer saw it."""
    return document_hash.encode("ascii")


class QualifiedSignatureVerifier(Protocol):
    provider: str

    async def verify(self, *, content: bytes, cms_der: bytes) -> QualifiedIdentity:
        """Verify a detached CMS over ``content`` now (structure, signature, chain, validity,
        revocation); the signer's identity, or raise a ``Problem``."""
        ...

    async def recheck(self, *, content: bytes, cms_der: bytes,
                      signed_at: datetime) -> tuple[dict, QualifiedIdentity | None, list[str]]:
        """The same offline at ``signed_at``, for public verification: checks, identity, reasons."""
        ...


class NcaNotConfigured:
    provider = "kz-nca"

    async def verify(self, *, content: bytes, cms_der: bytes) -> QualifiedIdentity:
        raise Problem(501, "qualified-signature-unavailable",
                      "qualified electronic signatures (NCA RK) are not configured on this platform; "
                      "sign with method 'platform'")

    async def recheck(self, *, content: bytes, cms_der: bytes,
                      signed_at: datetime) -> tuple[dict, QualifiedIdentity | None, list[str]]:
        return {"cms": False}, None, ["this platform has no NCA trust anchors configured to check the signature"]


def verifiers(config: AgreementsSettings) -> dict[str, QualifiedSignatureVerifier]:
    if not config.nca_trust_anchors:
        return {"kz-nca": NcaNotConfigured()}
    return {"kz-nca": NcaVerifier(trust_anchors=load_certificates(config.nca_trust_anchors),
                                  intermediates=load_certificates(config.nca_intermediates),
                                  algorithms=registry(gost_provider=config.nca_gost_provider),
                                  revocation=config.nca_revocation, fetch_revocation=config.nca_fetch_revocation,
                                  crls=load_crls(config.nca_crls))}


NCALAYER_URL = "wss://127.0.0.1:13579"


def ncalayer_url(settings, config: AgreementsSettings) -> str:
    """NCALayer listens on the person's own computer at a fixed address; another one is accepted
    only in dev mode, for the browser tests' stand-in."""
    return config.ncalayer_url if settings.dev_mode else NCALAYER_URL


def platform_assurance(principal: Principal, slot: str) -> dict:
    """How a platform signature was made. A representative's says so, and for which party."""
    out = {"credential": "bearer-token", "role": principal.role, "slot": slot, "token_id": principal.token_id,
           "authentication": "case-scoped link" if principal.role == "party" else "account"}
    if principal.role == "party":
        out["acting"] = principal.acting
        if principal.acting == "representative":
            out["representative_id"], out["on_behalf_of"] = principal.subject, principal.party_id
    return out


def qualified_assurance(identity: QualifiedIdentity, cms_der: bytes) -> dict:
    """What the signed agreement keeps: the certificate's identity and the CMS itself."""
    return {"credential": "qualified-e-signature", **identity.as_dict(),
            "cms": base64.b64encode(cms_der).decode(), "cms_sha256": hashlib.sha256(cms_der).hexdigest()}


def sealed_signer(entry: dict) -> dict:
    """A signer as the platform seal covers it. A qualified signature's CMS is bound by its
    SHA-256, so nobody can swap one party's CMS for another's in a sealed copy."""
    out = {k: entry[k] for k in ("slot", "signer", "signed_at", "method")}
    if entry["method"] == "qualified":
        out["cms_sha256"] = entry["assurance"]["cms_sha256"]
    return out
