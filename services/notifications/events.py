"""What notifications consumes (every event that reaches a person or a court) and publishes
(nothing).

Each handler keeps the recipient directory current, turns the event into notices for the right
people by role, schedules or cancels reminders, and queues court webhooks. Handlers change the
database only through the consumer's session, so their effects commit with the inbox row.
Event types added to the contracts later are ignored until a handler is added here.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.contracts import agreements as A
from shared.contracts import intake as I
from shared.contracts import sessions as S
from shared.service import Subscription

from . import scheduler, service, webhooks
from .catalog import CASE_ROLES, PARTY_ROLES, SESSION_ROLES
from .models import Recipient

PUBLISHES: list = []


def filer_id(case_id: str) -> str:
    """The filing party's id until the agreement to mediate names the participants: the subject
    intake puts in the token it hands the filer (``claimant:<case id>``)."""
    return f"claimant:{case_id}"


def _people(rows: list[Recipient]) -> list[tuple[str, str | None]]:
    return [(r.participant_id, r.language) for r in rows]


def subscriptions(notifier) -> list[Subscription]:
    ns = notifier.nsettings

    async def notify(session, envelope, kind: str, recipients, params: dict | None = None) -> None:
        await service.notify(session, notifier, source_id=envelope.id, case_id=envelope.subject, kind=kind,
                             recipients=recipients, params=params or {})

    async def case_of(session, case_id):
        return await service.case_entry(session, case_id, default_time_zone=ns.default_time_zone)

    # -- intake ----------------------------------------------------------------------------------

    async def on_case_filed(session, event: I.CaseFiled, envelope) -> None:
        case = await case_of(session, event.case_id)
        case.court_id, case.jurisdiction = event.court_id, event.jurisdiction
        filer = await service.remember(session, case_id=event.case_id, participant_id=filer_id(event.case_id),
                                       role="party", side="claimant")
        await notify(session, envelope, "case_filed", [(filer.participant_id, filer.language)])
        await webhooks.enqueue(session, notifier, court_id=event.court_id, envelope=envelope,
                               data={"jurisdiction": event.jurisdiction, "category": event.category,
                                     "status": "filed"})

    async def on_invited(session, event: I.RespondentInvited, envelope) -> None:
        await case_of(session, event.case_id)
        await service.remember(session, case_id=event.case_id, participant_id=event.respondent_participant_id,
                               role="party", side="respondent", language=event.language)
        answer_by = event.answer_by.isoformat()
        await notify(session, envelope, "invitation", [(event.respondent_participant_id, event.language)],
                     {"answer_by": answer_by})
        claimants = await service.audience(session, event.case_id, PARTY_ROLES, side="claimant")
        await notify(session, envelope, "invitation_sent", _people(claimants), {"answer_by": answer_by})
        await scheduler.schedule(
            session, notifier, kind="answer_window", case_id=event.case_id, ref=event.respondent_participant_id,
            due_at=event.answer_by - timedelta(seconds=ns.answer_window_reminder_seconds),
            params={"participant_id": event.respondent_participant_id, "language": event.language,
                    "answer_by": answer_by})

    async def on_consent(session, event: I.ConsentRecorded, envelope) -> None:
        await scheduler.cancel(session, case_id=event.case_id, kind="answer_window", ref_prefix=event.participant_id)
        who = await session.get(Recipient, (event.case_id, event.participant_id))
        if who is None or who.side is None:
            return  # e.g. the filer's own consent at filing: nobody else to tell yet
        others = [r for r in await service.audience(session, event.case_id, CASE_ROLES)
                  if r.side != who.side or r.role == "mediator"]
        await notify(session, envelope, "consent_recorded", _people(others), {"decision": event.decision})

    async def on_screening(session, event: I.ScreeningRequested, envelope) -> None:
        row = await session.get(Recipient, (event.case_id, event.participant_id))
        if row is None:
            await service.remember(session, case_id=event.case_id, participant_id=event.participant_id, role="party",
                                   language=event.language)
        await notify(session, envelope, "screening_requested", [(event.participant_id, event.language)])

    async def on_mediator_proposed(session, event: I.MediatorProposed, envelope) -> None:
        row = await session.get(Recipient, (event.case_id, event.mediator_id))
        if row is None:  # known, but not yet the case's mediator: only its own notice reaches it
            await service.remember(session, case_id=event.case_id, participant_id=event.mediator_id,
                                   role="mediator", active=False)
        parties = await service.audience(session, event.case_id, PARTY_ROLES)
        await notify(session, envelope, "mediator_proposed",
                     [*_people(parties), (event.mediator_id, row.language if row else None)])

    async def on_mediator_assigned(session, event: I.MediatorAssigned, envelope) -> None:
        for other in await service.audience(session, event.case_id, ["mediator"], exclude=[event.mediator_id]):
            other.active = False
        await service.remember(session, case_id=event.case_id, participant_id=event.mediator_id, role="mediator")
        await notify(session, envelope, "mediator_assigned", _people(await service.audience(session, event.case_id, CASE_ROLES)))

    async def on_mediation_agreed(session, event: I.MediationAgreed, envelope) -> None:
        case = await case_of(session, event.case_id)
        case.time_zone = event.time_zone
        listed = {p.participant_id for p in event.participants}
        for p in event.participants:
            await service.remember(session, case_id=event.case_id, participant_id=p.participant_id, role=p.role,
                                   side=p.side, language=p.language)
        if event.mediator_id not in listed:
            await service.remember(session, case_id=event.case_id, participant_id=event.mediator_id, role="mediator")
        if any(p.side == "claimant" and p.role == "party" for p in event.participants) and filer_id(event.case_id) not in listed:
            # The filer is now known by a participant id; stop addressing the placeholder.
            placeholder = await session.get(Recipient, (event.case_id, filer_id(event.case_id)))
            if placeholder is not None:
                placeholder.active = False
        await notify(session, envelope, "mediation_started",
                     _people(await service.audience(session, event.case_id, SESSION_ROLES)),
                     {"term_ends_on": event.term_ends_on.isoformat()})

    async def on_case_closed(session, event: I.CaseClosed, envelope) -> None:
        await scheduler.cancel(session, case_id=event.case_id)
        await notify(session, envelope, "case_closed", _people(await service.audience(session, event.case_id, CASE_ROLES)),
                     {"outcome": event.outcome})

    # -- sessions --------------------------------------------------------------------------------

    async def on_session_scheduled(session, event: S.SessionScheduled, envelope) -> None:
        starts_at = event.starts_at.isoformat()
        await notify(session, envelope, "session_scheduled",
                     _people(await service.audience(session, event.case_id, SESSION_ROLES)),
                     {"session_id": event.session_id, "starts_at": starts_at})
        for lead_seconds in ns.session_reminders_seconds:
            lead = f"{lead_seconds // 3600}h" if lead_seconds % 3600 == 0 else f"{lead_seconds}s"
            await scheduler.schedule(session, notifier, kind="session_reminder", case_id=event.case_id,
                                     ref=f"{event.session_id}:{lead_seconds}",
                                     due_at=event.starts_at - timedelta(seconds=lead_seconds),
                                     params={"session_id": event.session_id, "starts_at": starts_at, "lead": lead})

    async def on_session_started(session, event: S.SessionStarted, envelope) -> None:
        await scheduler.cancel(session, case_id=event.case_id, kind="session_reminder", ref_prefix=f"{event.session_id}:")
        await notify(session, envelope, "session_started",
                     _people(await service.audience(session, event.case_id, SESSION_ROLES)),
                     {"session_id": event.session_id})

    async def on_caucus_opened(session, event: S.CaucusOpened, envelope) -> None:
        # Only that side learns of it, and only that the mediator asks them in: no content ever.
        side = await service.audience(session, event.case_id, SESSION_ROLES - {"mediator"}, side=event.side)
        await notify(session, envelope, "caucus_requested", _people(side), {"session_id": event.session_id})

    # -- agreements ------------------------------------------------------------------------------

    async def on_draft_ready(session, event: A.DraftReady, envelope) -> None:
        await notify(session, envelope, "draft_ready", _people(await service.audience(session, event.case_id, CASE_ROLES)),
                     {"agreement_id": event.agreement_id, "version": event.version})

    async def on_signature_requested(session, event: A.SignatureRequested, envelope) -> None:
        params = {"agreement_id": event.agreement_id, "version": event.version}
        await notify(session, envelope, "signature_requested",
                     _people(await service.signers(session, event.case_id, event.signer_ids)), params)
        await scheduler.schedule(session, notifier, kind="signature_pending", case_id=event.case_id,
                                 ref=f"{event.agreement_id}:{event.version}",
                                 due_at=envelope.time + timedelta(seconds=ns.signature_reminder_seconds),
                                 params={**params, "signer_ids": list(event.signer_ids)})

    async def on_signature_added(session, event: A.SignatureAdded, envelope) -> None:
        await scheduler.adjust_signers(session, case_id=event.case_id, ref=f"{event.agreement_id}:{event.version}",
                                       remove=event.slot)

    async def on_signature_withdrawn(session, event: A.SignatureWithdrawn, envelope) -> None:
        await scheduler.adjust_signers(session, case_id=event.case_id, ref=f"{event.agreement_id}:{event.version}",
                                       add=event.slot)

    async def on_signed(session, event: A.AgreementSigned, envelope) -> None:
        await scheduler.cancel(session, case_id=event.case_id, kind="signature_pending", ref_prefix=f"{event.agreement_id}:")
        zone = ZoneInfo((await case_of(session, event.case_id)).time_zone)
        for due in event.obligations:  # the owing side hears of it before the deadline
            remind_on = due.due_on - timedelta(days=ns.obligation_reminder_days)
            await scheduler.schedule(session, notifier, kind="obligation_due", case_id=event.case_id,
                                     ref=f"{event.agreement_id}:{due.obligation_id}",
                                     due_at=datetime.combine(remind_on, time(9, 0), tzinfo=zone),
                                     params={"agreement_id": event.agreement_id, "obligation_id": due.obligation_id,
                                             "side": due.obligor_side, "due_on": due.due_on.isoformat()})
        await notify(session, envelope, "agreement_signed",
                     _people(await service.audience(session, event.case_id, CASE_ROLES)),
                     {"agreement_id": event.agreement_id, "version": event.version})
        await webhooks.enqueue(session, notifier, court_id=event.court_id, envelope=envelope,
                               data={"agreement_id": event.agreement_id, "version": event.version,
                                     "document_hash": event.document_hash, "status": "signed"})

    async def on_court_decision(session, event: A.AgreementApproved | A.AgreementRejected, envelope) -> None:
        decision = "approved" if isinstance(event, A.AgreementApproved) else "rejected"
        await notify(session, envelope, "court_decision",
                     _people(await service.audience(session, event.case_id, CASE_ROLES)),
                     {"agreement_id": event.agreement_id, "decision": decision})
        await webhooks.enqueue(session, notifier, court_id=event.court_id, envelope=envelope,
                               data={"agreement_id": event.agreement_id, "status": decision})

    async def on_obligation_overdue(session, event: A.ObligationOverdue, envelope) -> None:
        await scheduler.cancel(session, case_id=event.case_id, kind="obligation_due",
                               ref_prefix=f"{event.agreement_id}:{event.obligation_id}")
        await notify(session, envelope, "obligation_overdue",
                     _people(await service.audience(session, event.case_id, CASE_ROLES)),
                     {"agreement_id": event.agreement_id, "obligation_id": event.obligation_id,
                      "due_on": event.due_on.isoformat()})

    # One consumer over the three topics: fewer consumer groups to run, one inbox key.
    return [
        Subscription(name="case-events", handlers={
            I.CaseFiled.type: on_case_filed, I.RespondentInvited.type: on_invited, I.ConsentRecorded.type: on_consent,
            I.ScreeningRequested.type: on_screening, I.MediatorProposed.type: on_mediator_proposed,
            I.MediatorAssigned.type: on_mediator_assigned, I.MediationAgreed.type: on_mediation_agreed,
            I.CaseClosed.type: on_case_closed,
            S.SessionScheduled.type: on_session_scheduled, S.SessionStarted.type: on_session_started,
            S.CaucusOpened.type: on_caucus_opened,
            A.DraftReady.type: on_draft_ready, A.SignatureRequested.type: on_signature_requested,
            A.SignatureAdded.type: on_signature_added, A.SignatureWithdrawn.type: on_signature_withdrawn,
            A.AgreementSigned.type: on_signed, A.AgreementApproved.type: on_court_decision,
            A.AgreementRejected.type: on_court_decision, A.ObligationOverdue.type: on_obligation_overdue}),
    ]
