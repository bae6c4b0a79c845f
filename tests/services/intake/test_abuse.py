"""Abuse resistance of intake's sign-in, code and link endpoints (issue 18, findings 3 and 10):
failed attempts are limited per account and per client address, with a 429 problem and
`Retry-After`; past the limit even the right password waits for the window to end; a right
password is never slowed down; sign-in links are limited per case side and address; password
checks do not stall the event loop. The window is driven through the limiter's clock, not slept."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import shared.auth
from services.intake.app import create_app
from shared.config import Settings
from tests.services.intake.conftest import Driver, bearer
from tests.support.apps import running

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path, dev_mode=True, log_format="json",
                    rate_limit_sign_in_account="3 per 15 minutes", rate_limit_sign_in_address="8 per 15 minutes",
                    rate_limit_sign_in_links="2 per hour", rate_limit_sign_in_links_address="5 per hour")


def later(client, seconds: float) -> None:
    """Move the limiter's clock ``seconds`` ahead of real time (what every replica would see)."""
    storage = client.app.state.runtime.context.limits.limiter.storage
    storage.clock = lambda: time.time() + seconds


async def _login(client, username, password=PASSWORD):
    return await client.post("/auth/login", json={"username": username, "password": password})


def assert_limited(r, *, at_most: int) -> int:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/too-many-requests") and r.json()["status"] == 429
    retry_after = int(r.headers["Retry-After"])
    assert 0 < retry_after <= at_most and r.json()["retry_after"] == retry_after
    return retry_after


async def test_wrong_passwords_lock_the_account_until_the_window_passes(app_client, flow):
    _, username = await flow.mediator(await flow.admin())
    _, other = await flow.mediator(await flow.admin())
    for _ in range(3):
        assert (await _login(app_client, username, "not the password")).status_code == 401

    refused = await _login(app_client, username)  # the right password, too late
    assert_limited(refused, at_most=15 * 60)
    assert (await _login(app_client, username.upper(), "x")).status_code == 429  # the same account, however spelt
    assert (await _login(app_client, other)).status_code == 200  # other accounts are not locked

    later(app_client, 14 * 60)
    assert (await _login(app_client, username)).status_code == 429
    later(app_client, 15 * 60 + 1)
    assert (await _login(app_client, username)).status_code == 200


async def test_a_right_password_is_never_slowed_down(app_client, flow):
    _, username = await flow.mediator(await flow.admin())
    for _ in range(10):
        assert (await _login(app_client, username)).status_code == 200
    assert (await _login(app_client, username, "typo")).status_code == 401
    assert (await _login(app_client, username)).status_code == 200


async def test_one_address_cannot_spray_passwords_over_many_accounts(app_client, flow):
    admin = await flow.admin()
    names = [(await flow.mediator(admin))[1] for _ in range(3)]
    for i in range(8):  # at most 2 per account: no account reaches its own limit
        assert (await _login(app_client, f"{names[i % 3]}" if i < 6 else f"nobody{i}", "guess")).status_code == 401
    r = await _login(app_client, names[0])
    assert_limited(r, at_most=15 * 60)
    later(app_client, 15 * 60 + 1)
    assert (await _login(app_client, names[0])).status_code == 200


async def test_court_client_secrets_are_limited(app_client, flow):
    admin = await flow.admin()
    created = (await app_client.post("/admin/court-clients", json={"court_id": "almaty-civil", "name": "Almaty"},
                                     headers=admin)).json()

    def grant(secret):
        return app_client.post("/auth/token", data={"grant_type": "client_credentials",
                                                    "client_id": created["client_id"], "client_secret": secret})

    for _ in range(3):
        assert (await grant("wrong")).status_code == 401
    assert_limited(await grant(created["client_secret"]), at_most=15 * 60)
    later(app_client, 15 * 60 + 1)
    assert (await grant(created["client_secret"])).status_code == 200


async def test_guessing_link_tokens_is_limited_per_address(app_client, flow):
    case_id, claimant = await flow.file()
    invitation = await flow.invite(case_id, claimant)
    for i in range(8):
        guess = f"not-a-real-token-{i}"
        path = ("/auth/links/exchange", f"/invitations/{guess}")[i % 2]
        r = await (app_client.post(path, json={"token": guess}) if i % 2 == 0 else app_client.get(path))
        assert r.status_code == 404, r.text
    assert_limited(await app_client.get(f"/invitations/{invitation['link_token']}"), at_most=15 * 60)
    later(app_client, 15 * 60 + 1)
    assert (await app_client.get(f"/invitations/{invitation['link_token']}")).status_code == 200


