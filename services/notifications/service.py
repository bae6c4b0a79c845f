"""Notifications use cases: the recipient directory, fan-out of a notice to its recipients and
channels, the in-app feed, contact details and preferences.

Fan-out is idempotent on its own, not only through the inbox: notices and deliveries have
deterministic ids and unique keys per (event, recipient) and (event, recipient, channel), and
are inserted with "on conflict do nothing". So a redelivered event, a replayed reminder or a
restart in the middle of a batch never produces a second notice or a second email.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.clock import utcnow
from shared.crypto import DecryptionError
from shared.problems import Forbidden, NotFound, Problem
from shared.uow import UnitOfWork

from .catalog import IN_APP, KINDS, MEDIATOR, PARTY_ROLES, PRIVATE_KINDS, Audience
from .models import CaseEntry, Contact, Delivery, Notification, Preference, Recipient
from .schemas import ContactIn, ContactView, Feed, NotificationView, PreferencesIn, PreferencesView, QuietHours
from .storage import insert_ignore, stable_id

log = logging.getLogger("odr.notifications")

DEFAULT_CHANNELS = ("in_app", "email")
# How long a receipt waits for its person's address (``catalog.Kind.waits_for_contact``).
CONTACT_GRACE = timedelta(minutes=30)



# -- the directory -------------------------------------------------------------------------------


async def case_entry(session: AsyncSession, case_id: str, *, default_time_zone: str) -> CaseEntry:
    entry = await session.get(CaseEntry, case_id)
    if entry is None:
        entry = CaseEntry(case_id=case_id, time_zone=default_time_zone, updated_at=utcnow())
        session.add(entry)
    return entry


async def remember(session: AsyncSession, *, case_id: str, participant_id: str, role: str, side: str | None = None,
                   language: str | None = None, active: bool = True, acts_for: str | None = None) -> Recipient:
    """Add or update a participant of a case in the directory (built from events only)."""
    row = await session.get(Recipient, (case_id, participant_id))
    if row is None:
        row = Recipient(case_id=case_id, participant_id=participant_id, role=role, side=side, language=language,
                        acts_for=acts_for, active=active, updated_at=utcnow())
        session.add(row)
        return row
    row.role = role
    row.side = side if side is not None else row.side
    row.acts_for = acts_for if acts_for is not None else row.acts_for
    row.language = language or row.language
    row.active = active
    row.updated_at = utcnow()
    return row


async def audience(session: AsyncSession, case_id: str, roles: Iterable[str], *, side: str | None = None,
                   exclude: Iterable[str] = ()) -> list[Recipient]:
    q = select(Recipient).where(Recipient.case_id == case_id, Recipient.active.is_(True),
                                Recipient.role.in_(list(roles)))
    if side is not None:
        q = q.where(Recipient.side == side)
    excluded = set(exclude)
    rows = (await session.execute(q.order_by(Recipient.participant_id))).scalars().all()
    return [r for r in rows if r.participant_id not in excluded]


async def signers(session: AsyncSession, case_id: str, slots: Iterable[str]) -> list[Recipient]:
    """The people behind agreements' signer slots (``claimant``, ``respondent``, ``mediator``, or a
    party's own ``claimant:<participant id>``): for a party's own slot, that party and the
    representatives acting for it (co-parties who signed their own are not reminded of another's);
    for a side's slot, the side's parties and representatives; or the mediator. Agreements signs
    by slot, not by participant id, so the slot is what its events carry. A party's slot whose
    people the directory does not know yet (a case from before it kept ``acts_for``) reaches its
    side, as before."""
    people: list[Recipient] = []
    for slot in dict.fromkeys(slots):
        if slot == "mediator":
            people += await audience(session, case_id, MEDIATOR)
            continue
        side, _, party = slot.partition(":")
        on_side = await audience(session, case_id, PARTY_ROLES, side=side)
        own = [r for r in on_side if r.participant_id == party or r.acts_for == party] if party else []
        people += own or on_side
    return people


async def recipients(session: AsyncSession, case_id: str, who: Audience,
                     facts: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The (participant id, language hint) pairs of an audience (``catalog.Audience``), read
    against ``facts``: the fields of an event, or a reminder's params."""
    rows: list[Recipient] = []
    if who.roles:
        side = who.side if who.side_from is None else facts[who.side_from]
        rows = await audience(session, case_id, who.roles, side=side)
        if who.other_side_of is not None:
            actor = await session.get(Recipient, (case_id, facts[who.other_side_of]))
            rows = ([] if actor is None or actor.side is None
                    else [r for r in rows if r.side != actor.side or r.role == "mediator"])
    if who.signers_from is not None:
        rows += await signers(session, case_id, facts[who.signers_from])
    people = [(r.participant_id, r.language) for r in rows]
    if who.person is not None:
        person = facts[who.person]
        if who.language_from is not None:
            language = facts.get(who.language_from)
        else:
            known = await session.get(Recipient, (case_id, person))
            language = known.language if known else None
        people.append((person, language))
    return people


# -- fan-out -------------------------------------------------------------------------------------


async def notify(session: AsyncSession, notifier, *, source_id: str, case_id: str, kind: str,
                 recipients: Iterable[tuple[str, str | None]], params: dict, channels: set[str] | None = None) -> int:
    """Record ``kind`` for each (participant id, language hint) and queue its email/SMS
    deliveries per the recipient's preferences (or on ``channels``, when the sender chose the
    address: a one-time link, ``links``). Returns the number of new notices."""
    spec = KINDS[kind]
    wanted: dict[str, str | None] = {}
    for participant_id, language in recipients:
        wanted.setdefault(participant_id, language)
    if not wanted:
        return 0
    prefs = {p.subject: p for p in (await session.execute(
        select(Preference).where(Preference.subject.in_(list(wanted))))).scalars()}
    now = utcnow()
    default_language = notifier.nsettings.default_language
    notices, deliveries = [], []
    for participant_id, hint in wanted.items():
        pref = prefs.get(participant_id)
        language = (pref.language if pref and pref.language else None) or hint or default_language
        notice_id = stable_id(source_id, participant_id)
        notices.append({"id": notice_id, "recipient": participant_id, "case_id": case_id, "kind": kind,
                        "channel": IN_APP, "source_event_id": source_id, "created_at": now, "language": language,
                        "critical": spec.critical, "params": params, "read_at": None})
        chosen = set(channels if channels is not None else pref.channels if pref else DEFAULT_CHANNELS)
        for channel in sorted((chosen & spec.channels) - {IN_APP}):
            deliveries.append({"id": stable_id(source_id, participant_id, channel), "notification_id": notice_id,
                               "source_event_id": source_id, "recipient": participant_id, "channel": channel,
                               "status": "pending", "attempts": 0, "next_attempt_at": now, "lease_until": None,
                               "last_error": None, "created_at": now, "sent_at": None})
    await session.flush()  # pending ORM changes (directory rows) before core inserts
    created = await insert_ignore(session, Notification.__table__, notices, conflict=["source_event_id", "recipient"])
    await insert_ignore(session, Delivery.__table__, deliveries, conflict=["source_event_id", "recipient", "channel"])
    notifier.after_commit(session, "feed", "deliveries")
    log.info("notices queued", extra={"kind": kind, "case_id": case_id, "recipients": len(notices),
                                      "deliveries": len(deliveries)})
    return created


async def tell(session: AsyncSession, notifier, *, source_id: str, case_id: str, kind: str, facts: Mapping[str, Any],
               params: dict) -> int:
    """Notify the audience the catalog names for ``kind``, read against ``facts``."""
    people = await recipients(session, case_id, KINDS[kind].audience, facts)
    return await notify(session, notifier, source_id=source_id, case_id=case_id, kind=kind, recipients=people,
                        params=params)


# -- the in-app feed -----------------------------------------------------------------------------


async def recipient_ids(session: AsyncSession, principal: Principal) -> list[str]:
    """Whom a token speaks for. A party token's subject is ``<side>:<case id>`` while events name
    participants by id, so a party token also reaches the parties on its side in its cases."""
    ids = {principal.subject}
    if principal.role == "party" and principal.party_side and principal.cases:
        ids.update((await session.execute(select(Recipient.participant_id).where(
            Recipient.case_id.in_(sorted(principal.cases)), Recipient.side == principal.party_side,
            Recipient.role == "party"))).scalars())
    return sorted(ids)


async def _feed_query(session: AsyncSession, principal: Principal):
    q = select(Notification).where(Notification.recipient.in_(await recipient_ids(session, principal)),
                                   Notification.kind.not_in(sorted(PRIVATE_KINDS)))  # one-time links: sent only
    if principal.role == "party":
        # A party token is scoped to its cases: a lost link never shows another case's notices.
        q = q.where(Notification.case_id.in_(sorted(principal.cases)))
    return q


def view(notifier, n: Notification, case: CaseEntry | None, *, base_url: str | None = None) -> NotificationView:
    reference = case.reference if case else None
    rendered = notifier.renderer.render(kind=n.kind, language=n.language, case_id=n.case_id, params=n.params or {},
                                        time_zone=case.time_zone if case else notifier.nsettings.default_time_zone,
                                        reference=reference, base_url=base_url)
    return NotificationView(id=n.id, case_id=n.case_id, case_reference=reference, kind=n.kind, channel=n.channel, created_at=n.created_at,
                            title=rendered.subject, language=rendered.language, link=rendered.link, critical=n.critical,
                            read=n.read_at is not None)


async def views(session: AsyncSession, notifier, rows: list[Notification], *,
                base_url: str | None = None) -> list[NotificationView]:
    cases = {c.case_id: c for c in (await session.execute(
        select(CaseEntry).where(CaseEntry.case_id.in_({n.case_id for n in rows})))).scalars()}
    return [view(notifier, n, cases.get(n.case_id), base_url=base_url) for n in rows]


async def feed(uow: UnitOfWork, notifier, *, principal: Principal, limit: int = 50, base_url: str | None = None) -> Feed:
    rows = (await uow.session.execute(
        (await _feed_query(uow.session, principal)).order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    )).scalars().all()
    return Feed(items=await views(uow.session, notifier, list(rows), base_url=base_url))


async def feed_since(session: AsyncSession, notifier, *, principal: Principal, after: tuple[datetime, str] | None,
                     limit: int = 100, base_url: str | None = None) -> list[NotificationView]:
    """Notices newer than the cursor (created_at, id), oldest first: what a live stream sends next."""
    q = await _feed_query(session, principal)
    if after is not None:
        at, nid = after
        q = q.where((Notification.created_at > at) | ((Notification.created_at == at) & (Notification.id > nid)))
    rows = (await session.execute(q.order_by(Notification.created_at, Notification.id).limit(limit))).scalars().all()
    return await views(session, notifier, list(rows), base_url=base_url)


async def feed_cursor(session: AsyncSession, *, principal: Principal, last_event_id: str | None) -> tuple[datetime, str] | None:
    if last_event_id:
        n = (await session.execute((await _feed_query(session, principal)).where(Notification.id == last_event_id))).scalar_one_or_none()
        if n is not None:
            return n.created_at, n.id
    latest = (await session.execute((await _feed_query(session, principal)).order_by(Notification.created_at.desc(),
                                                                     Notification.id.desc()).limit(1))).scalar_one_or_none()
    return (latest.created_at, latest.id) if latest else None


async def mark_read(uow: UnitOfWork, *, principal: Principal, notification_id: str) -> None:
    n = (await uow.session.execute((await _feed_query(uow.session, principal)).where(Notification.id == notification_id))).scalar_one_or_none()
    if n is None:
        raise NotFound("the notification")
    if n.read_at is None:
        n.read_at = utcnow()
    await uow.commit()


# -- contact details -----------------------------------------------------------------------------


async def _may_manage_contact(session: AsyncSession, principal: Principal, participant_id: str) -> None:
    if principal.role == "admin":
        return
    if principal.role in ("party", "mediator") and participant_id in await recipient_ids(session, principal):
        return
    raise Forbidden("only the participant themself or an administrator may manage these contact details")


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_phone(phone: str) -> str:
    return phone[:4] + "*" * max(len(phone) - 6, 0) + phone[-2:]


def _open(notifier, sealed: bytes, *, participant_id: str, field: str) -> str:
    try:
        return notifier.sealer.open(sealed, aad=f"contact:{participant_id}:{field}")
    except DecryptionError:
        # Tampered with, moved from another participant, or its key is gone: never guess.
        log.error("contact details cannot be opened", extra={"participant_id": participant_id, "field": field})
        raise Problem(500, "contact-unreadable", "the stored contact details cannot be opened; set them again") from None


async def _contact_view(notifier, contact: Contact | None, participant_id: str) -> ContactView:
    out = ContactView(participant_id=participant_id)
    if contact is None:
        return out
    if contact.email_sealed:
        out.email = _mask_email(_open(notifier, contact.email_sealed, participant_id=participant_id, field="email"))
    if contact.phone_sealed:
        out.phone = _mask_phone(_open(notifier, contact.phone_sealed, participant_id=participant_id, field="phone"))
    return out


async def put_contact(uow: UnitOfWork, notifier, *, principal: Principal, participant_id: str, body: ContactIn) -> ContactView:
    await _may_manage_contact(uow.session, principal, participant_id)
    contact = await uow.session.get(Contact, participant_id)
    if contact is None:
        contact = Contact(participant_id=participant_id, updated_at=utcnow())
        uow.session.add(contact)
    given = body.model_fields_set
    if "email" in given:
        contact.email_sealed = (notifier.sealer.seal(body.email, aad=f"contact:{participant_id}:email")
                                if body.email else None)
    if "phone" in given:
        contact.phone_sealed = (notifier.sealer.seal(body.phone, aad=f"contact:{participant_id}:phone")
                                if body.phone else None)
    contact.updated_at = utcnow()
    resent = 0
    if "email" in given and body.email:
        resent += await _send_what_waited(uow.session, participant_id=participant_id, channel="email")
    if "phone" in given and body.phone:
        resent += await _send_what_waited(uow.session, participant_id=participant_id, channel="sms")
    if resent:
        notifier.after_commit(uow.session, "deliveries")
    await uow.commit()
    log.info("contact details updated", extra={"participant_id": participant_id, "fields": sorted(given)})
    return await _contact_view(notifier, contact, participant_id)


async def _send_what_waited(session: AsyncSession, *, participant_id: str, channel: str) -> int:
    """Queue again the receipts (``waits_for_contact`` kinds) this person missed for want of an
    address in the last ``CONTACT_GRACE``; returns how many."""
    kinds = [k.name for k in KINDS.values() if k.waits_for_contact]
    result = await session.execute(update(Delivery).where(
        Delivery.recipient == participant_id, Delivery.channel == channel, Delivery.status == "undeliverable",
        Delivery.created_at > utcnow() - CONTACT_GRACE,
        Delivery.notification_id.in_(select(Notification.id).where(Notification.kind.in_(kinds))),
    ).values(status="pending", next_attempt_at=utcnow(), last_error=None))
    return result.rowcount or 0


async def get_contact(uow: UnitOfWork, notifier, *, principal: Principal, participant_id: str) -> ContactView:
    await _may_manage_contact(uow.session, principal, participant_id)
    return await _contact_view(notifier, await uow.session.get(Contact, participant_id), participant_id)


async def delete_contact(uow: UnitOfWork, *, principal: Principal, participant_id: str) -> None:
    await _may_manage_contact(uow.session, principal, participant_id)
    contact = await uow.session.get(Contact, participant_id)
    if contact is not None:
        await uow.session.delete(contact)
    await uow.commit()


async def contact_address(session: AsyncSession, notifier, *, participant_id: str, channel: str) -> str | None:
    contact = await session.get(Contact, participant_id)
    if contact is None:
        return None
    sealed = contact.email_sealed if channel == "email" else contact.phone_sealed
    if not sealed:
        return None
    try:
        return _open(notifier, sealed, participant_id=participant_id, field="email" if channel == "email" else "phone")
    except Problem:
        return None


# -- preferences ---------------------------------------------------------------------------------


def _pref_view(subject: str, p: Preference | None) -> PreferencesView:
    if p is None:
        return PreferencesView(subject=subject)
    quiet = QuietHours(start=p.quiet_start, end=p.quiet_end) if p.quiet_start and p.quiet_end else None
    return PreferencesView(subject=subject, channels=p.channels, language=p.language, quiet_hours=quiet)


async def get_preferences(uow: UnitOfWork, *, principal: Principal) -> PreferencesView:
    return _pref_view(principal.subject, await uow.session.get(Preference, principal.subject))


async def put_preferences(uow: UnitOfWork, *, principal: Principal, body: PreferencesIn) -> PreferencesView:
    """Saved for the token's subject and for every participant id it speaks for (a party token's
    subject is not the participant id events use)."""
    if principal.role == "court":
        raise Forbidden("courts receive webhooks; they have no notification preferences")
    saved = None
    for subject in await recipient_ids(uow.session, principal):
        p = await uow.session.get(Preference, subject)
        if p is None:
            p = Preference(subject=subject, updated_at=utcnow())
            uow.session.add(p)
        p.channels = sorted(set(body.channels))
        p.language = body.language
        p.quiet_start = body.quiet_hours.start if body.quiet_hours else None
        p.quiet_end = body.quiet_hours.end if body.quiet_hours else None
        p.updated_at = utcnow()
        if subject == principal.subject:
            saved = p
    await uow.commit()
    return _pref_view(principal.subject, saved)
