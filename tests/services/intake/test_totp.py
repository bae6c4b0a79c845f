"""Two-step sign-in for staff: a mediator turns it on with an authenticator app, after which the
password alone no longer signs in, a code works once (also when several sign-ins race with it, on
SQLite and PostgreSQL), recovery codes each work once, and turning it off takes a code."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select, text

from services.intake import totp
from services.intake.app import create_app
from services.intake.models import RecoveryCode, TotpFactor
from shared.config import Settings
from tests.services.intake.conftest import Driver
from tests.support.apps import running

PASSWORD = "correct horse battery"


async def _login(client, username, code=None, *, recovery=None):
    body = {"username": username, "password": PASSWORD}
    if code is not None:
        body["totp_code"] = code
    if recovery is not None:
        body["recovery_code"] = recovery
    return await client.post("/auth/login", json=body)


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=30 * steps_ahead))


async def test_a_mediator_turns_on_two_step_sign_in(app_client, flow):
    admin = await flow.admin()
    _, username = await flow.mediator(admin)
    mediator = await flow.login(username)

    off = await app_client.get("/auth/totp", headers=mediator)
    assert off.status_code == 200 and off.json() == {"enabled": False, "since": None, "recovery_codes_left": 0}
    r = await app_client.post("/auth/totp", headers=mediator)
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert not (await app_client.get("/auth/totp", headers=mediator)).json()["enabled"]  # not until confirmed
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/ODR:") and f"secret={secret}" in r.json()["otpauth_uri"]
    assert r.json()["qr_code"].startswith("data:image/svg+xml;")  # scanned in tests/client/test_mediator_sign_in.py
    assert (await _login(app_client, username)).status_code == 200  # not required until confirmed

    wrong = await app_client.post("/auth/totp/confirm", json={"code": "000000" if _code(secret) != "000000" else "111111"},
                                  headers=mediator)
    assert wrong.status_code == 422 and wrong.json()["type"].endswith("/invalid-code")
    confirmed = await app_client.post("/auth/totp/confirm", json={"code": _code(secret)}, headers=mediator)
    assert confirmed.status_code == 200 and len(confirmed.json()["recovery_codes"]) == 10
    on = (await app_client.get("/auth/totp", headers=mediator)).json()
    assert on["enabled"] and on["since"] and on["recovery_codes_left"] == 10

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
    refused = await app_client.post("/auth/totp/disable", json={"code": later}, headers=mediator)
    assert refused.status_code == 422 and refused.json()["type"].endswith("/invalid-code")


async def test_parties_and_courts_have_no_second_factor(app_client, flow):
    case_id, claimant = await flow.file()
    r = await app_client.post("/auth/totp", headers=claimant)
    assert r.status_code == 403


async def _two_step_mediator(client, flow) -> tuple[str, str, dict, list[str]]:
    """A mediator with two-step sign-in on: (username, secret, token headers, recovery codes)."""
    _, username = await flow.mediator(await flow.admin())
    mediator = await flow.login(username)
    secret = (await client.post("/auth/totp", headers=mediator)).json()["secret"]
    r = await client.post("/auth/totp/confirm", json={"code": _code(secret)}, headers=mediator)
    assert r.status_code == 200, r.text
    return username, secret, mediator, r.json()["recovery_codes"]


async def test_recovery_codes_sign_in_once_each_and_renewing_voids_the_old_ones(app_client, flow):
    username, secret, mediator, codes = await _two_step_mediator(app_client, flow)
    assert len(set(codes)) == 10

    first = await _login(app_client, username, recovery=codes[0])
    assert first.status_code == 200, first.text
    again = await _login(app_client, username, recovery=codes[0])
    assert again.status_code == 401 and again.json()["type"].endswith("/invalid-credentials")
    # typed in lower case without dashes, another code still works once
    assert (await _login(app_client, username, recovery=codes[1].replace("-", "").lower())).status_code == 200
    assert (await _login(app_client, username, recovery="AAAA-BBBB-CCCC-DDDD")).status_code == 401
    assert (await app_client.get("/auth/totp", headers=mediator)).json()["recovery_codes_left"] == 8

    # Only hashes are stored.
    async with app_client.app.state.runtime.session_factory() as s:
        stored = {r.code_hash for r in (await s.execute(select(RecoveryCode))).scalars()}
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & stored

    # Renewing takes a current code and voids every earlier recovery code.
    refused = await app_client.post("/auth/totp/recovery-codes", json={"code": "000000"}, headers=mediator)
    assert refused.status_code == 422 and refused.json()["type"].endswith("/invalid-code")
    renewed = await app_client.post("/auth/totp/recovery-codes", json={"code": _code(secret, steps_ahead=1)},
                                    headers=mediator)
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()["recovery_codes"]
    assert not set(fresh) & set(codes)
    assert (await _login(app_client, username, recovery=codes[2])).status_code == 401
    assert (await _login(app_client, username, recovery=fresh[0])).status_code == 200

    # Turning two-step sign-in off removes the recovery codes with it.
    off = await app_client.post("/auth/totp/disable", json={"code": _code(secret, steps_ahead=-1)}, headers=mediator)
    assert off.status_code == 422  # a step already spent
    async with app_client.app.state.runtime.session_factory() as s:
        await s.execute(text("UPDATE totp_factors SET last_step = 0"))  # as if time had moved on
        await s.commit()
    assert (await app_client.post("/auth/totp/disable", json={"code": _code(secret)}, headers=mediator)).status_code == 204
    async with app_client.app.state.runtime.session_factory() as s:
        assert (await s.execute(select(RecoveryCode))).first() is None


@pytest.fixture
async def any_db_client(tmp_path, database_url):
    """The intake app on a fresh SQLite file or PostgreSQL database (``database_url``); failed
    sign-ins are not limited here (they are in test_abuse)."""
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="json", database_url=database_url,
                        rate_limit_sign_in_account="1000 per minute", rate_limit_sign_in_address="1000 per minute")
    app = create_app(settings, configure_logs=False)
    async with running(app) as c:
        c.app = app
        yield c


async def test_concurrent_sign_ins_with_one_code_let_exactly_one_in(any_db_client, monkeypatch):
    """Finding 2 of issue 18: the code was read, compared and stored without a condition, so
    several sign-ins racing with one code all got in. Here every sign-in has read the factor
    (password right, factor loaded) before any goes on, the widest the race can be."""
    client, flow = any_db_client, Driver(any_db_client)
    username, secret, _, codes = await _two_step_mediator(client, flow)
    racers = 6
    read_factor = totp.confirmed

    def all_read_the_factor_first():
        barrier = asyncio.Barrier(racers)

        async def confirmed(session, account_id):
            row = await read_factor(session, account_id)
            await asyncio.wait_for(barrier.wait(), timeout=60)
            return row

        monkeypatch.setattr(totp, "confirmed", confirmed)

    all_read_the_factor_first()
    code = _code(secret, steps_ahead=1)
    answers = await asyncio.gather(*(_login(client, username, code) for _ in range(racers)))
    assert sorted(r.status_code for r in answers) == [200] + [401] * (racers - 1), [r.text for r in answers]

    all_read_the_factor_first()
    answers = await asyncio.gather(*(_login(client, username, recovery=codes[0]) for _ in range(racers)))
    assert sorted(r.status_code for r in answers) == [200] + [401] * (racers - 1), [r.text for r in answers]
