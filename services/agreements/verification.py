"""Public verification: anyone holding an executed agreement (its sealed JSON, or the PDF) can ask
whether it is genuine and unaltered. Checks, each reported separately:

- ``document_hash``: the canonical (RFC 8785) SHA-256 of the document equals the sealed hash,
  so not a character of the terms changed;
- ``seal_signature``: the platform's Ed25519 seal over hash, signers and times verifies with a
  platform key (also checkable offline with ``GET /seal/keys``);
- ``signers``: the signature block matches the sealed signer list;
- ``issued``: this platform issued a seal for exactly that agreement and hash;
- for a PDF, ``pdf_issued``: the PDF is byte for byte the one issued with the seal (its
  SHA-256 is on record), so the visible text was not edited either.

Answers only about what the caller already holds; never returns content.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import documents
from .models import SealRecord
from .pdf import attached_document
from .schemas import VerificationResult
from .signer import PlatformSigner


async def verify_sealed(session: AsyncSession, signer: PlatformSigner, sealed: object) -> VerificationResult:
    checks = {"document_hash": False, "seal_signature": False, "signers": False, "issued": False}
    reasons: list[str] = []
    try:
        document, block, seal = sealed["document"], sealed["signatures"], sealed["seal"]
        payload = seal["payload"]
        checks["document_hash"] = documents.document_hash(document) == payload["document_hash"]
        checks["seal_signature"] = signer.verify(seal)
        checks["signers"] = [{k: s[k] for k in ("slot", "signer", "signed_at", "method")} for s in block] \
            == payload["signers"] and payload.get("agreement_id") == document.get("agreement_id") \
            and payload.get("version") == document.get("version")
        record = await session.get(SealRecord, str(payload["agreement_id"]))
        checks["issued"] = record is not None and record.document_hash == payload["document_hash"] \
            and record.seal.get("signature") == seal.get("signature")
    except (KeyError, TypeError, AttributeError, ValueError):
        reasons.append("this is not a sealed agreement document")
        return VerificationResult(valid=False, checks=checks, reasons=reasons)
    if not checks["document_hash"]:
        reasons.append("the document was altered: its hash does not match the sealed hash")
    if not checks["seal_signature"]:
        reasons.append("the platform seal does not verify")
    if not checks["signers"]:
        reasons.append("the signature block does not match the sealed signers")
    if not checks["issued"]:
        reasons.append("this platform has no record of issuing this seal")
    valid = all(checks.values())
    return VerificationResult(valid=valid, checks=checks, reasons=reasons,
                              agreement_id=payload.get("agreement_id") if valid else None,
                              version=payload.get("version") if valid else None,
                              document_hash=payload.get("document_hash") if valid else None,
                              sealed_at=payload.get("sealed_at") if valid else None,
                              signers=payload.get("signers", []) if valid else [])


async def verify_pdf(session: AsyncSession, signer: PlatformSigner, data: bytes) -> VerificationResult:
    digest = hashlib.sha256(data).hexdigest()
    issued = (await session.execute(select(SealRecord.agreement_id).where(SealRecord.pdf_sha256 == digest))).first()
    embedded = attached_document(data)
    if embedded is None:
        result = VerificationResult(valid=False, checks={"pdf_issued": issued is not None}, reasons=[
            "the PDF carries no sealed agreement document" if issued is None else
            "the PDF matches an issued one but its attached document is unreadable"])
        return result
    result = await verify_sealed(session, signer, embedded)
    result.checks["pdf_issued"] = issued is not None
    if issued is None:
        result.reasons.append("the PDF is not byte for byte the one the platform issued (it was edited)")
        result.valid = False
        result.agreement_id = result.version = result.document_hash = result.sealed_at = None
        result.signers = []
    return result
