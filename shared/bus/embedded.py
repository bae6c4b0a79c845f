"""The embedded durable event log: Kafka's semantics in one SQLite file, for the one-command run.

Several processes on one machine may share the file (WAL mode, busy timeout). Records get a
global, monotonically increasing sequence number; a record's partition is the hash of its key, so
one key's records stay in order. Consumer groups keep committed sequence numbers per
(topic, partition); live members of a group register with a heartbeat and split the partitions
between them, so a member that dies (even ``kill -9``) hands its partitions over after its
session timeout and the records it had not committed are delivered again (at-least-once).

A partition has one owner at a time (``group_owners``), as a Kafka rebalance revokes before it
assigns: a member that should give a partition up releases it at its next heartbeat, which comes
between batches, when all it delivered is committed; only then may the member it should go to
claim it, starting from that commit. Without this, a member joining a busy group read a
partition from an offset its old owner had not yet committed past, and both delivered the same
records (the two-member contract test failed so about one run in fifteen on a loaded machine).
A join therefore takes up to two heartbeats to hand partitions over; a dead member's go at once
when its session expires.

Each bus or consumer talks to SQLite on its own single worker thread, so the event loop never
blocks on the file.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..files import private_file
from .base import DEFAULT_PARTITIONS, BatchHandler, Consumer, EventBus, Message, Record, partition_for

log = logging.getLogger("odr.bus.embedded")

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_partition ON records(topic, partition, seq);
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)
);
CREATE TABLE IF NOT EXISTS group_members (
    grp TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (grp, member)
);
CREATE TABLE IF NOT EXISTS group_owners (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, member TEXT NOT NULL,
    PRIMARY KEY (grp, topic, partition)
);
"""

# Publishers wake consumers of the same file in the same process at once; consumers in other
# processes notice new records on their next look (see ``EmbeddedBus``: soon after records were
# seen, then less and less often, so an idle platform rests).
# Only the consumers of the topics published are woken: a service's other consumers stay asleep.
_waiters: dict[Path, set[tuple[asyncio.AbstractEventLoop, Callable[[], None], frozenset[str]]]] = {}


