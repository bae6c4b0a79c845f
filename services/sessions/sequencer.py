"""The sequencer: applies participants' frames to the room in the database, one batch per
transaction (group commit), and hands the resulting items to the hub.

Why the database: with several sessions processes behind a plain load balancer, the members of
one room may sit on different processes, and they must all see one order. The room's
``room_sessions`` row is the single sequencer of that room: each batch begins with
``UPDATE room_sessions SET version = version + 1 WHERE id = :id RETURNING version`` (row write
lock on PostgreSQL, the database write lock on SQLite), applies the frames to the room's state
(kept in memory by the process that committed it last; read from the row, under the lock, when
the version shows another writer), stores the sequenced items and the new state, and commits.
Channel sequence numbers are therefore
assigned by exactly one transaction at a time, and a number that is committed implies every
smaller one is committed too. Sessions are locked in id order so two batches never deadlock.

Blind offers (``offers.*`` frames, ``offers.py``) are applied in the same batches: the locked session
row orders them with everything else the room does, and their sealed record is written in the
same transaction.

Group commit: frames arriving while a batch is in flight wait for the next one, so one commit
carries many frames (this is what makes thousands of messages per second possible on SQLite).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, select, text, update

from shared.contracts.sessions import (CaucusClosed, CaucusOpened, ProposalAccepted, SessionEnded,
                                       SessionStarted)
from shared.crypto import KeyProvider, Vault
from shared.tasks import cancel_and_wait

from . import offers, transcripts
from .hub import Wire
from .models import Proposal, Room, RoomSession, SessionMessage
from .rooms import Item, Member, RoomError, RoomState

log = logging.getLogger("odr.sessions.sequencer")
sessions_t = RoomSession.__table__

CONTENT_TYPES = frozenset({"chat", "proposal", "document", "proposal.accept", "proposal.present"})


@dataclass
class Outcome:
    reply: dict[str, Any] | None = None
    error: tuple[str, str] | None = None


@dataclass
class _Submission:
    case_id: str
    session_id: str
    actor: str
    op: dict[str, Any]
    future: asyncio.Future = field(repr=False)


@dataclass
class RoomInfo:
    """What the agreement to mediate fixed for a room: its members and safeguards."""

    members: dict[str, Member]
    safeguards: frozenset[str]


def room_info(room: Room) -> RoomInfo:
    members = {p["participant_id"]: Member(id=p["participant_id"], role=p["role"], side=p.get("side"))
               for p in room.participants or []}
    if room.mediator_id and room.mediator_id not in members:
        members[room.mediator_id] = Member(id=room.mediator_id, role="mediator")
    return RoomInfo(members=members, safeguards=frozenset(room.safeguards or ()))


SEEN_CHUNK = 500  # wanted ids per lookup query (3 parameters each)


@functools.lru_cache(maxsize=64)
def _seen_sql(n: int) -> str:
    rows = ", ".join(f"(:s{i}, :a{i}, :c{i})" for i in range(n))
    return (f"WITH wanted(sid, snd, cid) AS (VALUES {rows}) "
            "SELECT m.session_id, m.sender_id, m.client_id, m.channel, m.seq FROM wanted "
            "JOIN session_messages AS m ON m.session_id = wanted.sid AND m.sender_id = wanted.snd "
            "AND m.client_id = wanted.cid")


def _holds(cached: tuple[int, RoomState] | None, locked_version: int | None) -> bool:
    """Whether the state this process committed is the one just before the locked version."""
    return cached is not None and locked_version is not None and cached[0] == locked_version - 1


class Sequencer:
    def __init__(self, runtime, hub, keys: KeyProvider, *, max_batch: int = 500) -> None:
        self.runtime = runtime
        self.hub = hub
        self.keys = keys
        self.proposals = transcripts.proposals_vault(keys)
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Submission] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._rooms: dict[str, RoomInfo] = {}
        # session id -> (version, state) as this process committed it. A batch whose lock returns
        # version + 1 continues from it instead of reading and parsing the stored state; any
        # other writer (another process's sequencer, closing the case) bumps the version too,
        # so a mismatch reloads from the database.
        self._states: dict[str, tuple[int, RoomState]] = {}
        self.batches = 0
        self.frames = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sessions-sequencer")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        while not self._queue.empty():
            sub = self._queue.get_nowait()
            if not sub.future.done():
                sub.future.set_result(Outcome(error=("unavailable", "the service is stopping")))

    def submit(self, *, case_id: str, session_id: str, actor: str, op: dict[str, Any]) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Submission(case_id, session_id, actor, op, fut))
        return fut

    async def room(self, db, case_id: str) -> RoomInfo | None:
        info = self._rooms.get(case_id)
        if info is None:
            room = await db.get(Room, case_id)
            if room is None or room.participants is None:
                return None
            info = self._rooms[case_id] = room_info(room)
        return info

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._process(batch)
            except asyncio.CancelledError:
                for sub in batch:
                    if not sub.future.done():
                        sub.future.set_result(Outcome(error=("unavailable", "the service is stopping")))
                raise
            except Exception as exc:
                log.error("sequencer batch failed", extra={"error": type(exc).__name__, "frames": len(batch)})
                for sub in batch:
                    if not sub.future.done():
                        sub.future.set_result(Outcome(error=("unavailable", "could not store; resend with the same id")))

    async def _process(self, batch: list[_Submission]) -> None:
        by_session: dict[str, list[_Submission]] = defaultdict(list)
        for sub in batch:
            by_session[sub.session_id].append(sub)
        outcomes: list[tuple[_Submission, Outcome]] = []
        published: list[tuple[str, str, list[Wire]]] = []
        committed: list[tuple[str, int, RoomState]] = []
        shredded: list[str] = []
        now = datetime.now(timezone.utc)
        ts = now.isoformat().replace("+00:00", "Z")
        async with self.runtime.uow() as uow:
            db = uow.session
            locked = await self._lock(db, sorted(by_session))
            stored = await self._stored_states(db, locked)
            seen_all = await self._seen_client_ids(db, batch)
            all_rows: list[dict] = []
            state_updates: list[dict] = []
            for sid in sorted(by_session):
                subs = by_session[sid]
                row = locked.get(sid)
                info = await self.room(db, row.case_id) if row is not None else None
                if row is None or info is None or row.status == "ended" or row.wrapped_key is None:
                    self._states.pop(sid, None)
                    outcomes += [(s, Outcome(error=("session-not-live", "the session has ended"))) for s in subs]
                    continue
                case_id = row.case_id
                data_key = self.hub.data_key(sid, row.wrapped_key, row.kek_version)
                cached = self._states.pop(sid, None)  # back only once this batch is committed
                if _holds(cached, row.version):
                    state = cached[1]
                else:
                    state = RoomState.from_json(stored.get(sid), members=info.members, safeguards=info.safeguards)
                before = state.status
                seen = seen_all.get(sid, {})
                items: list[Wire] = []
                rows: list[dict] = []
                for sub in subs:
                    cid = sub.op.get("id") if sub.op["type"] in CONTENT_TYPES else None
                    if cid is not None and (sub.actor, cid) in seen:
                        ch, seq = seen[(sub.actor, cid)]
                        outcomes.append((sub, Outcome(reply={"type": "ack", "id": cid, "channel": ch, "seq": seq,
                                                             "duplicate": True})))
                        continue
                    try:
                        if sub.op["type"] in offers.OP_TYPES:
                            result = await offers.apply(db, vault=self.proposals, state=state, case_id=case_id,
                                                        session_id=sid, actor=sub.actor, op=sub.op, now=now)
                        else:
                            result = state.apply(sub.actor, sub.op)
                    except RoomError as err:
                        outcomes.append((sub, Outcome(error=(err.code, err.detail))))
                        continue
                    if result.proposal is not None:
                        await self._store_proposal(db, case_id, sid, result.proposal, now)
                    for item in result.items:
                        if item.kind == "proposal" and item.body.get("presented"):
                            item.body.update(await self._proposal_content(db, case_id, item.body["proposal_id"]))
                        if item.seq is not None:
                            item.body["ts"] = ts
                        wire = Wire.of(item)  # the frame is encoded once: stored, fanned out, sent
                        if item.seq is not None:
                            rows.append(self._message_row(data_key, sid, item, wire.text, now))
                        items.append(wire)
                    for evt in result.events:
                        await self._publish_event(uow, db, case_id, sid, evt, now)
                    reply = result.reply
                    first = next((i for i in result.items if i.seq is not None and i.sender == sub.actor), None)
                    if cid is not None and first is not None:
                        seen[(sub.actor, cid)] = (first.channel, first.seq)
                        reply = {"type": "ack", "id": cid, "channel": first.channel, "seq": first.seq,
                                 "duplicate": False}
                    outcomes.append((sub, Outcome(reply=reply)))
                all_rows += rows
                values: dict[str, Any] = {"state": state.to_json(), "status": state.status}
                if state.status != before and state.status == "live":
                    values["started_at"] = now
                if state.status != before and state.status == "ended":
                    kept = state.transcript_kept()
                    values.update(ended_at=now, transcript_kept=kept)
                    if not kept:
                        values["wrapped_key"] = None  # crypto-shredding
                        shredded.append(sid)
                    await db.execute(update(Room.__table__).where(Room.case_id == case_id, Room.current_session_id == sid)
                                     .values(current_session_id=None))
                if len(values) == 2:
                    state_updates.append({"sid": sid, "st": values["state"], "stat": values["status"]})
                else:
                    await db.execute(update(sessions_t).where(sessions_t.c.id == sid).values(**values))
                if items:
                    published.append((case_id, sid, items))
                if state.status != "ended" and row.version is not None:
                    committed.append((sid, row.version, state))
            if all_rows:
                await db.execute(SessionMessage.__table__.insert(), all_rows)
            if state_updates:
                await db.execute(update(sessions_t).where(sessions_t.c.id == bindparam("sid"))
                                 .values(state=bindparam("st"), status=bindparam("stat")), state_updates)
            await uow.commit()
        if len(self._states) > 50_000:
            self._states.clear()
        for sid, version, state in committed:
            self._states[sid] = (version, state)
        self.batches += 1
        self.frames += len(batch)
        for case_id, sid, wires in published:
            self.hub.dispatch(case_id, sid, wires, local=True)
        for sid in shredded:
            self.hub.forget_key(sid)
        for sub, outcome in outcomes:
            if not sub.future.done():
                sub.future.set_result(outcome)

    async def _lock(self, db, sids: list[str]) -> dict:
        """Take every session row of the batch, in id order, and bump its version: the single
        sequencer of each room. On PostgreSQL the rows are locked first in a fixed order (no
        deadlocks between replicas); on SQLite the UPDATE itself takes the write lock up front."""
        t = sessions_t
        if db.bind.dialect.name == "postgresql":
            await db.execute(select(t.c.id).where(t.c.id.in_(sids)).order_by(t.c.id).with_for_update())
        rows = await db.execute(update(t).where(t.c.id.in_(sids)).values(version=t.c.version + 1)
                                .returning(t.c.id, t.c.case_id, t.c.status, t.c.version, t.c.wrapped_key,
                                           t.c.kek_version))
        return {r.id: r for r in rows}

    async def _stored_states(self, db, locked: dict) -> dict[str, Any]:
        """The stored state of the locked sessions this process does not hold at the version
        just before this batch's (read under the lock taken by ``_lock``)."""
        t = sessions_t
        missing = [sid for sid, row in locked.items() if not _holds(self._states.get(sid), row.version)]
        if not missing:
            return {}
        rows = await db.execute(select(t.c.id, t.c.state).where(t.c.id.in_(missing)))
        return {r.id: r.state for r in rows}

    async def _seen_client_ids(self, db, batch: list[_Submission]) -> dict[str, dict[tuple[str, str], tuple[str, int]]]:
        """Client ids of this batch already stored: one query for the whole batch, one lookup of
        the (session, sender, client id) unique index per wanted id. (``session_id IN .. AND
        client_id IN ..`` matched every message of those sessions with any of those ids, a scan
        that grew with the transcript and dominated the batch.)"""
        wanted = {(s.session_id, s.actor, s.op["id"]) for s in batch
                  if s.op["type"] in CONTENT_TYPES and s.op.get("id")}
        if not wanted:
            return {}
        out: dict[str, dict] = defaultdict(dict)
        wanted_l = sorted(wanted)
        for i in range(0, len(wanted_l), SEEN_CHUNK):
            chunk = wanted_l[i:i + SEEN_CHUNK]
            params: dict[str, str] = {}
            for n, (sid, actor, cid) in enumerate(chunk):
                params[f"s{n}"], params[f"a{n}"], params[f"c{n}"] = sid, actor, cid
            found = await db.execute(text(_seen_sql(len(chunk))), params)
            for r in found:
                out[r.session_id][(r.sender_id, r.client_id)] = (r.channel, r.seq)
        return out

    @staticmethod
    def _message_row(data_key: bytes, sid: str, item: Item, frame_text: str, now: datetime) -> dict:
        frame = frame_text.encode()
        return {"session_id": sid, "channel": item.channel, "seq": item.seq, "kind": item.kind,
                "sender_id": item.sender, "client_id": item.client_id, "audience": json.dumps(list(item.audience)),
                "body": transcripts.seal(data_key, frame, transcripts.message_aad(sid, item.channel, item.seq)),
                "created_at": now}

    async def _store_proposal(self, db, case_id: str, sid: str, proposal: dict, now: datetime) -> None:
        content = json.dumps({"summary": proposal["summary"], "terms": proposal["terms"]}).encode()
        sealed = self.proposals.seal(content, aad=transcripts.proposal_aad(case_id, proposal["proposal_id"]))
        db.add(Proposal(id=proposal["proposal_id"], case_id=case_id, session_id=sid, author_id=proposal["author"],
                        status="open", sealed=sealed, created_at=now))
        await db.flush()

    async def _proposal_content(self, db, case_id: str, proposal_id: str) -> dict:
        prop = await db.get(Proposal, proposal_id)
        if prop is None:
            return {}
        return open_proposal(self.proposals, prop)

    async def _publish_event(self, uow, db, case_id: str, sid: str, evt, now: datetime) -> None:
        if evt.name == "session_started":
            uow.publish(SessionStarted(case_id=case_id, session_id=sid))
        elif evt.name == "session_ended":
            uow.publish(SessionEnded(case_id=case_id, session_id=sid, transcript_kept=evt.data["transcript_kept"]))
        elif evt.name == "caucus_opened":
            uow.publish(CaucusOpened(case_id=case_id, session_id=sid, side=evt.data["side"]))
        elif evt.name == "caucus_closed":
            uow.publish(CaucusClosed(case_id=case_id, session_id=sid, side=evt.data["side"]))
        elif evt.name == "proposal_accepted":
            await db.execute(update(Proposal).where(Proposal.id == evt.data["proposal_id"])
                             .values(status="accepted", accepted_at=now))
            uow.publish(ProposalAccepted(case_id=case_id, session_id=sid, proposal_id=evt.data["proposal_id"]))


def open_proposal(vault: Vault, prop: Proposal) -> dict:
    return json.loads(vault.open(prop, aad=transcripts.proposal_aad(prop.case_id, prop.id)))
