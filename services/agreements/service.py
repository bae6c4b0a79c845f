"""Agreements use cases: plain functions over a unit of work (routes stay thin, tests and the
benchmark call these directly).

Who may do what: the parties and the mediator of the case (party/mediator tokens with the case
in ``cases``) draft, read, comment and sign; only the mediator (or an admin) creates and edits
drafts and sends them for signature; courts use the court API (``court.py``) and see only
executed agreements of cases they referred. "Not yours" and "absent" are the same 404.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.clock import utcnow
from shared.contracts.agreements import (AgreementSigned, DraftReady, ObligationDue, SignatureAdded,
                                        SignatureRequested, SignatureWithdrawn)
from shared.contracts.intake import CaseFiled, LegalEffect, MediationAgreed
from shared.contracts.sessions import ProposalAccepted
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.uow import UnitOfWork

from . import annexes, audit, documents, feed
from .context import Context
from .documents import AgreementContent
from .models import (AcceptedProposal, Agreement, AgreementPdf, AgreementVersion, CaseRef, Comment, Obligation,
                     SealRecord, Signature)
from .pdf import render_pdf
from .schemas import (AcceptedProposalList, AcceptedProposalView, AgreementList, AgreementSummary, AgreementView,
                      AuditEntryView, AuditView, CommentCreate, CommentList, CommentView, CourtCase, CourtCaseList,
                      DiffView, DraftCreate, DraftEdit, SealedDocument, SignatureRequest, SignatureView, SignIn,
                      Validation, VersionInfo, VersionList, VersionView)
from .nca import QualifiedIdentity, check_identity, decode
from .signing import platform_assurance, qualified_assurance, sealed_signer, signed_content
from .vault import IntegrityFailure, Shredded, comment_aad, pdf_aad, version_aad

VERIFY_PATH = "/verify/{document_hash}"  # the browser client's verification page (a person can open it)


def verify_url(base_url: str, document_hash: str) -> str:
    """The verification address printed on the PDF: the client's page for this document, which
    asks ``GET /agreements/verify/{document_hash}`` and checks an uploaded copy with ``POST /verify``."""
    return base_url.rstrip("/") + VERIFY_PATH.format(document_hash=document_hash)




# -- consumed events ------------------------------------------------------------------------------


async def record_case(session: AsyncSession, *, event: CaseFiled) -> None:
    if await session.get(CaseRef, event.case_id) is None:
        session.add(CaseRef(case_id=event.case_id, reference=event.reference, court_id=event.court_id,
                            jurisdiction=event.jurisdiction, category=event.category, filed_at=event.filed_at,
                            referred_by=event.referred_by,
                            legal_effect=event.legal_effect.model_dump() if event.legal_effect else None))


async def record_accepted_proposal(session: AsyncSession, *, event: ProposalAccepted, accepted_at: datetime) -> None:
    """Remember the id so the mediator can pull the proposal into a draft; the content is fetched
    from the sessions API by the mediator's client (sessions owns it)."""
    if await session.get(AcceptedProposal, (event.case_id, event.proposal_id)) is None:
        session.add(AcceptedProposal(case_id=event.case_id, proposal_id=event.proposal_id, session_id=event.session_id,
                                     accepted_at=accepted_at))


async def record_parties(session: AsyncSession, *, event: MediationAgreed) -> None:
    """The parties of a case (participant id and side), from the signed agreement to mediate: the
    agreement's signer slots (``signer_slots``). Names stay with intake."""
    case = await session.get(CaseRef, event.case_id)
    if case is not None:
        case.parties = [{"participant_id": p.participant_id, "side": p.side}
                        for p in event.participants if p.role == "party" and p.side]


async def court_cases(uow: UnitOfWork, *, principal: Principal) -> CourtCaseList:
    """Only the cases this court referred."""
    rows = (await uow.session.execute(
        select(CaseRef).where(CaseRef.court_id == principal.court).order_by(CaseRef.filed_at)
    )).scalars()
    return CourtCaseList(items=[CourtCase(case_id=r.case_id, case_reference=r.reference, jurisdiction=r.jurisdiction,
                                          filed_at=r.filed_at) for r in rows])


