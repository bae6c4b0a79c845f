"""Two-step sign-in for staff: a mediator turns it on with an authenticator app, after which the
password alone no longer signs in, a code works once, and turning it off takes a code."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyotp
from sqlalchemy import select, text

from services.intake.models import TotpFactor

PASSWORD = "correct horse battery"


async def _login(client, username, code=None):
    body = {"username": username, "password": PASSWORD}
    if code is not None:
        body["totp_code"] = code
    return await client.post("/auth/login", json=body)


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=30 * steps_ahead))


async def test_a_mediator_turns_on_two_step_sign_in(app_client, flow):
    admin = await flow.admin()
    _, username = await flow.mediator(admin)
    mediator = await flow.login(username)

    r = await app_client.post("/auth/totp", headers=mediator)
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/ODR:") and f"secret={secret}" in r.json()["otpauth_uri"]
    assert (await _login(app_client, username)).status_code == 200  # not required until confirmed

    wrong = await app_client.post("/auth/totp/confirm", json={"code": "000000" if _code(secret) != "000000" else "111111"},
                                  headers=mediator)
    assert wrong.status_code == 422 and wrong.json()["type"].endswith("/invalid-code")
    assert (await app_client.post("/auth/totp/confirm", json={"code": _code(secret)}, headers=mediator)).status_code == 204

    missing = await _login(app_client, username)
    assert missing.status_code == 401 and missing.json()["type"].endswith("/totp-required")
    code = _code(secret, steps_ahead=1)  # the next step: the confirming code's step is spent
    assert (await _login(app_client, username, code)).status_code == 200
    replay = await _login(app_client, username, code)
    assert replay.status_code == 401 and replay.json()["type"].endswith("/invalid-credentials")
    assert (await app_client.post("/auth/totp", headers=mediator)).status_code == 409  # on already

    # The secret is stored sealed, never in the clear.
    async with app_client.app.state.runtime.session_factory() as s:
        row = (await s.execute(select(TotpFactor))).scalars().one()
        dump = b"".join(bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode()
                        for v in (await s.execute(text("SELECT * FROM totp_factors"))).one())
    assert row.confirmed_at is not None and secret.encode() not in dump

    bad = await app_client.post("/auth/totp/disable", json={"code": "12345"}, headers=mediator)
    assert bad.status_code == 422  # not a six-digit code
    later = _code(secret, steps_ahead=-1)  # a step already passed is refused too
    assert (await app_client.post("/auth/totp/disable", json={"code": later}, headers=mediator)).status_code == 401


async def test_parties_and_courts_have_no_second_factor(app_client, flow):
    case_id, claimant = await flow.file()
    r = await app_client.post("/auth/totp", headers=claimant)
    assert r.status_code == 403
