"""Annexes: documents shared in the mediation room that the agreement refers to.

Sessions owns the documents; when the mediator attaches one to the agreement it publishes
``odr.document.annexed.v1`` with the document's id and the SHA-256 of its bytes, which agreements
records. A draft may then list that document as an annex (``AgreementContent.annexes``: id, the
name the mediator's client copies from the sessions API, and the hash), and only with the
recorded hash, so the sealed agreement pins exactly the file both sides were shown.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.sessions import DocumentAnnexed
from shared.problems import Problem

from .documents import AgreementContent
from .models import AnnexedDocument


async def record(session: AsyncSession, *, event: DocumentAnnexed, annexed_at: datetime) -> None:
    if await session.get(AnnexedDocument, (event.case_id, event.document_id)) is None:
        session.add(AnnexedDocument(case_id=event.case_id, document_id=event.document_id, sha256=event.sha256,
                                    annexed_at=annexed_at))


async def check(session: AsyncSession, *, case_id: str, content: AgreementContent) -> None:
    """Every annex of ``content`` is a document attached in this case's room, with its hash."""
    for annex in content.annexes or ():
        known = await session.get(AnnexedDocument, (case_id, annex.document_id))
        if known is None or known.sha256 != annex.sha256:
            raise Problem(422, "unknown-annex", "an annex must be a document the mediator attached to the agreement in "
                                                "the room, with the SHA-256 the room gives for it")
