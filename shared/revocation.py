"""Revoked tokens: what each service refuses although the token's signature and expiry are fine.

Tokens are self-contained, so without this a signed-out, disabled or recused holder keeps access
until the token expires. Intake publishes ``odr.access.revoked.v1`` (``shared.contracts.intake``)
whenever access ends early; every service consumes it like any other event (its own consumer
group, inbox and ``revocations`` table, so a restarted service still knows) into ``Revocations``,
which ``TokenService.verify`` asks on every request and websocket. A revocation is:

- one token by id (``jti``): a sign-out;
- every token of a subject issued before a time: sign out everywhere, a disabled account, a changed
  password or court client secret;
- the same for one case only: a recusal (the mediator's token stays good for their other cases,
  without the case they left).

Several replicas of a service share one consumer group, so only one of them consumes each event;
the others read the table every ``revocation_poll_seconds``. Listeners (sessions) are told of each
new revocation at once, to close the websockets it covers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .auth import Principal
from .clock import utcnow
from .contracts.intake import EVERY_CASE, AccessRevoked
from .db import UTCDateTime
from .events import CloudEvent
from .workers import Worker

log = logging.getLogger("odr.revocation")

# How far back each poll looks: a row committed late (a slow transaction of another replica)
# is still seen; what was already applied changes nothing.
POLL_OVERLAP = timedelta(seconds=60)


def revocations_table(metadata: MetaData) -> Table:
    return Table(
        "revocations",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("subject", String(100), nullable=False),
        Column("case_id", String(64), nullable=False),
        Column("token_id", String(64), nullable=True),
        Column("issued_before", UTCDateTime, nullable=True),
        Column("expires_at", UTCDateTime, nullable=False, index=True),
        Column("reason", String(40), nullable=False),
        Column("recorded_at", UTCDateTime, nullable=False, index=True),
    )


@dataclass(frozen=True)
class Revocation:
    subject: str
    expires_at: float  # epoch seconds: every token it covers has expired by then
    case_id: str = EVERY_CASE
    token_id: str | None = None
    issued_before: float | None = None  # epoch seconds

    @classmethod
    def of(cls, evt: AccessRevoked) -> "Revocation":
        return cls(subject=evt.subject, case_id=evt.case_id, token_id=evt.token_id,
                   issued_before=evt.issued_before.timestamp() if evt.issued_before else None,
                   expires_at=evt.expires_at.timestamp())


class Revocations:
    """What this process refuses, in memory: revoked token ids, and per subject (and per subject
    and case) the time before which its tokens were issued. Checks are dictionary look-ups."""

    def __init__(self) -> None:
        self._tokens: dict[str, float] = {}  # jti -> forget after
        self._subjects: dict[str, tuple[float, float]] = {}  # subject -> (issued before, forget after)
        self._cases: dict[tuple[str, str], tuple[float, float]] = {}  # (subject, case) -> the same
        self._listeners: list[Callable[[Revocation], None]] = []

    def listen(self, listener: Callable[[Revocation], None]) -> None:
        """``listener`` is called (synchronously) with each revocation that changed something."""
        self._listeners.append(listener)

    def add(self, r: Revocation) -> bool:
        """Apply a revocation; True if it revoked anything new (applying one twice is harmless)."""
        changed = False
        if r.token_id is not None and r.token_id not in self._tokens:
            self._tokens[r.token_id] = r.expires_at
            changed = True
        if r.issued_before is not None:
            table, key = (self._subjects, r.subject) if r.case_id == EVERY_CASE else (self._cases, (r.subject, r.case_id))
            before, forget = table.get(key, (float("-inf"), 0.0))
            if r.issued_before > before:
                table[key] = (r.issued_before, max(forget, r.expires_at))
                changed = True
        if changed:
            for listener in list(self._listeners):
                try:
                    listener(r)
                except Exception:
                    log.exception("revocation listener failed")
        return changed

    def screen(self, principal: Principal) -> Principal | None:
        """The principal as far as it is still valid: None if its token is revoked; without the
        cases it was recused from."""
        issued = principal.issued_at if principal.issued_at is not None else float("-inf")
        if principal.token_id is not None and principal.token_id in self._tokens:
            return None
        cutoff = self._subjects.get(principal.subject)
        if cutoff is not None and issued <= cutoff[0]:
            return None
        if self._cases and principal.cases:
            gone = {c for c in principal.cases
                    if (cut := self._cases.get((principal.subject, c))) is not None and issued <= cut[0]}
            if gone:
                return replace(principal, cases=principal.cases - gone)
        return principal

    def allows(self, principal: Principal, case_id: str) -> bool:
        """Whether ``principal`` may still act in ``case_id`` (an open websocket asks this)."""
        screened = self.screen(principal)
        return screened is not None and (case_id in screened.cases or principal.role not in ("party", "mediator"))

    def prune(self, now: float | None = None) -> None:
        """Forget what no longer matters: every token it covered has expired."""
        now = now if now is not None else time.time()
        self._tokens = {k: v for k, v in self._tokens.items() if v > now}
        self._subjects = {k: v for k, v in self._subjects.items() if v[1] > now}
        self._cases = {k: v for k, v in self._cases.items() if v[1] > now}


def _revocation_of_row(row) -> Revocation:
    return Revocation(subject=row.subject, case_id=row.case_id, token_id=row.token_id,
                      issued_before=row.issued_before.timestamp() if row.issued_before else None,
                      expires_at=row.expires_at.timestamp())


class RevocationStore:
    """A service's revocations: the ``revocations`` table, filled by the service's consumer of
    ``odr.access.revoked.v1``, and its in-memory ``Revocations``."""

    def __init__(self, *, table: Table, session_factory: async_sessionmaker, poll_seconds: float = 1.0) -> None:
        self.table = table
        self.session_factory = session_factory
        self.memory = Revocations()
        self._worker = Worker("revocations-poll", self._poll, backoff=max(poll_seconds, 1.0))
        self._poll_seconds = poll_seconds
        self._since: datetime | None = None

    @property
    def handlers(self) -> dict:
        return {AccessRevoked.type: self.handle}

    async def handle(self, session: AsyncSession, event: AccessRevoked, envelope: CloudEvent) -> None:
        """The consumer's handler: recorded with the inbox row, and applied here at once."""
        await session.execute(self.table.insert().values(
            event_id=envelope.id, subject=event.subject, case_id=event.case_id, token_id=event.token_id,
            issued_before=event.issued_before, expires_at=event.expires_at, reason=event.reason,
            recorded_at=utcnow()))
        self.memory.add(Revocation.of(event))

    async def start(self) -> None:
        """Load what is still in force, then keep reading what other replicas consumed."""
        await self._load(None)
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _load(self, since: datetime | None) -> None:
        now = utcnow()
        q = select(self.table).where(self.table.c.expires_at > now)
        if since is not None:
            q = q.where(self.table.c.recorded_at >= since - POLL_OVERLAP)
        async with self.session_factory() as db:
            rows = (await db.execute(q)).all()
        for row in rows:
            self.memory.add(_revocation_of_row(row))
        self._since = now

    async def _poll(self) -> float:
        await self._load(self._since)
        self.memory.prune()
        return self._poll_seconds


def epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)