# -- access ---------------------------------------------------------------------------------------


def may_access_case(principal: Principal, case: CaseRef) -> bool:
    if principal.role == "court":
        return False  # courts read through the court API only
    return principal.can_access_case(case.case_id, court_id=case.court_id)


def _require_drafter(principal: Principal) -> None:
    if principal.role not in ("mediator", "admin"):
        raise Forbidden("only the mediator drafts and edits the agreement")


async def _case(session: AsyncSession, case_id: str, principal: Principal) -> CaseRef:
    case = await session.get(CaseRef, case_id)
    if case is None:
        if principal.role in ("party", "mediator") and case_id in principal.cases:
            raise Problem(409, "case-not-known-yet", "agreements has not received this case yet; retry shortly")
        raise NotFound("the case")
    if not may_access_case(principal, case):
        raise NotFound("the case")
    return case


async def lock_agreement(session: AsyncSession, agreement_id: str) -> Agreement | None:
    """Take the agreement's row lock (an ``UPDATE``: a row lock on PostgreSQL, the write lock on
    SQLite), so concurrent changes to one agreement run one after the other and each sees the
    previous one's effect, and read it afresh. Checks no access: the caller has."""
    await session.execute(update(Agreement).where(Agreement.id == agreement_id)
                          .values(updated_at=Agreement.updated_at).execution_options(synchronize_session=False))
    return await session.get(Agreement, agreement_id, populate_existing=True)


async def load(session: AsyncSession, agreement_id: str, principal: Principal, *, lock: bool = False) -> Agreement:
    """The agreement if the principal may see it; with ``lock``, under its row lock (``lock_agreement``)."""
    if lock:
        agreement = await lock_agreement(session, agreement_id)
    else:
        agreement = await session.get(Agreement, agreement_id, populate_existing=True)
    if agreement is None:
        raise NotFound("the agreement")
    case = await session.get(CaseRef, agreement.case_id)
    if not may_access_case(principal, case):
        raise NotFound("the agreement")
    return agreement


async def record_audit(ctx: Context, session: AsyncSession, agreement: Agreement, action: str,
                       principal: Principal | None, **details) -> None:
    await audit.append(session, agreement_id=agreement.id, action=action, principal=principal, signer=ctx.signer,
                       checkpoint_every=ctx.config.checkpoint_every, details=details)


# -- documents ------------------------------------------------------------------------------------


async def store_version(ctx: Context, session: AsyncSession, agreement: Agreement, version: int,
                        content: AgreementContent, author: str) -> str:
    case = await session.get(CaseRef, agreement.case_id)
    doc = documents.canonical_document(agreement_id=agreement.id, case_id=agreement.case_id,
                                       case_reference=case.reference if case else None, version=version,
                                       jurisdiction=agreement.jurisdiction, category=agreement.category,
                                       language=agreement.language, content=content)
    digest = documents.document_hash(doc)
    session.add(AgreementVersion(agreement_id=agreement.id, version=version, document_hash=digest, created_by=author,
                                 created_at=utcnow(),
                                 sealed=ctx.vault.seal(documents.canonical_bytes(doc), aad=version_aad(agreement.id, version))))
    return digest


async def _version_row(session: AsyncSession, agreement_id: str, version: int) -> AgreementVersion:
    row = await session.get(AgreementVersion, (agreement_id, version))
    if row is None:
        raise NotFound(f"version {version}")
    return row


def open_document(ctx: Context, row: AgreementVersion) -> dict:
    """Decrypt a version; its hash is checked too, so a swapped but validly encrypted document
    (e.g. restored from another record) is caught as well."""
    what = f"agreement {row.agreement_id} version {row.version}"
    plaintext = ctx.vault.open(row, aad=version_aad(row.agreement_id, row.version), what=what)
    document = json.loads(plaintext)
    if documents.document_hash(document) != row.document_hash:
        raise IntegrityFailure(what)
    return document


