"""The hub: this process's websocket connections, and the fan-out that gets every room item to
them in channel order, whichever process sequenced it.

Each process publishes the items it sequenced to the ``odr.sessions.fanout`` topic (keyed by case
id, sealed with the session's data key so the bus never sees room content) and consumes that
topic in a consumer group of its own (``from_beginning=False``): every process sees every room's
items. Its own items it dispatches at once, without waiting for the bus round trip.

Per session and channel the hub delivers items strictly in sequence order. Items from two
processes can reach the bus in a different order than they were committed, so a later number
waits in a small reorder buffer; a hole that stays open (the other process died between commit
and publish) is filled from the database, where every committed number is. Each connection also
remembers the last number it got per channel and drops anything not newer, which makes resume,
the bus and local dispatch safe to overlap.

Ephemeral items said in a channel (signalling, typing, presence) keep their place behind that
channel's items waiting in the reorder buffer: a newcomer's WebRTC offer must not reach a member
before the ``member.joined`` that makes the newcomer someone they may talk to (the client ignores
signals from non-members). Items addressed to people (``location``, ``media.drop``) never wait:
they only ever narrow who may connect with whom.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select

from shared.bus import Message
from shared.crypto import DecryptionError, KeyProvider
from shared.tasks import cancel_and_wait

from . import transcripts
from .models import RoomSession, SessionMessage
from .rooms import Item

log = logging.getLogger("odr.sessions.hub")

FANOUT_TOPIC = "odr.sessions.fanout"
GAP_WAIT_SECONDS = 0.2  # how long a hole may stay open before it is filled from the database
CHECK_SECONDS = 1.0  # how often open feeds compare their heads and status with the database
FANOUT_LONGEST_WAIT = 0.1  # how late another process's room changes may arrive (seconds; see Hub.start)


class Conn(Protocol):
    participant_id: str
    location: str

    def deliver(self, item: "Wire") -> None: ...

    def end(self, code: int) -> None: ...


@dataclass(slots=True)
class Wire:
    """An item ready to send: its frame encoded once for every recipient."""

    kind: str
    channel: str | None
    seq: int | None
    audience: frozenset[str]
    text: str
    body: dict[str, Any]

    @classmethod
    def of(cls, item: Item) -> "Wire":
        return cls(item.kind, item.channel, item.seq, frozenset(item.audience),
                   json.dumps(item.frame(), separators=(",", ":"), ensure_ascii=False), item.body)


@dataclass
class Feed:
    case_id: str
    session_id: str
    conns: set = field(default_factory=set)
    next: dict[str, int] = field(default_factory=dict)
    buffer: dict[str, dict[int, Wire]] = field(default_factory=lambda: defaultdict(dict))
    waiting_since: dict[str, float] = field(default_factory=dict)
    held: dict[str, list[Wire]] = field(default_factory=lambda: defaultdict(list))  # ephemeral, behind a hole
    ready: bool = False
    pending: list[Wire] = field(default_factory=list)
    ended: bool = False
    last_heads: dict[str, int] = field(default_factory=dict)


class Hub:
    def __init__(self, runtime, keys: KeyProvider) -> None:
        self.runtime = runtime
        self.keys = keys
        self.id = uuid.uuid4().hex
        self.feeds: dict[str, Feed] = {}
        self._some_feed = asyncio.Event()  # set while a room is open here: the checker rests otherwise
        self._keys: dict[str, bytes] = {}
        self._outgoing: asyncio.Queue[Message] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._consumer = None
        self.delivered = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        # A caucus move made on another process must close this process's media paths to the
        # moved person within the no-leak bound (tests/client/test_audio_video.py: 1 s), also after
        # a quiet spell when the embedded log would otherwise look every 2 s.
        self._consumer = self.runtime.bus.consumer(group=f"sessions.fanout.{self.id}", topics=[FANOUT_TOPIC],
                                                   handler=self._on_records, from_beginning=False,
                                                   longest_wait=FANOUT_LONGEST_WAIT)
        await self._consumer.start()
        self._tasks = [asyncio.create_task(self._publisher(), name="sessions-fanout-publisher"),
                       asyncio.create_task(self._checker(), name="sessions-feed-checker")]

    async def stop(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        if self._consumer is not None:
            await self._consumer.stop()

    # -- keys --------------------------------------------------------------------------------

    def data_key(self, session_id: str, wrapped: bytes, version: int) -> bytes:
        key = self._keys.get(session_id)
        if key is None:
            key = self._keys[session_id] = transcripts.unwrap(self.keys, wrapped, version, session_id)
        return key

    def forget_key(self, session_id: str) -> None:
        self._keys.pop(session_id, None)

    async def session_key(self, session_id: str) -> bytes | None:
        """The session's data key: the one in memory, else unwrapped from its row; None when the
        session has none (destroyed, or no such session)."""
        if session_id in self._keys:
            return self._keys[session_id]
        async with self.runtime.session_factory() as db:
            row = (await db.execute(select(RoomSession.wrapped_key, RoomSession.kek_version)
                                    .where(RoomSession.id == session_id))).one_or_none()
        if row is None or row.wrapped_key is None:
            return None
        return self.data_key(session_id, row.wrapped_key, row.kek_version)

    # -- connections -------------------------------------------------------------------------

    async def register(self, conn: Conn, *, case_id: str, session_id: str) -> Feed:
        feed = self.feeds.get(session_id)
        if feed is None:
            feed = self.feeds[session_id] = Feed(case_id, session_id)
            self._some_feed.set()
            try:
                async with self.runtime.session_factory() as db:
                    state = (await db.execute(select(RoomSession.state).where(RoomSession.id == session_id))).scalar()
                feed.next = {ch: head + 1 for ch, head in ((state or {}).get("heads") or {}).items()}
            finally:
                feed.ready = True
                pending, feed.pending = feed.pending, []
                for wire in pending:
                    self._accept(feed, wire)
        feed.conns.add(conn)
        return feed

    def unregister(self, conn: Conn, session_id: str) -> None:
        feed = self.feeds.get(session_id)
        if feed is None:
            return
        feed.conns.discard(conn)
        if not feed.conns:
            self.feeds.pop(session_id, None)

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(self, case_id: str, session_id: str, wires: list[Wire], *, local: bool) -> None:
        """Items sequenced in this process (``local``, encoded once by the sequencer: ``Wire.of``)
        are also published for the others."""
        if local:
            key = self._keys.get(session_id)
            if key is not None:
                payload = json.dumps([[w.kind, w.channel, w.seq, sorted(w.audience), w.text] for w in wires],
                                     separators=(",", ":"), ensure_ascii=False).encode()
                sealed = transcripts.seal(key, payload, transcripts.fanout_aad(session_id))
                self._outgoing.put_nowait(Message(FANOUT_TOPIC, case_id,
                                                  f"{self.id}|{session_id}|".encode() + sealed))
        self._dispatch_wires(session_id, wires)

    def _dispatch_wires(self, session_id: str, wires: Iterable[Wire]) -> None:
        feed = self.feeds.get(session_id)
        if feed is None:
            return
        for wire in wires:
            if not feed.ready:
                feed.pending.append(wire)
            else:
                self._accept(feed, wire)

    def _accept(self, feed: Feed, wire: Wire) -> None:
        if wire.seq is None:
            if wire.channel is not None and feed.buffer.get(wire.channel):
                feed.held[wire.channel].append(wire)  # after the channel's items it came behind
            else:
                self._deliver(feed, wire)
            return
        ch = wire.channel
        nxt = feed.next.get(ch, 1)
        if wire.seq < nxt:
            return
        if wire.seq > nxt:
            feed.buffer[ch][wire.seq] = wire
            feed.waiting_since.setdefault(ch, time.monotonic())
            return
        self._deliver(feed, wire)
        nxt += 1
        buf = feed.buffer.get(ch)
        while buf and nxt in buf:
            self._deliver(feed, buf.pop(nxt))
            nxt += 1
        feed.next[ch] = nxt
        if not buf:
            feed.waiting_since.pop(ch, None)
            for held in feed.held.pop(ch, ()):
                self._deliver(feed, held)  # still only to whoever is in the channel now
        else:
            feed.waiting_since[ch] = time.monotonic()

    def _deliver(self, feed: Feed, wire: Wire) -> None:
        for conn in list(feed.conns):
            if conn.participant_id not in wire.audience:
                continue
            if wire.kind == "location":
                conn.location = wire.body["location"]
            elif wire.seq is None and wire.channel is not None and conn.location != wire.channel:
                continue  # an ephemeral item (typing, signal) for a channel this connection has left
            conn.deliver(wire)
            self.delivered += 1
        if wire.kind == "session.ended":
            feed.ended = True
            self.forget_key(feed.session_id)
            for conn in list(feed.conns):
                conn.end(4011)

    # -- the bus -----------------------------------------------------------------------------

    async def _publisher(self) -> None:
        while True:
            batch = [await self._outgoing.get()]
            while not self._outgoing.empty() and len(batch) < 500:
                batch.append(self._outgoing.get_nowait())
            while True:
                try:
                    await self.runtime.bus.publish(batch)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # other processes fill holes from the database meanwhile
                    log.warning("fan-out publish failed; retrying", extra={"error": type(exc).__name__})
                    await asyncio.sleep(0.5)

    async def _on_records(self, records) -> None:
        for record in records:
            try:
                origin, session_id, sealed = record.value.split(b"|", 2)
            except ValueError:
                continue
            if origin.decode() == self.id:
                continue
            session_id = session_id.decode()
            if session_id not in self.feeds:
                continue  # nobody here listens to this room
            key = await self.session_key(session_id)
            if key is None:
                continue
            try:
                payload = json.loads(transcripts.open_sealed(key, sealed, transcripts.fanout_aad(session_id)))
            except (DecryptionError, ValueError):
                log.warning("fan-out record could not be opened; skipped", extra={"offset": record.offset})
                continue
            wires = [Wire(kind, ch, seq, frozenset(aud), text, json.loads(text) if kind in ("location", "session.ended")
                          else {}) for kind, ch, seq, aud, text in payload]
            self._dispatch_wires(session_id, wires)

    # -- holes and tails ---------------------------------------------------------------------

    async def _checker(self) -> None:
        last_check = 0.0
        while True:
            if not self.feeds:  # no room open in this process: nothing to check until one opens
                self._some_feed.clear()
                await self._some_feed.wait()
            await asyncio.sleep(GAP_WAIT_SECONDS / 2)
            now = time.monotonic()
            rows: dict | None = None
            if now - last_check >= CHECK_SECONDS and self.feeds:
                last_check = now
                try:
                    async with self.runtime.session_factory() as db:  # one query for every open feed
                        found = await db.execute(select(RoomSession.id, RoomSession.state, RoomSession.status)
                                                 .where(RoomSession.id.in_(list(self.feeds))))
                        rows = {r.id: r for r in found}
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("feed check failed", extra={"error": type(exc).__name__})
            for feed in list(self.feeds.values()):
                if rows is None and not feed.waiting_since:
                    continue  # nothing to look at this round (``_check`` would do nothing)
                try:
                    await self._check(feed, now, None if rows is None else rows.get(feed.session_id, False))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("feed check failed", extra={"error": type(exc).__name__})

    async def _check(self, feed: Feed, now: float, row) -> None:
        """``row``: None when this round does not look at the database, False if the session is gone."""
        stale = [ch for ch, since in feed.waiting_since.items() if now - since >= GAP_WAIT_SECONDS]
        status = None
        if row is False:
            return
        if row is not None:
            heads, status = (row.state or {}).get("heads") or {}, row.status
            # a tail still missing one check later was committed but never published (its process died)
            stale += [ch for ch, head in feed.last_heads.items() if head >= feed.next.get(ch, 1) and ch not in stale]
            feed.last_heads = dict(heads)
        for ch in stale:
            upto = max([*feed.buffer.get(ch, {}), feed.last_heads.get(ch, 0)])
            await self._fill(feed, ch, feed.next.get(ch, 1), upto)
        if status == "ended" and not feed.ended:
            # ended elsewhere (e.g. the case was closed): tell and close this process's connections
            audience = frozenset(c.participant_id for c in feed.conns)
            self._deliver(feed, Wire("session.ended", None, None, audience,
                                     json.dumps({"type": "session.ended"}), {}))

    async def _fill(self, feed: Feed, channel: str, first: int, last: int) -> None:
        if last < first:
            return
        key = await self.session_key(feed.session_id)
        if key is None:
            return
        for wire in await self.history(feed.session_id, channel, first - 1, key=key, upto=last):
            self._accept(feed, wire)

    async def history(self, session_id: str, channel: str, after: int, *, key: bytes,
                      participant: str | None = None, upto: int | None = None, limit: int = 5000) -> list[Wire]:
        """Stored items of a channel after ``after`` (for ``participant``: only those said while
        they were in it), decrypted, in order."""
        m = SessionMessage
        q = select(m.seq, m.kind, m.audience, m.body).where(m.session_id == session_id, m.channel == channel,
                                                              m.seq > after)
        if upto is not None:
            q = q.where(m.seq <= upto)
        async with self.runtime.session_factory() as db:
            rows = (await db.execute(q.order_by(m.seq).limit(limit))).all()
        out = []
        for r in rows:
            audience = frozenset(json.loads(r.audience))
            if participant is not None and participant not in audience:
                continue
            text = transcripts.open_sealed(key, r.body, transcripts.message_aad(session_id, channel, r.seq)).decode()
            out.append(Wire(r.kind, channel, r.seq, audience, text, {}))
        return out
