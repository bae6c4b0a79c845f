"""Retention, then crypto-shredding: when an executed agreement's retention period ends, the
wrapped data keys of every version, comment and PDF are erased. The ciphertext stays but can
never be decrypted again; the hashes, the seal record and the audit chain (ids and actions only)
stay, so a copy someone holds can still be verified. A qualified signature's certificate identity
(name, IIN/BIN, serial) and its CMS are personal data kept in clear beside the signature: the shred
erases them, keeping the CMS's SHA-256 that the seal covers, so a copy's CMS can still be matched.

Backups taken before the shred still hold the wrapped keys; they become unreadable only when the
KEK versions that wrapped them are destroyed (``LocalKeyring.destroy_version``) after a rewrap,
so backups must be rotated out within the KEK rotation period.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from shared.clock import utcnow
from shared.uow import UnitOfWork

from . import service
from .context import Context
from .models import Agreement, AgreementPdf, AgreementVersion, Comment, Signature

# what a shredded qualified signature keeps: nothing that names the signer
KEPT_AFTER_SHRED = ("credential", "provider", "cms_sha256", "checked_at", "revocation")


async def shred(uow: UnitOfWork, ctx: Context, agreement: Agreement, *, now: datetime) -> None:
    session = uow.session
    for model in (AgreementVersion, Comment, AgreementPdf):
        await session.execute(update(model).where(model.agreement_id == agreement.id).values(wrapped_key=None)
                              .execution_options(synchronize_session=False))
    signatures = (await session.execute(select(Signature).where(
        Signature.agreement_id == agreement.id, Signature.method == "qualified"))).scalars().all()
    for signature in signatures:
        signature.assurance = {k: v for k, v in signature.assurance.items() if k in KEPT_AFTER_SHRED}
    agreement.status, agreement.shredded_at = "shredded", now
    await service.record_audit(ctx, session, agreement, "shredded", None, reason="retention period ended")


async def shred_expired(uow: UnitOfWork, ctx: Context, *, now: datetime | None = None) -> int:
    now = now or utcnow()
    rows = (await uow.session.execute(
        select(Agreement).where(Agreement.status == "executed", Agreement.retain_until.is_not(None),
                                Agreement.retain_until < now).limit(200)
    )).scalars().all()
    for agreement in rows:
        await shred(uow, ctx, agreement, now=now)
    await uow.commit()
    return len(rows)
