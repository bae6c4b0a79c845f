"""What agreements consumes and publishes.

Consumes intake's ``odr.case.filed.v1`` (which court referred the case: the court API's scope;
jurisdiction and category: the template) and ``odr.mediation.agreed.v1`` (the parties' ids and
sides: a signer slot per party) and sessions' ``odr.proposal.accepted.v1`` (the id of an
accepted proposal the mediator can pull into a draft; its content stays with sessions) and
``odr.document.annexed.v1`` (a document's id and hash a draft may list as an annex).

Publishes (``shared.contracts.agreements``), ids, versions, hashes and statuses only: draft
ready, signature requested, signature added / withdrawn, signed (executed and sealed), approved /
rejected by the court, obligation overdue.
"""

from __future__ import annotations

from shared.contracts import agreements as contracts
from shared.contracts.intake import CaseFiled, MediationAgreed
from shared.contracts.sessions import DocumentAnnexed, ProposalAccepted
from shared.service import Subscription

from . import annexes, service


async def on_case_filed(session, event: CaseFiled, _envelope) -> None:
    await service.record_case(session, event=event)


async def on_mediation_agreed(session, event: MediationAgreed, _envelope) -> None:
    await service.record_parties(session, event=event)


async def on_proposal_accepted(session, event: ProposalAccepted, envelope) -> None:
    await service.record_accepted_proposal(session, event=event, accepted_at=envelope.time)


async def on_document_annexed(session, event: DocumentAnnexed, envelope) -> None:
    await annexes.record(session, event=event, annexed_at=envelope.time)


PUBLISHES = [contracts.DraftReady, contracts.SignatureRequested, contracts.SignatureAdded, contracts.SignatureWithdrawn,
             contracts.AgreementSigned, contracts.AgreementApproved, contracts.AgreementRejected,
             contracts.ObligationOverdue]
SUBSCRIPTIONS = [
    Subscription(name="case-events", handlers={CaseFiled.type: on_case_filed,
                                               MediationAgreed.type: on_mediation_agreed}),
    Subscription(name="session-events", handlers={ProposalAccepted.type: on_proposal_accepted,
                                                  DocumentAnnexed.type: on_document_annexed}),
]