async def test_sign_in_links_are_limited_per_case_side_and_address(app_client, flow):
    """Finding 10 of issue 18: anyone could ask for sign-in links without limit."""
    case_id, claimant, respondent = await flow.to_screening()

    def ask(side="respondent", case=case_id):
        return app_client.post(f"/cases/{case}/sign-in-links", json={"side": side})

    first, second = await ask(), await ask()
    assert first.status_code == second.status_code == 202
    # Only the newest link is live.
    assert (await app_client.post("/auth/links/exchange", json={"token": first.json()["link_token"]})).status_code == 410
    assert_limited(await ask(), at_most=3600)
    assert (await ask("claimant")).status_code == 202  # the other side has its own allowance
    assert (await app_client.post("/auth/links/exchange",
                                  json={"token": second.json()["link_token"]})).status_code == 200

    # Per address, every request counts (unknown cases too): 5 an hour here, 4 spent above.
    assert (await ask(case="00000000-0000-0000-0000-000000000000")).status_code == 404
    assert_limited(await ask("claimant"), at_most=3600)
    later(app_client, 3601)
    assert (await ask()).status_code == 202


async def test_limits_hold_across_replicas_sharing_the_database(tmp_path, database_url, settings):
    """Two replicas of intake on one database (SQLite file or PostgreSQL) count the same attempts."""
    shared_settings = settings.model_copy(update={"database_url": database_url})
    a, b = create_app(shared_settings, configure_logs=False), create_app(shared_settings, configure_logs=False)
    async with running(a) as one, running(b) as two:
        one.app, two.app = a, b
        _, username = await Driver(one).mediator(await Driver(one).admin())
        for client in (one, two, one):
            assert (await _login(client, username, "wrong")).status_code == 401
        assert_limited(await _login(two, username), at_most=15 * 60)
        assert_limited(await _login(one, username), at_most=15 * 60)


async def test_password_checks_do_not_stall_the_event_loop(app_client, flow, monkeypatch):
    """Finding 3 of issue 18: argon2 ran on the event loop, stalling every request, room and
    worker of the process for each sign-in. Here every password check is held until a cheap
    request has been answered: on the event loop that request could never be answered."""
    admin = await flow.admin()
    names = [(await flow.mediator(admin))[1] for _ in range(3)]  # attempts in flight count against the limits
    answered = threading.Event()
    checks_started = []

    class HeldHasher:
        """argon2's hasher, each check held until the cheap request is answered."""

        def __init__(self, real):
            self.real = real

        def verify(self, hash_, password):
            checks_started.append(threading.get_ident())
            answered.wait(timeout=30)
            return self.real.verify(hash_, password)

    monkeypatch.setattr(shared.auth, "_hasher", HeldHasher(shared.auth._hasher))
    logins = [asyncio.create_task(_login(app_client, names[i % 3])) for i in range(6)]
    deadline = time.monotonic() + 30
    while not checks_started and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert checks_started, "no password check started"

    cheap = await app_client.get("/rulesets")  # answered while the checks are in progress
    assert cheap.status_code == 200
    assert not answered.is_set() and not any(t.done() for t in logins)
    answered.set()
    assert [r.status_code for r in await asyncio.gather(*logins)] == [200] * 6
    assert len(set(checks_started)) > 1  # several checks ran side by side, in threads


async def test_the_openapi_document_says_which_routes_answer_429(app_client):
    doc = (await app_client.get("/openapi.json")).json()
    limited = {(p, m) for p, item in doc["paths"].items() for m, op in item.items() if "429" in op.get("responses", {})}
    assert {("/auth/login", "post"), ("/auth/token", "post"), ("/cases/{case_id}/sign-in-links", "post"),
            ("/auth/links/exchange", "post"), ("/auth/totp/confirm", "post")} <= limited
    assert "Retry-After" in doc["paths"]["/auth/login"]["post"]["responses"]["429"]["headers"]


def test_a_bad_rate_stops_start_up(tmp_path):
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path, rate_limit_sign_in_account="ten a minute")