async def _view(ctx: Context, session: AsyncSession, agreement: Agreement) -> AgreementView:
    row = await _version_row(session, agreement.id, agreement.current_version)
    document = open_document(ctx, row)
    content = AgreementContent.model_validate(document["content"])
    sigs = (await session.execute(
        select(Signature).where(Signature.agreement_id == agreement.id).order_by(Signature.signed_at)
    )).scalars()
    return AgreementView(
        id=agreement.id, case_id=agreement.case_id, jurisdiction=agreement.jurisdiction, category=agreement.category,
        language=agreement.language, status=agreement.status, version=agreement.current_version,
        document_hash=row.document_hash, requested_version=agreement.requested_version, signers=agreement.signers,
        source_proposals=agreement.source_proposals, content=content,
        missing=documents.missing_content(agreement.jurisdiction, content, agreement.language),
        signatures=[SignatureView.model_validate(s, from_attributes=True) for s in sigs],
        executed_at=agreement.executed_at, court_decision=agreement.court_decision,
        created_at=agreement.created_at, updated_at=agreement.updated_at)


def _ensure_not_shredded(agreement: Agreement) -> None:
    if agreement.status == "shredded":
        raise Shredded()


# -- drafting -------------------------------------------------------------------------------------


async def create_draft(uow: UnitOfWork, ctx: Context, *, principal: Principal, body: DraftCreate) -> AgreementView:
    _require_drafter(principal)
    session = uow.session
    case = await _case(session, body.case_id, principal)
    category = body.category or case.category
    if not category:
        raise Problem(422, "category-required", "the case has no category; give `category`")
    content = documents.from_template(case.jurisdiction, category, body.language, body.content)
    await annexes.check(session, case_id=case.case_id, content=content)
    proposals = []
    for pid in dict.fromkeys(body.proposal_ids):
        accepted = await session.get(AcceptedProposal, (case.case_id, pid))
        if accepted is None:
            raise Problem(422, "unknown-proposal", f"proposal {pid!r} was not accepted in this case's sessions")
        proposals.append(accepted)
    now = utcnow()
    agreement = Agreement(id=str(uuid.uuid4()), case_id=case.case_id, jurisdiction=case.jurisdiction, category=category,
                          language=body.language, status="draft", current_version=1, signers=[],
                          source_proposals=[p.proposal_id for p in proposals], created_by=principal.subject,
                          created_at=now, updated_at=now, audit_seq=0, audit_head="")
    session.add(agreement)
    for p in proposals:
        p.agreement_id = agreement.id
    await session.flush()
    digest = await store_version(ctx, session, agreement, 1, content, principal.subject)
    await record_audit(ctx, session, agreement, "created", principal, version=1, document_hash=digest,
                       source_proposals=agreement.source_proposals)
    uow.publish(DraftReady(case_id=agreement.case_id, agreement_id=agreement.id, version=1))
    view = await _view(ctx, session, agreement)
    await uow.commit()
    return view


async def list_agreements(uow: UnitOfWork, *, principal: Principal, case_id: str) -> AgreementList:
    await _case(uow.session, case_id, principal)
    rows = (await uow.session.execute(
        select(Agreement).where(Agreement.case_id == case_id).order_by(Agreement.created_at)
    )).scalars()
    return AgreementList(items=[AgreementSummary(id=a.id, case_id=a.case_id, status=a.status, version=a.current_version,
                                                 executed_at=a.executed_at, court_decision=a.court_decision)
                                for a in rows])


