"""The rate-limit storage over a service's database (shared.ratelimit): atomic under concurrency
on SQLite and PostgreSQL, windows that end by the clock, and the 429 problem a guard raises."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import MetaData

from shared.db import create_engine
from shared.problems import Problem
from shared.ratelimit import DatabaseStorage, Limiter, Rule, TooManyRequests, rate_limit_table


@pytest.fixture
async def storage(database_url):
    metadata = MetaData()
    table = rate_limit_table(metadata)
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    now = [1_000_000.0]
    store = DatabaseStorage(engine=engine, table=table, clock=lambda: now[0])
    store.now = now
    yield store
    await engine.dispose()


async def test_concurrent_hits_are_counted_exactly(storage):
    limiter = Limiter(storage)
    rule = Rule("test", "10 per minute")
    allowed = await asyncio.gather(*(limiter.strategy.hit(rule.item, rule.name, "x") for _ in range(25)))
    assert allowed.count(True) == 10
    assert await storage.get(rule.item.key_for(rule.name, "x")) == 25


async def test_a_spent_window_refuses_until_it_ends_then_starts_afresh(storage):
    limiter = Limiter(storage)
    rule = Rule("test", "2 per minute", failures_only=False)
    for _ in range(2):
        async with limiter.guard((rule, "a")):
            pass
    with pytest.raises(TooManyRequests) as refused:
        async with limiter.guard((rule, "a")):
            pytest.fail("the body runs only within the limit")
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "60"}
    async with limiter.guard((rule, "b")):  # another identifier has its own window
        pass

    storage.now[0] += 59.5
    with pytest.raises(TooManyRequests) as refused:
        async with limiter.guard((rule, "a")):
            pass
    assert refused.value.headers == {"Retry-After": "1"}
    storage.now[0] += 1
    async with limiter.guard((rule, "a")):
        pass
    assert await storage.get(rule.item.key_for(rule.name, "a")) == 1
    assert await storage.purge_expired() == 1  # "b"'s window ended


async def test_failure_only_rules_count_failures(storage):
    limiter = Limiter(storage)
    rule = Rule("sign-in", "2 per minute")
    for _ in range(5):
        async with limiter.guard((rule, "a")):
            pass  # successes give their unit back
    for _ in range(2):
        with pytest.raises(Problem):
            async with limiter.guard((rule, "a")):
                raise Problem(401, "invalid-credentials", "no")
    with pytest.raises(TooManyRequests):
        async with limiter.guard((rule, "a")):
            pass
