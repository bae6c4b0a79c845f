"""What notifications consumes (every event that reaches a person or a court) and publishes
(nothing).

Each handler keeps the recipient directory current, turns the event into notices, schedules or
cancels reminders, and queues court webhooks. Who receives which notice is the catalog's
(``catalog.KINDS``), read against the event's fields. Handlers change the database only through
the consumer's session, so their effects commit with the inbox row. Event types added to the
contracts later are ignored until a handler is added here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts import agreements as A
from shared.contracts import intake as I
from shared.contracts import sessions as S
from shared.events import CloudEvent, Event
from shared.service import Subscription

from . import links, scheduler, service, webhooks
from .models import CaseEntry, Recipient

PUBLISHES: list[type[Event]] = []


def filer_id(event: I.CaseFiled) -> str:
    """The filing party: the claimant's participant id, or for events published before
    ``CaseFiled`` carried it, the placeholder ``claimant:<case id>``."""
    return event.claimant_participant_id or f"claimant:{event.case_id}"


async def _tell(notifier, session, envelope: CloudEvent, kind: str, event: Event, params: dict | None = None,
                facts: Mapping[str, Any] | None = None) -> None:
    """Notify who the catalog says receives ``kind``, read against the event's fields (and ``facts``)."""
    await service.tell(session, notifier, source_id=envelope.id, case_id=envelope.subject, kind=kind,
                       facts={**dict(event), **(facts or {})}, params=params or {})


async def _case_of(notifier, session, case_id: str) -> CaseEntry:
    return await service.case_entry(session, case_id, default_time_zone=notifier.nsettings.default_time_zone)


# -- intake --------------------------------------------------------------------------------------


async def on_case_filed(notifier, session, event: I.CaseFiled, envelope) -> None:
    case = await _case_of(notifier, session, event.case_id)
    case.court_id, case.jurisdiction, case.reference = event.court_id, event.jurisdiction, event.reference
    if event.time_zone:  # the case's zone from the first notice (a Kyrgyz case's is Asia/Bishkek)
        case.time_zone = event.time_zone
    filer = filer_id(event)
    await service.remember(session, case_id=event.case_id, participant_id=filer, role="party", side="claimant",
                           language=event.claimant_language)
    await _tell(notifier, session, envelope, "case_filed", event, facts={"claimant_participant_id": filer})
    await webhooks.enqueue(session, notifier, court_id=event.court_id, envelope=envelope,
                           data={"jurisdiction": event.jurisdiction, "category": event.category, "status": "filed",
                                 **({"referred_by": event.referred_by} if event.referred_by else {})})


async def on_invited(notifier, session, event: I.RespondentInvited, envelope) -> None:
    await _case_of(notifier, session, event.case_id)
    await service.remember(session, case_id=event.case_id, participant_id=event.respondent_participant_id,
                           role="party", side="respondent", language=event.language)
    answer_by = event.answer_by.isoformat()
    await _tell(notifier, session, envelope, "invitation", event, {"answer_by": answer_by})
    await _tell(notifier, session, envelope, "invitation_sent", event, {"answer_by": answer_by})
    await scheduler.schedule(
        session, notifier, kind="answer_window", case_id=event.case_id, ref=event.respondent_participant_id,
        due_at=event.answer_by - timedelta(seconds=notifier.nsettings.answer_window_reminder_seconds),
        params={"participant_id": event.respondent_participant_id, "language": event.language, "answer_by": answer_by})


async def on_consent(notifier, session, event: I.ConsentRecorded, envelope) -> None:
    await scheduler.cancel(session, case_id=event.case_id, kind="answer_window", ref_prefix=event.participant_id)
    # The other side hears of it (the filer's own consent at filing: nobody else to tell yet).
    await _tell(notifier, session, envelope, "consent_recorded", event, {"decision": event.decision})


async def on_screening(notifier, session, event: I.ScreeningRequested, envelope) -> None:
    if await session.get(Recipient, (event.case_id, event.participant_id)) is None:
        await service.remember(session, case_id=event.case_id, participant_id=event.participant_id, role="party",
                               language=event.language)
    await _tell(notifier, session, envelope, "screening_requested", event)


async def on_mediator_proposed(notifier, session, event: I.MediatorProposed, envelope) -> None:
    if await session.get(Recipient, (event.case_id, event.mediator_id)) is None:
        # known, but not yet the case's mediator: only its own notice reaches it
        await service.remember(session, case_id=event.case_id, participant_id=event.mediator_id, role="mediator",
                               active=False)
    await _tell(notifier, session, envelope, "mediator_proposed", event)


async def on_mediator_assigned(notifier, session, event: I.MediatorAssigned, envelope) -> None:
    for other in await service.audience(session, event.case_id, ["mediator"], exclude=[event.mediator_id]):
        other.active = False
    await service.remember(session, case_id=event.case_id, participant_id=event.mediator_id, role="mediator")
    await _tell(notifier, session, envelope, "mediator_assigned", event)


