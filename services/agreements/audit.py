"""The per-agreement audit chain: every action (created, edited, signed, viewed, sent to court,
approved, ...) is an entry whose hash covers the previous entry's hash, so changing, removing or
reordering an entry breaks every later link. Every ``checkpoint_every`` entries, and at execution
and court decisions, the head is sealed with the platform key (a checkpoint), so even a rewrite
of the whole chain by someone with database access no longer matches the sealed heads.

Entries hold ids, actions, roles and times; never content.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.clock import utcnow

from .documents import canonical_bytes, sha256_hex
from .models import Agreement, AuditCheckpoint, AuditEntry
from .signer import PlatformSigner

GENESIS = "0" * 64
# Actions after which the head is always sealed.
SEALED_ACTIONS = {"executed", "approved", "rejected", "shredded"}


def entry_hash(*, agreement_id: str, seq: int, action: str, actor: str, actor_role: str, at: datetime,
               details: dict, prev_hash: str) -> str:
    return sha256_hex(canonical_bytes({
        "agreement_id": agreement_id, "seq": seq, "action": action, "actor": actor, "actor_role": actor_role,
        "at": at.astimezone(timezone.utc).isoformat(), "details": details, "prev_hash": prev_hash,
    }))


def actor_of(principal: Principal | None) -> tuple[str, str]:
    return (principal.subject, principal.role) if principal else ("system", "system")


async def append(session: AsyncSession, *, agreement_id: str, action: str, principal: Principal | None,
                 signer: PlatformSigner, checkpoint_every: int, details: dict | None = None,
                 at: datetime | None = None) -> AuditEntry:
    """Add an entry at the head. The head is taken with an ``UPDATE .. RETURNING`` on the
    agreement row, which holds its row lock until commit, so concurrent appends to one chain
    queue up instead of forking it."""
    at = at or utcnow()
    row = (await session.execute(
        update(Agreement).where(Agreement.id == agreement_id).values(audit_seq=Agreement.audit_seq + 1)
        .returning(Agreement.audit_seq, Agreement.audit_head)
        .execution_options(synchronize_session=False)
    )).one()
    seq, prev = row.audit_seq, row.audit_head or GENESIS
    actor, role = actor_of(principal)
    details = details or {}
    h = entry_hash(agreement_id=agreement_id, seq=seq, action=action, actor=actor, actor_role=role, at=at,
                   details=details, prev_hash=prev)
    entry = AuditEntry(agreement_id=agreement_id, seq=seq, action=action, actor=actor, actor_role=role, at=at,
                       details=details, prev_hash=prev, hash=h)
    session.add(entry)
    await session.execute(update(Agreement).where(Agreement.id == agreement_id).values(audit_head=h)
                          .execution_options(synchronize_session=False))
    if action in SEALED_ACTIONS or seq % checkpoint_every == 0:
        session.add(AuditCheckpoint(agreement_id=agreement_id, seq=seq, seal=signer.sign(
            {"agreement_id": agreement_id, "seq": seq, "head": h, "at": at.isoformat()})))
    return entry


async def verify(session: AsyncSession, *, agreement_id: str, signer: PlatformSigner, expected_length: int | None = None,
                 expected_head: str | None = None) -> dict:
    """Recompute the chain and check every checkpoint (and the head recorded on the agreement):
    ``valid`` plus what is wrong, if anything."""
    entries = (await session.execute(
        select(AuditEntry).where(AuditEntry.agreement_id == agreement_id).order_by(AuditEntry.seq)
    )).scalars().all()
    checkpoints = (await session.execute(
        select(AuditCheckpoint).where(AuditCheckpoint.agreement_id == agreement_id).order_by(AuditCheckpoint.seq)
    )).scalars().all()
    problems: list[str] = []
    prev, hashes = GENESIS, {}
    for expected_seq, e in enumerate(entries, 1):
        if e.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing")
            break
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq} does not link to entry {e.seq - 1}")
        h = entry_hash(agreement_id=agreement_id, seq=e.seq, action=e.action, actor=e.actor, actor_role=e.actor_role,
                       at=e.at, details=e.details, prev_hash=e.prev_hash)
        if h != e.hash:
            problems.append(f"entry {e.seq} was altered")
        hashes[e.seq] = e.hash
        prev = e.hash
    for cp in checkpoints:
        if not signer.verify(cp.seal) or cp.seal["payload"].get("seq") != cp.seq \
                or cp.seal["payload"].get("agreement_id") != agreement_id:
            problems.append(f"checkpoint {cp.seq} has an invalid seal")
        elif hashes.get(cp.seq) != cp.seal["payload"]["head"]:
            problems.append(f"the chain does not match the sealed checkpoint at entry {cp.seq}")
    head = entries[-1].hash if entries else GENESIS
    if expected_length is not None and (expected_length != len(entries) or (expected_head or GENESIS) != head):
        problems.append("the chain is shorter than or differs from the recorded head")
    return {"valid": not problems, "problems": problems, "length": len(entries), "head": head,
            "checkpoints": [cp.seq for cp in checkpoints]}


async def entries(session: AsyncSession, *, agreement_id: str) -> list[AuditEntry]:
    return list((await session.execute(
        select(AuditEntry).where(AuditEntry.agreement_id == agreement_id).order_by(AuditEntry.seq)
    )).scalars())
