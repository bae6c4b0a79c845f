"""What a revocation covers, at the token verification every service does (``shared.revocation``
behind ``TokenService.verify``), and that a service keeps what it consumed across a restart."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from shared.auth import KeyRing, TokenService, Unauthorized
from shared.clock import utcnow
from shared.contracts.intake import AccessRevoked
from shared.db import create_engine, create_session_factory
from shared.events import envelope
from shared.revocation import Revocation, RevocationStore, Revocations, revocations_table
from sqlalchemy import MetaData


@pytest.fixture
def tokens():
    return TokenService(KeyRing([KeyRing.generate_key()]), revocations=Revocations())


def later(seconds: float = 600) -> float:
    return time.time() + seconds


def test_sign_out_revokes_that_token_only(tokens):
    one, two = (tokens.issue(subject="m-1", role="mediator", cases=["c1"]) for _ in range(2))
    tokens.revocations.add(Revocation(subject="m-1", token_id=tokens.verify(one).token_id, expires_at=later()))
    with pytest.raises(Unauthorized):
        tokens.verify(one)
    assert tokens.verify(two).subject == "m-1"


def test_a_subject_cutoff_refuses_earlier_tokens_and_not_later_ones(tokens):
    before = tokens.issue(subject="m-1", role="mediator", cases=["c1"])
    other = tokens.issue(subject="m-2", role="mediator", cases=["c1"])
    tokens.revocations.add(Revocation(subject="m-1", issued_before=time.time(), expires_at=later()))
    after = tokens.issue(subject="m-1", role="mediator", cases=["c1"])
    with pytest.raises(Unauthorized):
        tokens.verify(before)
    assert tokens.verify(after).cases == {"c1"}
    assert tokens.verify(other).cases == {"c1"}


def test_a_recusal_takes_one_case_out_of_the_token(tokens):
    token = tokens.issue(subject="m-1", role="mediator", cases=["c1", "c2"])
    tokens.revocations.add(Revocation(subject="m-1", case_id="c1", issued_before=time.time(), expires_at=later()))
    principal = tokens.verify(token)
    assert principal.cases == {"c2"}
    assert not principal.can_access_case("c1") and principal.can_access_case("c2")
    assert not tokens.revocations.allows(principal, "c1")
    # assigned again later: a new token names the case and is good for it
    assert tokens.verify(tokens.issue(subject="m-1", role="mediator", cases=["c1"])).cases == {"c1"}


def test_applying_twice_changes_nothing_and_expired_revocations_are_forgotten():
    memory = Revocations()
    seen = []
    memory.listen(seen.append)
    r = Revocation(subject="s", issued_before=100.0, expires_at=200.0)
    assert memory.add(r) and not memory.add(r)
    assert len(seen) == 1
    memory.prune(now=300.0)
    assert memory.add(r)  # forgotten, so it counts as new again


async def test_a_restarted_service_still_refuses_what_it_consumed(tmp_path):
    metadata = MetaData()
    table = revocations_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    factory = create_session_factory(engine)
    keyring = KeyRing([KeyRing.generate_key()])
    old = TokenService(keyring).issue(subject="m-1", role="mediator")
    now = utcnow()
    evt = AccessRevoked(case_id="*", subject="m-1", issued_before=now, expires_at=now + timedelta(hours=1),
                        reason="account_disabled")
    first = RevocationStore(table=table, session_factory=factory)
    async with factory() as session:
        await first.handle(session, evt, envelope(evt, source="/odr/intake"))
        await session.commit()
    restarted = RevocationStore(table=table, session_factory=factory, poll_seconds=0.05)
    await restarted.start()
    try:
        with pytest.raises(Unauthorized):
            TokenService(keyring, revocations=restarted.memory).verify(old)
    finally:
        await restarted.stop()
        await engine.dispose()
