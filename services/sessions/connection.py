"""One participant's websocket: authentication, resume, the bounded send queue, the rate limit,
and turning frames into sequencer submissions. Nothing a client sends can take the process down:
every bad frame is an error frame or a documented close code for that connection only.

Content never reaches the logs: only ids, types and codes are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from functools import partial

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from shared.auth import Principal, Unauthorized
from shared.revocation import Revocation, Revocations

from . import protocol, service
from .context import SessionsContext
from .hub import Hub, Wire
from .protocol import Close
from .rooms import CHANNELS
from .sequencer import Outcome, Sequencer

log = logging.getLogger("odr.sessions.ws")

HOLD_LIMIT = 10_000
REPLAY_PAGE = 200  # frames one `resume` on an open connection replays (below SEND_QUEUE_FRAMES)


class TokenBucket:
    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def parse_resume(raw: str | None) -> dict[str, int] | None:
    """``joint:12,caucus:claimant:3`` -> {"joint": 12, "caucus:claimant": 3}; None if malformed."""
    if not raw:
        return {}
    out: dict[str, int] = {}
    for part in raw.split(","):
        channel, _, seq = part.rpartition(":")
        if channel not in CHANNELS or not seq.isdigit():
            return None
        out[channel] = int(seq)
    return out


class Connection:
    """Slotted: one per open websocket, thousands per process (memory per connection)."""

    __slots__ = ("ws", "principal", "participant_id", "case_id", "session_id", "location", "sent", "hold", "_out",
                 "_wake", "close_code")

    def __init__(self, ws: WebSocket, *, participant_id: str, case_id: str, session_id: str,
                 principal: Principal | None = None) -> None:
        self.ws = ws
        self.principal = principal  # what the token said at join; a revocation re-checks it
        self.participant_id = participant_id
        self.case_id = case_id
        self.session_id = session_id
        self.location = "waiting"
        self.sent: dict[str, int] = {}
        self.hold: list[Wire] | None = []
        self._out: deque[str] = deque()
        # While the writer sleeps: the future that wakes it (a frame to send, or the end). A bare
        # future rather than an ``asyncio.Event``: no waiters deque kept per connection.
        self._wake: asyncio.Future | None = None
        self.close_code: int | None = None

    # -- called by the hub (synchronously, never blocks) --------------------------------------

    def deliver(self, wire: Wire) -> None:
        if self.close_code is not None:
            return
        if self.hold is not None:
            self.hold.append(wire)
            if len(self.hold) > HOLD_LIMIT:
                self.end(Close.SLOW_CONSUMER)
            return
        if wire.seq is not None:
            if wire.seq <= self.sent.get(wire.channel, 0):
                return
            self.sent[wire.channel] = wire.seq
        self.send(wire.text)

    def end(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = int(code)
            self._poke()

    # -- sending -----------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Queue a frame; a client that lets SEND_QUEUE_FRAMES pile up is disconnected (4010) and
        resumes later, rather than slowing down the room. Everything goes through here: room
        items, replies, error frames and resume replays, so a client that asks and never reads
        cannot grow the server's memory."""
        if self.close_code is not None:
            return
        if len(self._out) >= protocol.SEND_QUEUE_FRAMES:
            self.end(Close.SLOW_CONSUMER)
            return
        self._out.append(text)
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def send_json(self, frame: dict) -> None:
        self.send(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))

    def error(self, code: str, detail: str, ref=None, **extra) -> None:
        frame = {"type": "error", "code": code, "detail": detail, **extra}
        if isinstance(ref, str):
            frame["ref"] = ref
        self.send_json(frame)

    def release(self) -> None:
        held, self.hold = self.hold or [], None
        for wire in held:
            self.deliver(wire)

    async def writer(self) -> None:
        """Sends what is queued until the connection ends (``end``: by the reader, the hub, a
        revocation or a send that failed)."""
        try:
            while self.close_code is None:
                if not self._out:
                    self._wake = asyncio.get_running_loop().create_future()
                    await self._wake
                    self._wake = None
                    continue
                await self.ws.send_text(self._out.popleft())
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.end(Close.NORMAL)

    async def flush(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with contextlib.suppress(Exception):
            while self._out and time.monotonic() < deadline:
                await asyncio.wait_for(self.ws.send_text(self._out.popleft()), timeout=max(0.01, deadline - time.monotonic()))


async def serve(ws: WebSocket, case_id: str, ctx: SessionsContext) -> None:
    opened = await _open(ws, case_id, ctx)
    if opened is None:
        return
    conn, key = opened
    hub, sequencer = ctx.hub, ctx.sequencer
    reader: asyncio.Task | None = None
    try:
        conn.release()
        presence(sequencer, conn, online=True)
        # Two coroutines per connection, not four: this one writes, one task reads. Whichever
        # stops first ends the connection (``conn.end``), which wakes the writer.
        reader = asyncio.create_task(read_loop(conn, sequencer, hub, key))
        reader.add_done_callback(partial(_reader_done, conn))
        await conn.writer()
        if conn.close_code is not None and conn.close_code != Close.NORMAL:
            if conn.close_code == Close.SESSION_ENDED:
                await conn.flush(1.0)
            log.info("websocket closed", extra={"case_id": case_id, "code": conn.close_code})
            with contextlib.suppress(Exception):
                await ws.close(conn.close_code)
    finally:
        if reader is not None:
            reader.cancel()
        hub.unregister(conn, conn.session_id)
        presence(sequencer, conn, online=False)


async def _open(ws: WebSocket, case_id: str, ctx: SessionsContext) -> tuple[Connection, bytes | None] | None:
    """Accept, authenticate, join, register with the hub, welcome and replay what a resume asks
    for: the connection (holding new room items until ``release``) and the session's data key,
    or None once closed with the reason. A function of its own so that what only joining needs
    (the room row, the parsed state, the replayed frames: kilobytes) is not kept alive by the
    frame that serves the connection for hours."""
    runtime = ws.app.state.runtime
    hub = ctx.hub
    offered = ws.scope.get("subprotocols") or []
    await ws.accept(subprotocol=protocol.PROTOCOL if protocol.PROTOCOL in offered else None)
    if offered and protocol.PROTOCOL not in offered:
        await ws.close(Close.UNSUPPORTED_PROTOCOL, "unsupported-protocol")
        return None
    token = ws.query_params.get("token")
    resume = parse_resume(ws.query_params.get("resume"))
    known_session = ws.query_params.get("session")
    if resume is None:
        await ws.close(Close.POLICY, "malformed resume parameter")
        return None
    if not token:
        try:
            first = await asyncio.wait_for(ws.receive_text(), timeout=protocol.AUTH_TIMEOUT_SECONDS)
            auth = protocol.Auth.model_validate_json(first)
        except (asyncio.TimeoutError, ValidationError, KeyError, WebSocketDisconnect, RuntimeError):
            with contextlib.suppress(Exception):
                await ws.close(Close.UNAUTHORIZED, "authenticate with ?token= or an auth frame first")
            return None
        token, resume = auth.token, dict(auth.resume or {})
    try:
        principal = runtime.tokens.verify(token)
    except Unauthorized as exc:
        await ws.close(Close.UNAUTHORIZED, exc.detail[:120])
        return None
    try:
        joined = await service.join(runtime, keys=ctx.keys, case_id=case_id, principal=principal)
    except service.Refused as exc:
        await ws.close(exc.code, exc.reason)
        return None

    conn = Connection(ws, participant_id=joined.member.id, case_id=case_id, session_id=joined.session_id,
                      principal=principal)
    await hub.register(conn, case_id=case_id, session_id=joined.session_id)
    revocations = runtime.tokens.revocations
    if revocations is not None and not revocations.allows(principal, case_id):
        # revoked while joining: ``close_revoked`` only sees connections already registered
        hub.unregister(conn, joined.session_id)
        await ws.close(Close.REVOKED, "access revoked")
        return None
    try:
        state = await service.session_state(runtime, joined.session_id)
        conn.location = state.location(conn.participant_id)
        heads = dict(state.heads)
        changed = known_session is not None and known_session != joined.session_id
        await ws.send_text(json.dumps(service.welcome(joined, state)))
        key = await hub.session_key(joined.session_id)
        for ch in CHANNELS:
            conn.sent[ch] = heads.get(ch, 0)
        for ch, after in resume.items():
            frames = await replay(hub, conn, key, ch, 0 if changed else after, heads.get(ch, 0), changed,
                                  member=conn.location == ch)
            for text in frames:
                await ws.send_text(text)
    except BaseException:
        hub.unregister(conn, joined.session_id)
        raise
    return conn, key


def _reader_done(conn: Connection, reader: asyncio.Task) -> None:
    if not reader.cancelled() and reader.exception() is not None:
        log.warning("websocket reader failed", extra={"case_id": conn.case_id, "error": type(reader.exception()).__name__})
        conn.end(Close.INTERNAL)  # a documented close code, never a silent drop
    conn.end(Close.NORMAL)  # the reader stopped: so does the writer (a no-op if it ended already)


def close_revoked(hub: Hub, revocations: Revocations, revocation: Revocation) -> None:
    """A revocation listener: this process's connections whose token it covers are closed at once
    with 4012 (a recused mediator leaves the room; a signed-out or disabled one too)."""
    for feed in list(hub.feeds.values()):
        for conn in list(feed.conns):
            principal = getattr(conn, "principal", None)
            if principal is None or (principal.subject != revocation.subject
                                     and principal.token_id != revocation.token_id):
                continue
            if not revocations.allows(principal, conn.case_id):
                log.info("websocket closed: access revoked", extra={"case_id": conn.case_id})
                conn.end(Close.REVOKED)


async def replay(hub: Hub, conn: Connection, key: bytes | None, channel: str, after: int, head: int,
                 changed: bool = False, *, member: bool = True, limit: int | None = None) -> list[str]:
    """Frames for what ``conn`` missed in ``channel`` after ``after`` (only items said while the
    participant was in the channel), then a ``resumed`` frame. ``gap`` is true when that history
    is gone: the session changed (everything of the new one is replayed) or ``after`` is beyond
    anything this session has.

    Only a current ``member`` of the channel learns its head (``through``, and ``gap`` beyond
    it): for any other channel ``through`` is the last item this participant was told, so
    resuming the other side's caucus says nothing about how much is said there. With ``limit``
    (a resume asked for on an open connection, whose frames go through the bounded send queue) at
    most that many frames are replayed and ``more`` says to ask again after ``through``."""
    gap = changed or (member and after > head)
    start = 0 if changed else after
    frames: list[str] = []
    through, count, more = (head if gap and not changed else start), 0, False
    if key is not None and not (gap and not changed):
        for wire in await hub.history(conn.session_id, channel, start, key=key):
            if conn.participant_id in wire.audience:
                if limit is not None and count >= limit:
                    more = True
                    break
                frames.append(wire.text)
                count += 1
            elif not member:
                continue  # not theirs, and not theirs to count
            through = max(through, wire.seq)
    conn.sent[channel] = max(conn.sent.get(channel, 0), through)
    frames.append(json.dumps({"type": "resumed", "channel": channel, "after": after, "through": through,
                              "count": count, "gap": gap, **({"more": True} if more else {}),
                              **({"reason": "session-changed"} if changed else {})}))
    return frames


def presence(sequencer: Sequencer, conn: Connection, *, online: bool) -> None:
    sequencer.submit(case_id=conn.case_id, session_id=conn.session_id, actor=conn.participant_id,
                     op={"type": "presence", "online": online})


async def read_loop(conn: Connection, sequencer: Sequencer, hub: Hub, key: bytes | None) -> None:
    ws = conn.ws
    bucket = TokenBucket(protocol.RATE_PER_SECOND, protocol.RATE_BURST)
    while True:
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            conn.end(Close.NORMAL)
            return
        text = msg.get("text")
        if text is None:
            conn.end(Close.UNSUPPORTED_DATA)
            return
        if len(text) > protocol.MAX_FRAME_BYTES // 4 and len(text.encode()) > protocol.MAX_FRAME_BYTES:
            conn.end(Close.TOO_BIG)
            return
        if not bucket.take():
            conn.end(Close.RATE_LIMITED)
            return
        frame = _valid(text) or _checked(conn, text)
        if frame is None:
            continue
        ref = getattr(frame, "id", None)
        kind = frame.type
        if kind == "ping":
            conn.send_json({"type": "pong"})
        elif kind == "resume":
            for text in await replay(hub, conn, key, frame.channel, frame.after, conn.sent.get(frame.channel, 0),
                                     member=conn.location == frame.channel, limit=REPLAY_PAGE):
                conn.send(text)
        else:
            op = frame.model_dump(exclude_none=True, exclude={"v"})
            fut = sequencer.submit(case_id=conn.case_id, session_id=conn.session_id, actor=conn.participant_id, op=op)
            fut.add_done_callback(lambda f, ref=ref: _answer(conn, f, ref))


def _valid(text: str):
    """The frame, parsed and validated in one pass (pydantic-core reads the JSON itself), or
    None: ``_checked`` then goes step by step and works out which error to send."""
    try:
        frame = protocol.client_frame.validate_json(text)
    except ValidationError:
        return None
    return None if frame.type == "auth" else frame


def _checked(conn: Connection, text: str):
    """A frame ``_valid`` did not take, checked step by step: the error frame and None, or the
    frame (for JSON only Python's parser reads, such as NaN)."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        conn.error("malformed-json", "the frame is not JSON")
        return None
    if not isinstance(raw, dict):
        conn.error("malformed-json", "the frame is not a JSON object")
        return None
    ref = raw.get("id")
    if raw.get("v", 1) != 1:
        conn.error("unsupported-version", f"this server speaks {protocol.PROTOCOL}", ref)
        return None
    kind = raw.get("type")
    if kind not in protocol.CLIENT_TYPES or kind == "auth":
        conn.error("unknown-type", "this message type is not known", ref)
        return None
    try:
        return protocol.client_frame.validate_python(raw)
    except RecursionError:
        conn.error("validation-error", "the frame is nested too deeply", ref)
        return None
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"][1:]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        conn.error("validation-error", "the frame is not valid; see `errors`", ref, errors=errors)
        return None


def _answer(conn: Connection, fut: asyncio.Future, ref) -> None:
    if fut.cancelled():
        return
    outcome: Outcome = fut.result()
    if outcome.error is not None:
        conn.error(*outcome.error, ref)
    elif outcome.reply is not None:
        conn.send_json(outcome.reply)