async def on_mediation_agreed(notifier, session, event: I.MediationAgreed, envelope) -> None:
    case = await _case_of(notifier, session, event.case_id)
    case.time_zone = event.time_zone
    listed = {p.participant_id for p in event.participants}
    for p in event.participants:
        await service.remember(session, case_id=event.case_id, participant_id=p.participant_id, role=p.role,
                               side=p.side, language=p.language, acts_for=p.acts_for)
    if event.mediator_id not in listed:
        await service.remember(session, case_id=event.case_id, participant_id=event.mediator_id, role="mediator")
    placeholder = f"claimant:{event.case_id}"  # from a CaseFiled published before it named the claimant
    if any(p.side == "claimant" and p.role == "party" for p in event.participants) and placeholder not in listed:
        # The filer is now known by a participant id; stop addressing the placeholder.
        row = await session.get(Recipient, (event.case_id, placeholder))
        if row is not None:
            row.active = False
    await _tell(notifier, session, envelope, "mediation_started", event,
                {"term_ends_on": event.term_ends_on.isoformat()})


async def on_case_closed(notifier, session, event: I.CaseClosed, envelope) -> None:
    # A settled case closes right after its agreement is signed; the obligations it sets out run
    # on after closure, so their reminders are the one thing closing must not cancel.
    keep = ("obligation_due",) if event.outcome == "settled" else ()
    await scheduler.cancel(session, case_id=event.case_id, keep=keep)
    await _tell(notifier, session, envelope, "case_closed", event, {"outcome": event.outcome})


async def on_sitting_proposed(notifier, session, event: I.SittingProposed, envelope) -> None:
    await _tell(notifier, session, envelope, "sitting_proposed", event, {"sitting_id": event.sitting_id})


def _sitting_params(event: I.SittingFixed | I.SittingCancelled) -> dict:
    return {"sitting_id": event.sitting_id, "starts_at": event.starts_at.isoformat(),
            "ends_at": event.ends_at.isoformat(), "sequence": event.sequence}


async def on_sitting_fixed(notifier, session, event: I.SittingFixed, envelope) -> None:
    """The invitation (or, from the second time on, its update) and the reminders, which move with
    the sitting: the same job refs get the new time and a new generation."""
    case = await _case_of(notifier, session, event.case_id)
    case.time_zone = event.time_zone
    params = _sitting_params(event)
    await _tell(notifier, session, envelope, "sitting_fixed" if event.sequence == 0 else "sitting_moved", event, params)
    for lead_seconds in notifier.nsettings.session_reminders_seconds:
        lead = f"{lead_seconds // 3600}h" if lead_seconds % 3600 == 0 else f"{lead_seconds}s"
        await scheduler.schedule(session, notifier, kind="sitting_reminder", case_id=event.case_id,
                                 ref=f"{event.sitting_id}:{lead_seconds}",
                                 due_at=event.starts_at - timedelta(seconds=lead_seconds),
                                 params={"sitting_id": event.sitting_id, "starts_at": params["starts_at"], "lead": lead})


async def on_sitting_cancelled(notifier, session, event: I.SittingCancelled, envelope) -> None:
    await scheduler.cancel(session, case_id=event.case_id, kind="sitting_reminder", ref_prefix=f"{event.sitting_id}:")
    await _tell(notifier, session, envelope, "sitting_cancelled", event, _sitting_params(event))


# -- sessions ------------------------------------------------------------------------------------


async def on_session_scheduled(notifier, session, event: S.SessionScheduled, envelope) -> None:
    starts_at = event.starts_at.isoformat()
    await _tell(notifier, session, envelope, "session_scheduled", event,
                {"session_id": event.session_id, "starts_at": starts_at})
    for lead_seconds in notifier.nsettings.session_reminders_seconds:
        lead = f"{lead_seconds // 3600}h" if lead_seconds % 3600 == 0 else f"{lead_seconds}s"
        await scheduler.schedule(session, notifier, kind="session_reminder", case_id=event.case_id,
                                 ref=f"{event.session_id}:{lead_seconds}",
                                 due_at=event.starts_at - timedelta(seconds=lead_seconds),
                                 params={"session_id": event.session_id, "starts_at": starts_at, "lead": lead})


async def on_session_started(notifier, session, event: S.SessionStarted, envelope) -> None:
    await scheduler.cancel(session, case_id=event.case_id, kind="session_reminder", ref_prefix=f"{event.session_id}:")
    await _tell(notifier, session, envelope, "session_started", event, {"session_id": event.session_id})


async def on_caucus_opened(notifier, session, event: S.CaucusOpened, envelope) -> None:
    await _tell(notifier, session, envelope, "caucus_requested", event, {"session_id": event.session_id})


# -- agreements ----------------------------------------------------------------------------------


async def on_draft_ready(notifier, session, event: A.DraftReady, envelope) -> None:
    await _tell(notifier, session, envelope, "draft_ready", event,
                {"agreement_id": event.agreement_id, "version": event.version})