async def get_agreement(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> AgreementView:
    agreement = await load(uow.session, agreement_id, principal)
    _ensure_not_shredded(agreement)
    view = await _view(ctx, uow.session, agreement)
    await record_audit(ctx, uow.session, agreement, "viewed", principal, version=agreement.current_version)
    await uow.commit()
    return view


async def list_versions(uow: UnitOfWork, *, principal: Principal, agreement_id: str) -> VersionList:
    await load(uow.session, agreement_id, principal)
    rows = (await uow.session.execute(
        select(AgreementVersion).where(AgreementVersion.agreement_id == agreement_id).order_by(AgreementVersion.version)
    )).scalars()
    return VersionList(items=[VersionInfo(version=r.version, document_hash=r.document_hash, created_by=r.created_by,
                                          created_at=r.created_at) for r in rows])


async def get_version(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str,
                      version: int) -> VersionView:
    agreement = await load(uow.session, agreement_id, principal)
    _ensure_not_shredded(agreement)
    row = await _version_row(uow.session, agreement_id, version)
    return VersionView(version=row.version, document_hash=row.document_hash, created_by=row.created_by,
                       created_at=row.created_at, document=open_document(ctx, row))


async def diff(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str, from_version: int,
               to_version: int) -> DiffView:
    agreement = await load(uow.session, agreement_id, principal)
    _ensure_not_shredded(agreement)
    old = open_document(ctx, await _version_row(uow.session, agreement_id, from_version))
    new = open_document(ctx, await _version_row(uow.session, agreement_id, to_version))
    return DiffView(from_version=from_version, to_version=to_version, diff=documents.readable_diff(old, new))


async def _void_signatures(session: AsyncSession, agreement: Agreement, now: datetime) -> int:
    result = await session.execute(
        update(Signature).where(Signature.agreement_id == agreement.id, Signature.status == "valid")
        .values(status="void", ended_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0


async def edit_draft(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str,
                     body: DraftEdit) -> AgreementView:
    """A new version. Any change after a signature voids every signature and takes the agreement
    back to draft: a signature covers one exact version, never a later one."""
    _require_drafter(principal)
    session = uow.session
    agreement = await load(session, agreement_id, principal, lock=True)
    if agreement.status in ("executed", "shredded"):
        raise Conflict("agreement-executed", "an executed agreement cannot be changed")
    if body.base_version != agreement.current_version:
        raise Conflict("stale-version", f"the draft is at version {agreement.current_version}; "
                       f"reload it and apply your edit to that version", current_version=agreement.current_version)
    await annexes.check(session, case_id=agreement.case_id, content=body.content)
    now = utcnow()
    version = agreement.current_version + 1
    digest = await store_version(ctx, session, agreement, version, body.content, principal.subject)
    voided = await _void_signatures(session, agreement, now)
    was_signing = agreement.status == "signing"
    agreement.current_version, agreement.updated_at = version, now
    agreement.status, agreement.requested_version = "draft", None
    await record_audit(ctx, session, agreement, "edited", principal, version=version, document_hash=digest)
    if voided or was_signing:
        await record_audit(ctx, session, agreement, "signatures_voided", principal, count=voided, version=version)
    uow.publish(DraftReady(case_id=agreement.case_id, agreement_id=agreement.id, version=version))
    view = await _view(ctx, session, agreement)
    await uow.commit()
    return view


async def validation(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> Validation:
    agreement = await load(uow.session, agreement_id, principal)
    _ensure_not_shredded(agreement)
    document = open_document(ctx, await _version_row(uow.session, agreement_id, agreement.current_version))
    missing = documents.missing_content(agreement.jurisdiction, AgreementContent.model_validate(document["content"]),
                                        agreement.language)
    return Validation(complete=not missing, missing=missing)


async def add_comment(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str,
                      body: CommentCreate) -> CommentView:
    agreement = await load(uow.session, agreement_id, principal, lock=True)
    if agreement.status in ("executed", "shredded"):
        raise Conflict("agreement-executed", "comments are closed once the agreement is executed")
    comment_id = str(uuid.uuid4())
    now = utcnow()
    uow.session.add(Comment(id=comment_id, agreement_id=agreement.id, version=agreement.current_version,
                            author=principal.subject, author_role=principal.role, created_at=now,
                            sealed=ctx.vault.seal(body.text.encode(), aad=comment_aad(agreement.id, comment_id))))
    await record_audit(ctx, uow.session, agreement, "commented", principal, comment_id=comment_id,
                       version=agreement.current_version)
    await uow.commit()
    return CommentView(id=comment_id, version=agreement.current_version, author=principal.subject,
                       author_role=principal.role, text=body.text, created_at=now)


async def list_comments(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> CommentList:
    agreement = await load(uow.session, agreement_id, principal)
    _ensure_not_shredded(agreement)
    rows = (await uow.session.execute(
        select(Comment).where(Comment.agreement_id == agreement_id).order_by(Comment.created_at)
    )).scalars()
    return CommentList(items=[
        CommentView(id=c.id, version=c.version, author=c.author, author_role=c.author_role, created_at=c.created_at,
                    text=ctx.vault.open(c, aad=comment_aad(agreement_id, c.id), what=f"comment {c.id}").decode())
        for c in rows])


async def accepted_proposals(uow: UnitOfWork, *, principal: Principal, case_id: str) -> AcceptedProposalList:
    await _case(uow.session, case_id, principal)
    rows = (await uow.session.execute(
        select(AcceptedProposal).where(AcceptedProposal.case_id == case_id).order_by(AcceptedProposal.accepted_at)
    )).scalars()
    return AcceptedProposalList(items=[AcceptedProposalView(proposal_id=r.proposal_id, session_id=r.session_id,
                                                            accepted_at=r.accepted_at, agreement_id=r.agreement_id)
                                       for r in rows])


# -- signing --------------------------------------------------------------------------------------


def signer_slots(content: AgreementContent, case: CaseRef | None = None) -> list[str]:
    """Who must sign before the agreement is executed: every party, then the mediator.

    Kazakhstan, Law No. 401-IV Art. 27: the mediation agreement is made in writing and signed by
    the parties. So each party signs in a slot of its own (``claimant:<participant id>``, every
    co-claimant and co-respondent), as the parties intake told us of (``MediationAgreed``); a
    representative signs in the slot of the party it acts for. The mediator signs as well: the
    platform's practice (the mediator attests the agreement was reached in the mediation, as the
    agreement to mediate is signed by the mediator too), not a requirement of Art. 27 read alone.
    Interpreters and support persons do not sign: they are not parties and do not decide for one.
    Cases intake has not told us the parties of (and agreements requested before per-party
    slots existed) keep one slot per side, ``claimant`` and ``respondent``, signed by a party of
    that side, which stay readable as they are."""
    if case is not None and case.parties:
        return [f"{p['side']}:{p['participant_id']}" for side in documents.SIDES
                for p in case.parties if p["side"] == side] + ["mediator"]
    sides = {p.side for p in content.parties}
    return [s for s in documents.SIDES if s in sides] + ["mediator"]


def slot_side(slot: str) -> str:
    """The side a signer slot belongs to (``claimant`` for ``claimant`` and ``claimant:<id>``)."""
    return slot.split(":", 1)[0]


def slot_of(principal: Principal, agreement: Agreement) -> str:
    """The slot the caller signs in: the mediator's, or the party's it acts for (its own, or the
    represented party's for a representative). Interpreters and support persons have none."""
    if principal.role == "mediator":
        slot = "mediator"
    elif principal.role == "party":
        if not principal.party_side:
            raise Forbidden("your token does not say which side you are on")
        if not principal.may_act:
            raise Forbidden("an interpreter or a support person does not sign the agreement; the parties "
                            "(or their representatives) and the mediator do")
        per_party = any(":" in s for s in agreement.signers)
        slot = f"{principal.party_side}:{principal.party_id}" if per_party else principal.party_side
    else:
        raise Forbidden("only the parties and the mediator sign")
    if slot not in agreement.signers:
        raise Forbidden("you are not a signer of this agreement")
    return slot


async def request_signatures(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str,
                             body: SignatureRequest) -> AgreementView:
    """Send one exact version for signature, only if it has everything the jurisdiction requires."""
    _require_drafter(principal)
    session = uow.session
    agreement = await load(session, agreement_id, principal, lock=True)
    if agreement.status in ("executed", "shredded"):
        raise Conflict("agreement-executed", "this agreement is already executed")
    if body.version != agreement.current_version:
        raise Conflict("stale-version", f"the current version is {agreement.current_version}",
                       current_version=agreement.current_version)
    row = await _version_row(session, agreement.id, body.version)
    content = AgreementContent.model_validate(open_document(ctx, row)["content"])
    missing = documents.missing_content(agreement.jurisdiction, content, agreement.language)
    if missing:
        raise Problem(422, "incomplete-agreement",
                      "the agreement lacks required content and cannot be sent for signature: "
                      + ", ".join(m["code"] for m in missing), missing=missing)
    if agreement.status == "signing" and agreement.requested_version == body.version:
        return await _view(ctx, session, agreement)
    agreement.status, agreement.requested_version = "signing", body.version
    case = await session.get(CaseRef, agreement.case_id)
    agreement.signers, agreement.updated_at = signer_slots(content, case), utcnow()
    await record_audit(ctx, session, agreement, "signature_requested", principal, version=body.version,
                       document_hash=row.document_hash)
    uow.publish(SignatureRequested(case_id=agreement.case_id, agreement_id=agreement.id, version=body.version,
                                   document_hash=row.document_hash, signer_ids=list(agreement.signers)))
    view = await _view(ctx, session, agreement)
    await uow.commit()
    return view


async def sign(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str, body: SignIn,
               base_url: str = "http://127.0.0.1:8000") -> AgreementView:
    """``base_url``: the platform's address, for the verification link on the PDF should this
    signature be the last one."""
    session = uow.session
    qualified = None
    if body.method == "qualified":
        await load(session, agreement_id, principal)  # access first: no verification work for strangers
        qualified = await _verify_qualified(ctx, body)
    agreement = await load(session, agreement_id, principal, lock=True)
    if agreement.status != "signing":
        raise Conflict("not-open-for-signature", f"the agreement is {agreement.status}, not open for signature")
    slot = slot_of(principal, agreement)
    row = await _version_row(session, agreement.id, agreement.requested_version)
    if body.version != agreement.requested_version or body.document_hash != row.document_hash:
        raise Conflict("document-changed", "you are signing a version or hash that is not the one open for "
                       "signature; reload and read it again", version=agreement.requested_version,
                       document_hash=row.document_hash)
    existing = (await session.execute(select(Signature).where(
        Signature.agreement_id == agreement.id, Signature.slot == slot, Signature.status == "valid"))).scalar_one_or_none()
    if existing is not None:
        return await _view(ctx, session, agreement)
    if qualified is not None:
        assurance = _tie_to_party(ctx, row, slot_side(slot), *qualified)
    else:
        assurance = platform_assurance(principal, slot)
    now = utcnow()
    session.add(Signature(id=str(uuid.uuid4()), agreement_id=agreement.id, version=row.version,
                          document_hash=row.document_hash, slot=slot, signer=principal.subject, method=body.method,
                          assurance=assurance, signed_at=now, status="valid"))
    agreement.updated_at = now
    await session.flush()
    await record_audit(ctx, session, agreement, "signed", principal, slot=slot, version=row.version,
                       document_hash=row.document_hash, method=body.method)
    uow.publish(SignatureAdded(case_id=agreement.case_id, agreement_id=agreement.id, version=row.version, slot=slot))
    signed = set((await session.execute(select(Signature.slot).where(
        Signature.agreement_id == agreement.id, Signature.status == "valid", Signature.version == row.version))).scalars())
    if set(agreement.signers) <= signed:
        await _execute(uow, ctx, agreement, row, base_url=base_url)
    view = await _view(ctx, session, agreement)
    await uow.commit()
    return view


async def _verify_qualified(ctx: Context, body: SignIn) -> tuple[QualifiedIdentity, bytes]:
    """Verify the party's CMS over the hash they say they sign. Done before the agreement's row
    lock, so an OCSP round trip does not hold up the other signers; ``sign`` then insists that
    this hash is the one open for signature."""
    if body.qualified is None:
        raise Problem(422, "qualified-signature-required", "method 'qualified' needs `qualified.cms`")
    cms_der = decode(body.qualified.cms)
    identity = await ctx.qualified[body.qualified.provider].verify(content=signed_content(body.document_hash),
                                                                   cms_der=cms_der)
    return identity, cms_der


def _tie_to_party(ctx: Context, row: AgreementVersion, slot: str, identity: QualifiedIdentity, cms_der: bytes) -> dict:
    """The certificate's IIN/BIN must be one the document itself gives for the signer's side."""
    document = open_document(ctx, row)
    identifiers = {p["identifier"] for p in document["content"].get("parties", [])
                   if p.get("side") == slot and p.get("identifier")}
    check_identity(identity, identifiers)
    return qualified_assurance(identity, cms_der)


async def withdraw_signature(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> AgreementView:
    """A signer takes their signature back; possible only until everyone has signed."""
    session = uow.session
    agreement = await load(session, agreement_id, principal, lock=True)
    if agreement.status in ("executed", "shredded"):
        raise Conflict("agreement-executed", "everyone has signed; the agreement is executed and binding")
    slot = slot_of(principal, agreement) if agreement.signers else None
    mine = (await session.execute(select(Signature).where(
        Signature.agreement_id == agreement.id, Signature.slot == slot, Signature.status == "valid"))).scalar_one_or_none()
    if mine is None:
        raise Conflict("not-signed", "you have no signature on this agreement to withdraw")
    mine.status, mine.ended_at = "withdrawn", utcnow()
    agreement.updated_at = mine.ended_at
    await record_audit(ctx, session, agreement, "signature_withdrawn", principal, slot=slot, version=mine.version)
    uow.publish(SignatureWithdrawn(case_id=agreement.case_id, agreement_id=agreement.id, version=mine.version,
                                   slot=slot))
    view = await _view(ctx, session, agreement)
    await uow.commit()
    return view


async def _execute(uow: UnitOfWork, ctx: Context, agreement: Agreement, row: AgreementVersion, *,
                   base_url: str) -> None:
    """Everyone signed: seal, render the PDF, store both, start fulfilment tracking, tell the court."""
    session = uow.session
    now = utcnow()
    rules = documents.jurisdiction(agreement.jurisdiction)
    document = open_document(ctx, row)
    sigs = (await session.execute(select(Signature).where(
        Signature.agreement_id == agreement.id, Signature.status == "valid", Signature.version == row.version)
    )).scalars().all()
    order = {slot: i for i, slot in enumerate(agreement.signers)}
    sigs = sorted(sigs, key=lambda s: order.get(s.slot, 99))
    signature_block = [{"slot": s.slot, "signer": s.signer, "signed_at": s.signed_at.isoformat(), "method": s.method,
                        "assurance": s.assurance} for s in sigs]
    seal = ctx.signer.sign(seal_payload(document, signature_block, sealed_at=now))
    sealed = {"document": document, "signatures": signature_block, "seal": seal}
    pdf = await asyncio.to_thread(render_pdf, sealed, verify_url=verify_url(base_url, row.document_hash))
    case = await session.get(CaseRef, agreement.case_id)
    session.add(SealRecord(agreement_id=agreement.id, version=row.version, document_hash=row.document_hash, seal=seal,
                           pdf_sha256=documents.sha256_hex(pdf), sealed_at=now))
    session.add(AgreementPdf(agreement_id=agreement.id, version=row.version,
                             sealed=ctx.vault.seal(pdf, aad=pdf_aad(agreement.id, row.version))))
    for o in document["content"].get("obligations", []):
        due = datetime.fromisoformat(o["deadline"]).date() if o.get("deadline") else None
        session.add(Obligation(agreement_id=agreement.id, obligation_id=o["id"], case_id=agreement.case_id,
                               obligor=o["obligor"], obligee=o["obligee"], due_on=due, status="pending"))
    agreement.status, agreement.executed_at = "executed", now
    agreement.retain_until = now + timedelta(days=rules.retention_days)
    await record_audit(ctx, session, agreement, "executed", None, version=row.version, document_hash=row.document_hash,
                       seal_kid=seal["kid"])
    due = [ObligationDue(obligation_id=o["id"], obligor_side=o["obligor"], due_on=o["deadline"])
           for o in document["content"].get("obligations", []) if o.get("deadline")]
    uow.publish(AgreementSigned(case_id=agreement.case_id, agreement_id=agreement.id, version=row.version,
                                document_hash=row.document_hash, court_id=case.court_id, obligations=due,
                                legal_effect=LegalEffect(**case.legal_effect) if case.legal_effect else None))
    if case.court_id:
        await feed.append(session, court_id=case.court_id, type=AgreementSigned.type, case_id=agreement.case_id,
                          agreement_id=agreement.id, version=row.version, document_hash=row.document_hash, at=now)
        await record_audit(ctx, session, agreement, "sent_to_court", None, court_id=case.court_id, version=row.version)


def seal_payload(document: dict, signature_block: list[dict], *, sealed_at: datetime) -> dict:
    return {"agreement_id": document["agreement_id"], "version": document["version"],
            "document_hash": documents.document_hash(document),
            "signers": [sealed_signer(s) for s in signature_block],
            "sealed_at": sealed_at.isoformat()}


# -- the executed agreement -----------------------------------------------------------------------


async def sealed_document(session: AsyncSession, ctx: Context, agreement: Agreement) -> SealedDocument:
    if agreement.status == "shredded":
        raise Shredded()
    record = await session.get(SealRecord, agreement.id)
    if record is None:
        raise Conflict("not-executed", "the agreement is not executed yet; there is no sealed document")
    document = open_document(ctx, await _version_row(session, agreement.id, record.version))
    sigs = (await session.execute(select(Signature).where(
        Signature.agreement_id == agreement.id, Signature.status == "valid", Signature.version == record.version)
    )).scalars().all()
    order = {slot: i for i, slot in enumerate(agreement.signers)}
    block = [{"slot": s.slot, "signer": s.signer, "signed_at": s.signed_at.isoformat(), "method": s.method,
              "assurance": s.assurance} for s in sorted(sigs, key=lambda s: order.get(s.slot, 99))]
    return SealedDocument(document=document, signatures=block, seal=record.seal)


async def signature_summaries(session: AsyncSession, *, agreement_id: str, version: int) -> list[dict]:
    """The signatures of an executed version as the court feed carries them: who signed how, and
    for a qualified signature the certificate's identity and the CMS itself."""
    sigs = (await session.execute(select(Signature).where(
        Signature.agreement_id == agreement_id, Signature.status == "valid", Signature.version == version)
        .order_by(Signature.signed_at))).scalars()
    out = []
    for s in sigs:
        entry = {"slot": s.slot, "method": s.method, "signed_at": s.signed_at.isoformat(),
                 "credential": s.assurance.get("credential")}
        if s.method == "qualified":
            entry.update({k: s.assurance.get(k) for k in ("provider", "subject", "iin", "bin", "certificate_serial",
                                                          "issuer", "algorithm", "revocation", "cms")})
        out.append(entry)
    return out


async def pdf_bytes(session: AsyncSession, ctx: Context, agreement: Agreement) -> bytes:
    if agreement.status == "shredded":
        raise Shredded()
    row = await session.get(AgreementPdf, agreement.id)
    if row is None:
        raise Conflict("not-executed", "the agreement is not executed yet; there is no PDF")
    return ctx.vault.open(row, aad=pdf_aad(agreement.id, row.version), what=f"agreement {agreement.id} PDF")


async def get_sealed(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> SealedDocument:
    agreement = await load(uow.session, agreement_id, principal)
    out = await sealed_document(uow.session, ctx, agreement)
    await record_audit(ctx, uow.session, agreement, "viewed", principal, what="sealed-document")
    await uow.commit()
    return out


async def get_pdf(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> bytes:
    agreement = await load(uow.session, agreement_id, principal)
    out = await pdf_bytes(uow.session, ctx, agreement)
    await record_audit(ctx, uow.session, agreement, "viewed", principal, what="pdf")
    await uow.commit()
    return out


async def audit_view(uow: UnitOfWork, ctx: Context, *, principal: Principal, agreement_id: str) -> AuditView:
    agreement = await load(uow.session, agreement_id, principal)
    verification = await audit.verify(uow.session, agreement_id=agreement.id, signer=ctx.signer,
                                      expected_length=agreement.audit_seq, expected_head=agreement.audit_head)
    rows = await audit.entries(uow.session, agreement_id=agreement.id)
    return AuditView(verification=verification,
                     entries=[AuditEntryView.model_validate(e, from_attributes=True) for e in rows])
