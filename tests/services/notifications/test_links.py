"""One-time links intake asks notifications to deliver (``odr.access.link_sent.v1``): the token and
the address arrive sealed for this service, are opened only to send the one message (email, or SMS
when only a phone was given, or the participant's own contact when no address was given), and are
never in a feed; a value sealed for something else is never sent."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

from shared import courier
from shared.contracts.intake import AccessLinkSent
from shared.crypto import aad
from tests.support.waiting import eventually

from .test_notices import feed, mailbox, set_email

TOKEN = "tok_" + "x" * 40


def link_event(svc, *, purpose="sign_in", case_id="c-links", participant_id=None, address=None, language="ru",
               token=TOKEN, link_id=None, info_id=None) -> AccessLinkSent:
    key = courier.public_key(svc.runtime.settings.resolved_kek_keyring)
    link_id = link_id or str(uuid.uuid4())
    bound = info_id or link_id
    sealed_address = (courier.seal(key, json.dumps(address), info=aad("access-link", bound, "address"))
                      if address else None)
    return AccessLinkSent(case_id=case_id, link_id=link_id, purpose=purpose, participant_id=participant_id,
                          language=language, expires_at=datetime.now(timezone.utc) + timedelta(minutes=30),
                          sealed_link=courier.seal(key, token, info=aad("access-link", bound, "link")),
                          sealed_address=sealed_address)


async def test_a_sealed_link_reaches_the_sealed_address_in_the_recipients_language_and_no_feed(svc):
    await svc.publish(link_event(svc, purpose="sign_in_address", case_id="*", address={"email": "asel@example.kz"},
                                 language="kk"),
                      link_event(svc, purpose="invitation", participant_id="p-r", language="en", token="tok_inv_1234567",
                                 address={"email": "resp@example.kz"}))
    mails = await eventually(lambda: _mails(svc, 2), message="two emails")
    by_to = {m["to"]: m for m in mails}
    assert by_to["asel@example.kz"]["language"] == "kk" and f"https://odr.example/sign-in/{TOKEN}" in by_to["asel@example.kz"]["text"]
    assert by_to["asel@example.kz"]["subject"] == "Кіруге арналған сілтемеңіз"
    invitation = by_to["resp@example.kz"]
    assert "https://odr.example/invitations/tok_inv_1234567" in invitation["text"] and "c-links" in invitation["subject"]
    assert await feed(svc, "p-r", "c-links") == []  # a link is sent, never listed


async def test_without_an_address_the_participants_own_contact_and_with_only_a_phone_an_sms(svc):
    await set_email(svc, "p-c", "claimant@example.kz", "c-links")
    await svc.publish(link_event(svc, participant_id="p-c"),
                      link_event(svc, purpose="invitation", participant_id="p-x", address={"phone": "+77010000000"}))
    mails = await eventually(lambda: _mails(svc, 1), message="an email")
    assert mails[0]["to"] == "claimant@example.kz" and f"/sign-in/{TOKEN}" in mails[0]["text"]
    await eventually(lambda: len(svc.notifier.sms.sent) == 1, message="an SMS through the provider")


async def test_a_link_sealed_for_another_link_is_never_sent(svc):
    moved = link_event(svc, address={"email": "thief@example.kz"}, info_id="another-link")
    await svc.publish(moved, link_event(svc, address={"email": "marker@example.kz"}))
    await eventually(lambda: _mails(svc, 1), message="the marker")
    assert [m["to"] for m in await mailbox(svc)] == ["marker@example.kz"]


async def _mails(svc, n):
    items = await mailbox(svc)
    return len(items) == n and items