def _wake(path: Path, topics: set[str]) -> None:
    for loop, wake, theirs in list(_waiters.get(path, ())):
        if theirs.isdisjoint(topics) or loop.is_closed():
            continue
        try:
            loop.call_soon_threadsafe(wake)
        except RuntimeError:  # loop closed between the check and the call
            pass


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    private_file(path)  # the log holds every event: 0600, and its -wal/-shm files follow
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class _SqliteThread:
    """One SQLite connection on one thread."""

    def __init__(self, path: Path, synchronous: str, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._path = path
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None

    def _conn_or_open(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = _connect(self._path, self._synchronous)
        return self._conn

    async def run(self, fn, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._conn_or_open(), *args))

    async def close(self) -> None:
        def _close(conn: sqlite3.Connection) -> None:
            conn.close()
            self._conn = None

        if self._conn is not None:
            await self.run(_close)
        self._executor.shutdown(wait=False)


class EmbeddedBus(EventBus):
    """The log in ``path``. A publish wakes this process's consumers of the file at once; records
    another process appended are found by looking: ``busy_poll_seconds`` after records were last
    delivered, the interval doubling each empty look up to ``poll_seconds``. So a conversation
    spread over two processes keeps moving quickly, and a platform with nothing to do looks twice
    a second or less instead of fifty times. Group heartbeats (``heartbeat``) are due times too."""

    name = "embedded"

    def __init__(
        self,
        path: Path,
        *,
        partitions: int = DEFAULT_PARTITIONS,
        poll_seconds: float = 2.0,
        busy_poll_seconds: float = 0.02,
        session_timeout: float = 10.0,
        heartbeat: float = 3.0,
        synchronous: str = "FULL",
        retention_seconds: float = 7 * 24 * 3600,
    ) -> None:
        self.path = Path(path).resolve()
        self.partitions = partitions
        self.poll_seconds = poll_seconds
        self.busy_poll_seconds = min(busy_poll_seconds, poll_seconds)
        self.session_timeout = session_timeout
        self.heartbeat = heartbeat
        self.synchronous = synchronous
        self.retention_seconds = retention_seconds
        self._writer = _SqliteThread(self.path, synchronous, "odr-bus-writer")
        self._publishes = 0

    async def start(self) -> None:
        def _init(conn: sqlite3.Connection) -> None:
            conn.executescript(SCHEMA)
            conn.execute("DELETE FROM records WHERE ts < ?", (time.time() - self.retention_seconds,))

        await self._writer.run(_init)

    async def stop(self) -> None:
        await self._writer.close()

    async def publish(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        now = time.time()
        rows = [(m.topic, partition_for(m.key, self.partitions), m.key, m.value, now) for m in messages]
        self._publishes += 1
        purge = self._publishes % 1000 == 0  # retention, now and then, so the log does not grow forever

        def _append(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT INTO records(topic, partition, key, value, ts) VALUES (?,?,?,?,?)", rows)
                if purge:
                    conn.execute("DELETE FROM records WHERE ts < ?", (now - self.retention_seconds,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        await self._writer.run(_append)
        _wake(self.path, {m.topic for m in messages})

    async def check(self) -> None:
        await self._writer.run(lambda conn: conn.execute("SELECT 1").fetchone())

    def consumer(self, *, group: str, topics: Sequence[str], handler: BatchHandler, from_beginning: bool = True,
                 longest_wait: float | None = None) -> Consumer:
        return EmbeddedConsumer(self, group=group, topics=topics, handler=handler, from_beginning=from_beginning,
                                longest_wait=longest_wait)


class EmbeddedConsumer(Consumer):
    def __init__(self, bus: EmbeddedBus, *, group: str, topics: Sequence[str], handler: BatchHandler,
                 from_beginning: bool = True, batch_size: int = 500, retry_backoff: float = 0.5,
                 longest_wait: float | None = None) -> None:
        super().__init__(group=group, topics=topics, handler=handler, retry_backoff=retry_backoff)
        self.bus = bus
        # the longest wait between looks for other processes' records (the bus's, or less)
        self._longest = min(bus.poll_seconds, longest_wait) if longest_wait else bus.poll_seconds
        self.member_id = uuid.uuid4().hex
        self.from_beginning = from_beginning
        self.batch_size = batch_size
        # Offsets and heartbeats without an fsync of their own: one lost to a power cut only means
        # its records are delivered again (at-least-once; inboxes absorb it), and the next publish's
        # fsync makes them durable anyway (the WAL is one file, synced up to its end).
        self._db = _SqliteThread(bus.path, "NORMAL" if bus.synchronous.upper() == "FULL" else bus.synchronous,
                                 f"odr-bus-{group}")
        self._waiter: tuple[asyncio.AbstractEventLoop, Callable[[], None], frozenset[str]] | None = None
        self._positions: dict[tuple[str, int], int] = {}
        self._assigned: list[tuple[str, int]] = []
        self._next_heartbeat = 0.0
        self._idle_look = min(bus.busy_poll_seconds, self._longest)  # the next wait when a look finds nothing

    @property
    def assignment(self) -> list[tuple[str, int]]:
        return list(self._assigned)

    async def start(self) -> None:
        await self._db.run(lambda conn: conn.executescript(SCHEMA))
        self._waiter = (asyncio.get_running_loop(), self.wake, frozenset(self.topics))
        _waiters.setdefault(self.bus.path, set()).add(self._waiter)
        await self._heartbeat()
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._waiter is not None:
            _waiters.get(self.bus.path, set()).discard(self._waiter)

        def _leave(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM group_owners WHERE grp=? AND member=?", (self.group, self.member_id))
                conn.execute("DELETE FROM group_members WHERE grp=? AND member=?", (self.group, self.member_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        try:
            await self._db.run(_leave)
        finally:
            await self._db.close()

    # -- group membership -------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        now = time.time()
        group, member, timeout, partitions = self.group, self.member_id, self.bus.session_timeout, self.bus.partitions
        topics, from_beginning = self.topics, self.from_beginning

        def _beat(conn: sqlite3.Connection):
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO group_members(grp, member, expires) VALUES (?,?,?) "
                    "ON CONFLICT(grp, member) DO UPDATE SET expires=excluded.expires",
                    (group, member, now + timeout),
                )
                conn.execute("DELETE FROM group_members WHERE grp=? AND expires < ?", (group, now))
                # A member that left or whose session expired owns nothing any more.
                conn.execute("DELETE FROM group_owners WHERE grp=? AND member NOT IN "
                             "(SELECT member FROM group_members WHERE grp=?)", (group, group))
                members = [r[0] for r in conn.execute("SELECT member FROM group_members WHERE grp=? ORDER BY member", (group,))]
                index, count = members.index(member), len(members)
                wanted = [(t, p) for t in topics for p in range(partitions) if p % count == index]
                owners = {(t, p): m for t, p, m in conn.execute(
                    "SELECT topic, partition, member FROM group_owners WHERE grp=?", (group,))}
                # Give up what another member should have (all we delivered from it is committed:
                # heartbeats come between batches), and take what we should have once it is free.
                conn.executemany("DELETE FROM group_owners WHERE grp=? AND topic=? AND partition=? AND member=?",
                                 [(group, t, p, member) for (t, p), m in owners.items() if m == member and (t, p) not in wanted])
                free = [tp for tp in wanted if tp not in owners]
                conn.executemany("INSERT INTO group_owners(grp, topic, partition, member) VALUES (?,?,?,?)",
                                 [(group, t, p, member) for t, p in free])
                assigned = [tp for tp in wanted if tp in free or owners.get(tp) == member]
                committed = {}
                for t, p in assigned:
                    row = conn.execute("SELECT seq FROM group_offsets WHERE grp=? AND topic=? AND partition=?", (group, t, p)).fetchone()
                    if row is not None:
                        committed[(t, p)] = row[0]
                    elif not from_beginning:
                        top = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0]
                        conn.execute("INSERT INTO group_offsets(grp, topic, partition, seq) VALUES (?,?,?,?)", (group, t, p, top))
                        committed[(t, p)] = top
                    else:
                        committed[(t, p)] = 0
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return assigned, committed

        assigned, committed = await self._db.run(_beat)
        if assigned != self._assigned:
            # Partitions we keep continue from our in-memory position; new ones from the commit.
            self._positions = {tp: self._positions.get(tp, committed[tp]) if tp in self._assigned else committed[tp] for tp in assigned}
            self._assigned = assigned
            log.info("group assignment", extra={"group": self.group, "partitions": len(assigned)})
        self._next_heartbeat = time.monotonic() + self.bus.heartbeat

    # -- delivery ---------------------------------------------------------------------------

    async def _fetch(self) -> tuple[list[Record], float]:
        if time.monotonic() >= self._next_heartbeat:
            await self._heartbeat()
        positions, limit = dict(self._positions), self.batch_size

        def _read(conn: sqlite3.Connection) -> list[Record]:
            out: list[Record] = []
            for (topic, partition), after in positions.items():
                rows = conn.execute(
                    "SELECT seq, key, value FROM records WHERE topic=? AND partition=? AND seq>? ORDER BY seq LIMIT ?",
                    (topic, partition, after, limit),
                ).fetchall()
                out.extend(Record(topic, partition, seq, key, value) for seq, key, value in rows)
            out.sort(key=lambda r: r.offset)
            return out[:limit]

        batch = await self._db.run(_read)
        if batch:
            self._idle_look = min(self.bus.busy_poll_seconds, self._longest)
            return batch, 0.0
        # Idle: a publish in this process wakes us; look again for other processes' records after
        # the current back-off (doubled for next time), or at the heartbeat if that comes first.
        wait, self._idle_look = self._idle_look, min(self._idle_look * 2, self._longest)
        return batch, min(wait, max(0.0, self._next_heartbeat - time.monotonic()))

    async def _commit(self, records: Sequence[Record]) -> None:
        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), 0), r.offset)
        group = self.group

        def _write(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO group_offsets(grp, topic, partition, seq) VALUES (?,?,?,?) "
                    "ON CONFLICT(grp, topic, partition) DO UPDATE SET seq=MAX(seq, excluded.seq)",
                    [(group, t, p, s) for (t, p), s in last.items()],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        await self._db.run(_write)
        self._positions.update({tp: max(self._positions.get(tp, 0), s) for tp, s in last.items() if tp in self._positions})

    async def _rewind(self, batch: Sequence[Record]) -> None:
        """After a failed batch: forget in-memory positions, continue from the committed ones."""
        group = self.group

        def _read(conn: sqlite3.Connection) -> dict[tuple[str, int], int]:
            return {(t, p): s for t, p, s in conn.execute("SELECT topic, partition, seq FROM group_offsets WHERE grp=?", (group,))}

        committed = await self._db.run(_read)
        self._positions = {tp: committed.get(tp, 0) for tp in self._assigned}
