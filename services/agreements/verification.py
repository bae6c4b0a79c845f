"""Public verification: anyone holding an executed agreement (its sealed JSON, or the PDF) can ask
whether it is genuine and unaltered. Checks, each reported separately:

- ``document_hash``: the canonical (RFC 8785) SHA-256 of the document equals the sealed hash,
  so not a character of the terms changed;
- ``seal_signature``: the platform's Ed25519 seal over hash, signers and times verifies with a
  platform key (also checkable offline with ``GET /seal/keys``);
- ``signers``: the signature block matches the sealed signer list;
- ``issued``: this platform issued a seal for exactly that agreement and hash;
- for a PDF, ``pdf_issued``: the PDF is byte for byte the one issued with the seal (its
  SHA-256 is on record), so the visible text was not edited either;
- where a party signed with a qualified electronic signature, ``qualified_signatures``: each CMS
  is checked again (``signatures`` in the answer, one entry per signer): its structure, the
  signature over this document's hash, the certificate chain to the configured NCA roots at the
  recorded signing time (offline: revocation is reported as it was checked at signing), and the
  certificate's IIN/BIN against the identifier the document gives for that side.

Answers only about what the caller already holds; never returns content.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import documents
from .models import SealRecord
from .signing import NcaNotConfigured, QualifiedSignatureVerifier, sealed_signer, signed_content
from .pdf import attached_document
from .models import Agreement
from .schemas import SealLookup, VerificationResult
from .signer import PlatformSigner


async def _check_qualified(verifier: QualifiedSignatureVerifier, document: dict, entry: dict,
                           sealed_entry: dict | None) -> dict:
    """One qualified signature, checked again offline."""
    assurance = entry["assurance"]
    checks, identity, reasons = await verifier.recheck(
        content=signed_content(documents.document_hash(document)), cms_der=base64.b64decode(assurance["cms"]),
        signed_at=datetime.fromisoformat(entry["signed_at"]))
    identifiers = {p["identifier"] for p in document.get("content", {}).get("parties", [])
                   if p.get("side") == entry["slot"].split(":", 1)[0] and p.get("identifier")}  # a party's slot: claimant:<id>
    checks["identity"] = identity is not None and bool(({identity.iin, identity.bin} - {None}) & identifiers) \
        and (identity.iin, identity.bin) == (assurance.get("iin"), assurance.get("bin"))
    if identity is not None and not checks["identity"]:
        reasons.append("the certificate's IIN/BIN is not the one the document gives for this side")
    checks["sealed"] = sealed_entry is not None and sealed_entry.get("cms_sha256") == assurance.get("cms_sha256")
    if not checks["sealed"]:
        reasons.append("this signature is not the one the platform sealed")
    cert = identity.as_dict() if identity is not None else {}
    return {"slot": entry["slot"], "method": "qualified", "signed_at": entry["signed_at"],
            "valid": all(checks.values()), "checks": checks, "reasons": reasons,
            "certificate": {k: cert.get(k) for k in ("subject", "common_name", "iin", "bin", "organization",
                                                     "certificate_serial", "issuer", "algorithm")},
            "revocation_at_signing": assurance.get("revocation")}


async def verify_sealed(session: AsyncSession, signer: PlatformSigner, sealed: object, *,
                        qualified: dict[str, QualifiedSignatureVerifier] | None = None) -> VerificationResult:
    checks = {"document_hash": False, "seal_signature": False, "signers": False, "issued": False}
    reasons: list[str] = []
    signatures: list[dict] = []
    try:
        document, block, seal = sealed["document"], sealed["signatures"], sealed["seal"]
        payload = seal["payload"]
        checks["document_hash"] = documents.document_hash(document) == payload["document_hash"]
        checks["seal_signature"] = signer.verify(seal)
        checks["signers"] = [sealed_signer(s) for s in block] \
            == payload["signers"] and payload.get("agreement_id") == document.get("agreement_id") \
            and payload.get("version") == document.get("version")
        sealed_by_slot = {s.get("slot"): s for s in payload["signers"]}
        for entry in block:
            if entry["method"] != "qualified":
                signatures.append({"slot": entry["slot"], "method": entry["method"], "signed_at": entry["signed_at"],
                                   "credential": entry.get("assurance", {}).get("credential")})
                continue
            verifier = (qualified or {}).get(entry["assurance"].get("provider"))
            if verifier is None:
                verifier = NcaNotConfigured()
            signatures.append(await _check_qualified(verifier, document, entry, sealed_by_slot.get(entry["slot"])))
        if any(s["method"] == "qualified" for s in signatures):
            checks["qualified_signatures"] = all(s["valid"] for s in signatures if s["method"] == "qualified")
        record = await session.get(SealRecord, str(payload["agreement_id"]))
        checks["issued"] = record is not None and record.document_hash == payload["document_hash"] \
            and record.seal.get("signature") == seal.get("signature")
    except (KeyError, TypeError, AttributeError, ValueError):
        reasons.append("this is not a sealed agreement document")
        checks.pop("qualified_signatures", None)
        return VerificationResult(valid=False, checks=checks, reasons=reasons)
    if not checks["document_hash"]:
        reasons.append("the document was altered: its hash does not match the sealed hash")
    if not checks["seal_signature"]:
        reasons.append("the platform seal does not verify")
    if not checks["signers"]:
        reasons.append("the signature block does not match the sealed signers")
    if not checks["issued"]:
        reasons.append("this platform has no record of issuing this seal")
    if not checks.get("qualified_signatures", True):
        reasons.append("a qualified electronic signature does not verify: "
                       + "; ".join(r for s in signatures if s["method"] == "qualified" for r in s["reasons"]))
    valid = all(checks.values())
    return VerificationResult(valid=valid, checks=checks, reasons=reasons,
                              agreement_id=payload.get("agreement_id") if valid else None,
                              version=payload.get("version") if valid else None,
                              document_hash=payload.get("document_hash") if valid else None,
                              sealed_at=payload.get("sealed_at") if valid else None,
                              signers=payload.get("signers", []) if valid else [], signatures=signatures)


async def verify_pdf(session: AsyncSession, signer: PlatformSigner, data: bytes, *,
                     qualified: dict[str, QualifiedSignatureVerifier] | None = None) -> VerificationResult:
    digest = hashlib.sha256(data).hexdigest()
    issued = (await session.execute(select(SealRecord.agreement_id).where(SealRecord.pdf_sha256 == digest))).first()
    embedded = attached_document(data)
    if embedded is None:
        result = VerificationResult(valid=False, checks={"pdf_issued": issued is not None}, reasons=[
            "the PDF carries no sealed agreement document" if issued is None else
            "the PDF matches an issued one but its attached document is unreadable"])
        return result
    result = await verify_sealed(session, signer, embedded, qualified=qualified)
    result.checks["pdf_issued"] = issued is not None
    if issued is None:
        result.reasons.append("the PDF is not byte for byte the one the platform issued (it was edited)")
        result.valid = False
        result.agreement_id = result.version = result.document_hash = result.sealed_at = None
        result.signers = []
    return result


async def lookup(session: AsyncSession, document_hash: str) -> SealLookup:
    """What the verification link on a PDF opens: whether this platform sealed a document with
    this hash, when and with which signer slots. Only the hash (printed on the PDF, 256 bits, not
    guessable) finds it; nothing of the content is returned. Checking that a copy is unaltered is
    still ``POST /verify`` with the copy itself."""
    record = (await session.execute(select(SealRecord).where(SealRecord.document_hash == document_hash))).scalar_one_or_none()
    if record is None:
        return SealLookup(issued=False, document_hash=document_hash)
    agreement = await session.get(Agreement, record.agreement_id)
    payload = record.seal.get("payload", {})
    return SealLookup(issued=True, document_hash=document_hash, version=record.version, sealed_at=record.sealed_at,
                      jurisdiction=agreement.jurisdiction if agreement else None,
                      signers=[s.get("slot") for s in payload.get("signers", [])],
                      status=agreement.status if agreement else None)