async def on_signature_requested(notifier, session, event: A.SignatureRequested, envelope) -> None:
    params = {"agreement_id": event.agreement_id, "version": event.version}
    await _tell(notifier, session, envelope, "signature_requested", event, params)
    await scheduler.schedule(session, notifier, kind="signature_pending", case_id=event.case_id,
                             ref=f"{event.agreement_id}:{event.version}",
                             due_at=envelope.time + timedelta(seconds=notifier.nsettings.signature_reminder_seconds),
                             params={**params, "signer_ids": list(event.signer_ids)})


async def on_signature_added(notifier, session, event: A.SignatureAdded, envelope) -> None:
    await scheduler.adjust_signers(session, case_id=event.case_id, ref=f"{event.agreement_id}:{event.version}",
                                   remove=event.slot)
    side = event.slot.split(":", 1)[0]  # a side's slot, or one party's of it ("respondent:<participant id>")
    if side != "mediator":  # the mediator knows of their own signature
        await _tell(notifier, session, envelope, "signature_added", event,
                    {"agreement_id": event.agreement_id, "version": event.version, "side": side})


async def on_signature_withdrawn(notifier, session, event: A.SignatureWithdrawn, envelope) -> None:
    await scheduler.adjust_signers(session, case_id=event.case_id, ref=f"{event.agreement_id}:{event.version}",
                                   add=event.slot)


async def on_signed(notifier, session, event: A.AgreementSigned, envelope) -> None:
    await scheduler.cancel(session, case_id=event.case_id, kind="signature_pending", ref_prefix=f"{event.agreement_id}:")
    zone = ZoneInfo((await _case_of(notifier, session, event.case_id)).time_zone)
    for due in event.obligations:  # the owing side hears of it before the deadline
        remind_on = due.due_on - timedelta(days=notifier.nsettings.obligation_reminder_days)
        await scheduler.schedule(session, notifier, kind="obligation_due", case_id=event.case_id,
                                 ref=f"{event.agreement_id}:{due.obligation_id}",
                                 due_at=datetime.combine(remind_on, time(9, 0), tzinfo=zone),
                                 params={"agreement_id": event.agreement_id, "obligation_id": due.obligation_id,
                                         "side": due.obligor_side, "due_on": due.due_on.isoformat()})
    await _tell(notifier, session, envelope, "agreement_signed", event,
                {"agreement_id": event.agreement_id, "version": event.version})
    await webhooks.enqueue(session, notifier, court_id=event.court_id, envelope=envelope,
                           data={"agreement_id": event.agreement_id, "version": event.version,
                                 "document_hash": event.document_hash, "status": "signed",
                                 # a criminal case: the article the reconciliation enables (Art. 68)
                                 **({"legal_effect": event.legal_effect.model_dump()} if event.legal_effect else {})})


async def on_court_decision(notifier, session, event: A.AgreementApproved | A.AgreementRejected, envelope) -> None:
    decision = "approved" if isinstance(event, A.AgreementApproved) else "rejected"
    await _tell(notifier, session, envelope, "court_decision", event,
                {"agreement_id": event.agreement_id, "decision": decision})
    await webhooks.enqueue(session, notifier, court_id=event.court_id, envelope=envelope,
                           data={"agreement_id": event.agreement_id, "status": decision})


async def on_obligation_overdue(notifier, session, event: A.ObligationOverdue, envelope) -> None:
    await scheduler.cancel(session, case_id=event.case_id, kind="obligation_due",
                           ref_prefix=f"{event.agreement_id}:{event.obligation_id}")
    await _tell(notifier, session, envelope, "obligation_overdue", event,
                {"agreement_id": event.agreement_id, "obligation_id": event.obligation_id,
                 "due_on": event.due_on.isoformat()})


HANDLERS: dict[type[Event], Any] = {
    I.CaseFiled: on_case_filed, I.RespondentInvited: on_invited, I.ConsentRecorded: on_consent,
    I.ScreeningRequested: on_screening, I.MediatorProposed: on_mediator_proposed,
    I.MediatorAssigned: on_mediator_assigned, I.MediationAgreed: on_mediation_agreed, I.CaseClosed: on_case_closed,
    I.SittingProposed: on_sitting_proposed, I.SittingFixed: on_sitting_fixed, I.SittingCancelled: on_sitting_cancelled,
    I.AccessLinkSent: links.on_link_sent,
    S.SessionScheduled: on_session_scheduled, S.SessionStarted: on_session_started, S.CaucusOpened: on_caucus_opened,
    A.DraftReady: on_draft_ready, A.SignatureRequested: on_signature_requested, A.SignatureAdded: on_signature_added,
    A.SignatureWithdrawn: on_signature_withdrawn, A.AgreementSigned: on_signed, A.AgreementApproved: on_court_decision,
    A.AgreementRejected: on_court_decision, A.ObligationOverdue: on_obligation_overdue,
}


def subscriptions(notifier) -> list[Subscription]:
    # One consumer over the three topics: fewer consumer groups to run, one inbox key.
    return [Subscription(name="case-events",
                         handlers={cls.type: partial(handler, notifier) for cls, handler in HANDLERS.items()})]
