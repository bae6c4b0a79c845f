"""SMS through SMSC.kz's HTTP API, against a local server that speaks it (``servers.SmscGateway``):
a party with only a phone number gets its invitation and sign-in link by SMS in its language; a
5xx and a timeout are retried and the message still arrives once; a permanent error fails the
delivery without a retry; the link's secret, the number and the credentials are in no log and no
stored error; a provider that cannot work refuses to start."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from services.notifications.app import create_app
from services.notifications.channels import sms
from services.notifications.channels.failures import PermanentFailure
from services.notifications.models import Delivery
from services.notifications.settings import NotificationsSettings
from shared.config import ConfigurationError, Settings
from tests.support.waiting import eventually

from .conftest import PUBLIC_URL, service
from .servers import SmscGateway
from .test_links import link_event

KK_PHONE, RU_PHONE = "+77011234567", "+77027654321"
INVITE_TOKEN, SIGN_IN_TOKEN = "tok_inv_" + "k" * 40, "tok_sign_" + "r" * 40


def smsc_settings(gateway: SmscGateway, **more) -> dict:
    return dict(sms_provider="smsc", smsc_base_url=gateway.url, smsc_login=gateway.login,
                smsc_password=gateway.password, sms_sender="ODR-KZ", **more)


async def deliveries(svc) -> list[Delivery]:
    async with svc.runtime.session_factory() as s:
        return list((await s.execute(select(Delivery).where(Delivery.channel == "sms"))).scalars())


async def settled(svc, n: int, status: str) -> list[Delivery]:
    rows = await deliveries(svc)
    return rows if len(rows) == n and all(d.status == status for d in rows) else []


def assert_no_secrets(text: str, gateway: SmscGateway, *values: str) -> None:
    for secret in (gateway.password, *values):
        assert secret not in text, f"{secret[:12]}… leaked"


async def test_a_party_with_only_a_phone_gets_the_invitation_and_sign_in_link_by_sms_in_their_language(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    gateway = SmscGateway()
    async with gateway.running(), service(tmp_path, **smsc_settings(gateway)) as svc:
        assert "SMS provider: smsc" in caplog.text  # said at start
        # The respondent: intake gave only a phone. The claimant: their contact is only a phone.
        r = await svc.client.put("/contacts/p-c", json={"phone": RU_PHONE}, headers=svc.token("ops", "admin"))
        assert r.status_code == 200, r.text
        await svc.publish(
            link_event(svc, purpose="invitation", case_id="c-sms", participant_id="p-r", language="kk",
                       token=INVITE_TOKEN, address={"phone": KK_PHONE}),
            link_event(svc, purpose="sign_in", case_id="c-sms", participant_id="p-c", language="ru", token=SIGN_IN_TOKEN))
        await eventually(lambda: len(gateway.accepted) == 2, timeout=60, message="two SMS at the gateway")
        rows = await eventually(lambda: settled(svc, 2, "sent"), timeout=60, message="both recorded as sent")

    by_phone = {m["phones"]: m for m in gateway.accepted}
    kk, ru = by_phone[KK_PHONE], by_phone[RU_PHONE]
    # In the recipient's language, Kazakh letters intact (UTF-8 on the wire), the link whole.
    assert kk["mes"].startswith("Сізді медиацияға шақырады") and kk["mes"].endswith(f"{PUBLIC_URL}/invitations/{INVITE_TOKEN}")
    assert ru["mes"] == f"Ваша ссылка для входа: {PUBLIC_URL}/sign-in/{SIGN_IN_TOKEN}"
    for m in (kk, ru):
        assert m["sender"] == "ODR-KZ" and m["charset"] == "utf-8" and m["fmt"] == "3" and m["maxsms"] == "4"
        assert sms.segments(m["mes"]) <= 4
    # The provider's id is derived from our delivery id: the same on every attempt.
    assert {m["id"] for m in gateway.accepted} == {str(sms.smsc_message_id(d.id)) for d in rows}
    assert all(d.attempts == 1 and d.last_error is None for d in rows)
    assert_no_secrets(caplog.text, gateway, INVITE_TOKEN, SIGN_IN_TOKEN, KK_PHONE, RU_PHONE)


async def test_a_5xx_and_a_timeout_are_retried_and_the_sms_arrives_once(tmp_path, caplog):
    """First attempt: HTTP 503. Second: the gateway takes the message but answers too late (the
    sender times out). Third: the sender asks the gateway whether it has the message (it does)
    and does not send it again."""
    caplog.set_level(logging.DEBUG)
    gateway = SmscGateway(plan=[503, "slow"], slow_seconds=6.0)
    async with gateway.running(), service(tmp_path, **smsc_settings(gateway, sms_timeout_seconds=2.0)) as svc:
        await svc.publish(link_event(svc, purpose="invitation", case_id="c-retry", participant_id="p-r",
                                     token=INVITE_TOKEN, address={"phone": KK_PHONE}))
        [d] = await eventually(lambda: settled(svc, 1, "sent"), timeout=90, message="sent after retries")

    assert len(gateway.accepted) == 1, "the message reached the phone more than once"
    assert gateway.plan == [] and len(gateway.sends()) >= 2
    statuses = [f for script, f in gateway.requests if script == "status"]
    assert statuses and all(f["id"] == gateway.accepted[0]["id"] and f["phone"] == KK_PHONE for f in statuses)
    assert d.attempts >= 3
    retried = [r.getMessage() for r in caplog.records if "will be retried" in r.getMessage()]
    errors = [getattr(r, "error", "") for r in caplog.records if "will be retried" in r.getMessage()]
    assert len(retried) >= 2 and "smsc http 503" in errors and "smsc timeout" in errors
    assert_no_secrets(caplog.text, gateway, INVITE_TOKEN, KK_PHONE)


async def test_a_permanent_error_fails_the_delivery_without_a_retry_and_stores_no_secret(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    gateway = SmscGateway(plan=[7])  # "invalid phone number", its text quoting the number and the message
    async with gateway.running(), service(tmp_path, **smsc_settings(gateway)) as svc:
        await svc.publish(link_event(svc, purpose="invitation", case_id="c-bad", participant_id="p-r",
                                     token=INVITE_TOKEN, address={"phone": KK_PHONE}))
        [d] = await eventually(lambda: settled(svc, 1, "failed"), timeout=60, message="failed")
        # A later SMS goes through: the worker kept running, and never came back to the failed one.
        await svc.publish(link_event(svc, purpose="sign_in", case_id="c-bad", participant_id="p-x",
                                     token=SIGN_IN_TOKEN, address={"phone": RU_PHONE}))
        await eventually(lambda: len(gateway.accepted) == 1, timeout=60, message="the later SMS")

    assert d.attempts == 1 and d.last_error == "smsc error 7 (invalid phone number)"
    assert [f["phones"] for f in gateway.sends()] == [KK_PHONE, RU_PHONE]
    assert_no_secrets(caplog.text, gateway, INVITE_TOKEN, SIGN_IN_TOKEN, KK_PHONE, RU_PHONE)


async def test_bad_credentials_fail_for_good_and_say_the_account_needs_attention(tmp_path, caplog):
    gateway = SmscGateway()
    async with gateway.running(), service(tmp_path, **{**smsc_settings(gateway), "smsc_password": "wrong-psw-1234"}) as svc:
        await svc.publish(link_event(svc, participant_id="p-r", token=SIGN_IN_TOKEN, address={"phone": KK_PHONE}))
        [d] = await eventually(lambda: settled(svc, 1, "failed"), timeout=60, message="failed")
    assert d.attempts == 1 and d.last_error == "smsc error 2 (bad credentials or address not allowed)"
    assert any(r.levelno == logging.ERROR and "needs attention" in r.getMessage() for r in caplog.records)
    assert gateway.accepted == [] and "wrong-psw-1234" not in caplog.text


def test_smsc_without_credentials_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("ODR_NOTIFICATIONS_SMS_PROVIDER", "smsc")
    settings = Settings(data_dir=tmp_path, dev_mode=True, public_url=PUBLIC_URL)
    with pytest.raises(ConfigurationError, match="ODR_NOTIFICATIONS_SMSC_API_KEY"):
        create_app(settings, configure_logs=False)
    monkeypatch.setenv("ODR_NOTIFICATIONS_SMSC_LOGIN", "odr-kz")
    with pytest.raises(ConfigurationError, match="ODR_NOTIFICATIONS_SMSC_PASSWORD"):
        create_app(settings, configure_logs=False)
    monkeypatch.setenv("ODR_NOTIFICATIONS_SMSC_API_KEY", "key-do-not-show-77")
    create_app(settings, configure_logs=False)  # an API key is enough
    assert "key-do-not-show-77" not in repr(NotificationsSettings())
    # Outside dev mode the credentials never travel over plain http.
    with pytest.raises(ConfigurationError, match="https"):
        sms.check(NotificationsSettings(smsc_base_url="http://smsc.kz"), dev_mode=False)
    sms.check(NotificationsSettings(), dev_mode=False)  # the default address is https


async def test_outside_dev_mode_the_logging_provider_sends_nothing_and_says_so(caplog):
    provider = sms.provider(NotificationsSettings(sms_provider="logging"), dev_mode=False)
    assert "SMS provider: none" in caplog.text
    with pytest.raises(PermanentFailure, match="no SMS provider"):
        await provider.send(delivery_id="d-1", recipient="p-1", phone=KK_PHONE, text="x")
    assert provider.sent == []


def test_a_text_fits_the_segments_it_may_be_billed_as_and_keeps_its_link_whole():
    link = f"{PUBLIC_URL}/invitations/{INVITE_TOKEN}"
    assert sms.encoding("Your sign-in link: https://x/y") == "gsm"
    assert sms.encoding("Сізді медиацияға шақырады") == "ucs2" and sms.encoding("Ваша ссылка") == "ucs2"
    assert sms.segments("a" * 160) == 1 and sms.segments("a" * 161) == 2 and sms.segments("a" * 306) == 2
    assert sms.segments("{" * 80) == 1 and sms.segments("{" * 81) == 2  # two septets each
    assert sms.segments("қ" * 70) == 1 and sms.segments("қ" * 71) == 2 and sms.segments("қ" * 134) == 2
    words = "Сізді медиацияға шақырады (KZ-2026-000123 іс) " * 3
    for limit in (1, 2, 3):
        text = sms.compose(words=words, link=link, max_segments=limit)
        assert text.endswith(": " + link) or text == link
        assert sms.segments(text) <= limit or text == link
    assert sms.compose(words=words, link=link, max_segments=2).startswith("Сізді медиацияға")
    assert sms.compose(words="Short", link=link, max_segments=4) == f"Short: {link}"
