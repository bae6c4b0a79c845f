"""How a signer's identity is established when they sign, and the adapter for a qualified
electronic signature.

Today a signature is a **platform signature**: the signer is authenticated by their access token
(a party by their case-scoped link, the mediator by their account) and confirms the exact
document hash they saw. The assurance recorded with it says so (``credential: bearer-token``,
role, side, token id).

A **qualified electronic signature** (Kazakhstan: ЭЦП issued by the National Certification
Authority, НУЦ РК) is created on the signer's device (NCALayer signs a detached CMS over the
document hash with the signer's key) and must be verified server-side: CMS signature, certificate
chain to the NCA root, revocation (OCSP/CRL) at signing time, key usage, and the IIN in the
certificate matching the party. That needs the NCA's verification service (e.g. an NCANode
deployment), which this platform does not have, so ``NcaNotConfigured`` refuses instead of
pretending: plug a real ``QualifiedSignatureVerifier`` into ``VERIFIERS`` to enable it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.auth import Principal
from shared.problems import Problem


@dataclass(frozen=True)
class QualifiedIdentity:
    """What a verified qualified signature establishes (no names: certificate ids)."""

    provider: str
    certificate_serial: str
    issuer: str
    signed_at: datetime | None = None


class InvalidQualifiedSignature(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(422, "invalid-qualified-signature", detail)


class QualifiedSignatureVerifier(Protocol):
    provider: str

    async def verify(self, *, document_hash: str, cms: bytes, principal: Principal) -> QualifiedIdentity:
        """Verify a detached CMS signature over ``document_hash`` (chain, revocation, key usage,
        signer identity matching ``principal``); raise ``InvalidQualifiedSignature`` otherwise."""
        ...


class NcaNotConfigured:
    provider = "kz-nca"

    async def verify(self, *, document_hash: str, cms: bytes, principal: Principal) -> QualifiedIdentity:
        raise Problem(501, "qualified-signature-unavailable",
                      "qualified electronic signatures (NCA RK) are not configured on this platform; "
                      "sign with method 'platform'")


VERIFIERS: dict[str, QualifiedSignatureVerifier] = {"kz-nca": NcaNotConfigured()}


def platform_assurance(principal: Principal, slot: str) -> dict:
    return {"credential": "bearer-token", "role": principal.role, "slot": slot, "token_id": principal.token_id,
            "authentication": "case-scoped link" if principal.role == "party" else "account"}


def qualified_assurance(identity: QualifiedIdentity) -> dict:
    return {"credential": "qualified-e-signature", "provider": identity.provider,
            "certificate_serial": identity.certificate_serial, "issuer": identity.issuer}
