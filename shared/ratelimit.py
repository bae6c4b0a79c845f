"""Rate limits that hold across replicas, kept in the service's own database.

Replicas of a service share nothing but their database (PostgreSQL in production, the SQLite
file in the embedded run), so that is where the counters live: a ``limits`` storage
(``DatabaseStorage``) over one small table, each hit one atomic upsert. The strategy is
``limits``' fixed window: the first counted attempt opens a window of the rule's length, and once
the rule's amount is spent every attempt is refused until that window ends, whatever it carries
(so a right password after too many wrong ones is refused too, until the window passes).

A ``Rule`` says what is counted: every request (asking for something that is sent out, like a
sign-in link) or only failures (sign-ins, codes, secrets: a person who gets it right is not
slowed down, and the one attempt they spent is given back). ``Limiter.guard`` wraps a use case:
it spends one unit of each rule before the use case runs, refuses with a 429 problem and
``Retry-After`` when any is spent out, and gives the units of failure-only rules back when the use
case succeeds. Spending before checking means concurrent attempts cannot all slip through
between a check and a count.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import limits
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from sqlalchemy import Column, Double, Integer, MetaData, String, Table, case, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from .problems import PROBLEM_JSON, Problem


def rate_limit_table(metadata: MetaData) -> Table:
    """The counters of a service's rate limits, in its own database (add it to its migrations)."""
    return Table(
        "rate_limits",
        metadata,
        Column("key", String(255), primary_key=True),
        Column("count", Integer, nullable=False),
        Column("expires_at", Double, nullable=False, index=True),  # epoch seconds: when the window ends
    )


class DatabaseStorage(Storage):
    """A ``limits`` async storage over ``rate_limit_table``: what every replica of a service sees.

    ``clock`` (epoch seconds) is the storage's idea of now; tests drive it instead of sleeping."""

    STORAGE_SCHEME = None  # made directly with the service's engine, not from a storage URI

    def __init__(self, *, engine: AsyncEngine, table: Table, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.engine = engine
        self.table = table
        self.clock = clock

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """One atomic upsert: a new or ended window starts at ``amount``, a running one grows."""
        now, t = self.clock(), self.table
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t).values(key=key, count=amount, expires_at=now + expiry)
        ended = t.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(index_elements=[t.c.key], set_={
            "count": case((ended, stmt.excluded.count), else_=t.c.count + stmt.excluded.count),
            "expires_at": case((ended, stmt.excluded.expires_at), else_=t.c.expires_at),
        }).returning(t.c.count)
        async with self.engine.begin() as conn:
            return (await conn.execute(stmt)).scalar_one()

    async def decr(self, key: str, amount: int = 1) -> None:
        """Give back what a running window counted (never below zero; an ended window stays ended)."""
        t = self.table
        async with self.engine.begin() as conn:
            await conn.execute(update(t).where(t.c.key == key, t.c.expires_at > self.clock(), t.c.count >= amount)
                               .values(count=t.c.count - amount))

    async def _row(self, key: str):
        t = self.table
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(t.c.count, t.c.expires_at).where(t.c.key == key))).first()
        return row if row is not None and row.expires_at > self.clock() else None

    async def get(self, key: str) -> int:
        row = await self._row(key)
        return row.count if row is not None else 0

    async def get_expiry(self, key: str) -> float:
        row = await self._row(key)
        return row.expires_at if row is not None else self.clock()

    async def check(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    async def reset(self) -> int | None:
        async with self.engine.begin() as conn:
            return (await conn.execute(delete(self.table))).rowcount

    async def clear(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(self.table).where(self.table.c.key == key))

    async def purge_expired(self) -> int:
        """Housekeeping: drop the counters of ended windows (an upsert would restart them anyway)."""
        async with self.engine.begin() as conn:
            return (await conn.execute(delete(self.table).where(self.table.c.expires_at <= self.clock()))).rowcount


@dataclass(frozen=True)
class Rule:
    """A named limit, e.g. ``Rule("sign-in:account", "10 per 15 minutes")`` (``limits`` notation).
    ``failures_only``: a use case that succeeds gives its unit back."""

    name: str
    rate: str
    failures_only: bool = True

    @property
    def item(self) -> limits.RateLimitItem:
        return parse_rate(self.rate)


@functools.lru_cache(maxsize=64)
def parse_rate(rate: str) -> limits.RateLimitItem:
    """``limits``' notation ("10 per 15 minutes", "5/hour"); a bad one raises ``ValueError``."""
    return limits.parse(rate)


class TooManyRequests(Problem):
    """RFC 9457 429 with ``Retry-After`` (RFC 9110 §10.2.3), in whole seconds."""

    def __init__(self, *, retry_after: int, detail: str = "too many attempts; try again later") -> None:
        super().__init__(429, "too-many-requests", detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class Limiter:
    """The rules of one service over its ``DatabaseStorage``."""

    def __init__(self, storage: DatabaseStorage) -> None:
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(storage)

    @contextlib.asynccontextmanager
    async def guard(self, *checks: tuple[Rule, str], failed: Callable[[BaseException], bool] = lambda exc: True,
                    detail: str | None = None) -> AsyncIterator[None]:
        """Spend one unit of each ``(rule, identifier)``, then run the body; refuse with 429 when
        any is spent out. Failure-only rules get their unit back when the body succeeds, or
        raises an exception that ``failed`` says is not a failure."""
        refused: list[float] = []
        for rule, identifier in checks:
            if not await self.strategy.hit(rule.item, rule.name, identifier):
                refused.append((await self.strategy.get_window_stats(rule.item, rule.name, identifier)).reset_time)
        if refused:
            retry_after = max(1, math.ceil(max(refused) - self.storage.clock()))
            raise TooManyRequests(retry_after=retry_after, **({"detail": detail} if detail else {}))
        try:
            yield
        except Exception as exc:
            if not failed(exc):
                await self._give_back(checks)
            raise
        await self._give_back(checks)

    async def _give_back(self, checks: tuple[tuple[Rule, str], ...]) -> None:
        for rule, identifier in checks:
            if rule.failures_only:
                await self.storage.decr(rule.item.key_for(rule.name, identifier))


def client_address(connection: HTTPConnection) -> str:
    """The caller's address as the server sees it. Behind a gateway that is the gateway's, unless
    the server trusts its ``X-Forwarded-For`` (``ODR_FORWARDED_ALLOW_IPS``)."""
    return connection.client.host if connection.client else "unknown"


# For a rate-limited route's ``responses``: the OpenAPI document says it may answer 429.
RATE_LIMITED = {429: {
    "description": "Too many attempts: wait `Retry-After` seconds",
    "headers": {"Retry-After": {"description": "seconds until the window ends", "schema": {"type": "integer"}}},
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}}
