"""Sessions test helpers: the app served by uvicorn on a free port (real websockets), rooms opened
through intake's MediationAgreed on the bus, tokens, and a small websocket client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import date

import pytest
import uvicorn
from websockets.asyncio.client import connect

from services.sessions.app import create_app
from shared.bus import Message
from shared.config import Settings
from shared.contracts.intake import MediationAgreed, Participant
from shared.events import envelope
from tests.support.waiting import eventually

MEDIATOR = "m-1"
CLAIMANT = "p-claimant"
RESPONDENT = "p-respondent"


@contextlib.asynccontextmanager
async def serve(app):
    """The app on 127.0.0.1 and a free port, with its lifespan; yields the base ws:// URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws_max_size=1 << 20,
                            lifespan="on", ws_ping_interval=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started or task.done(), timeout=30, message="uvicorn start")
    if task.done():
        task.result()
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def participants(*, claimants=(CLAIMANT,), respondents=(RESPONDENT,), extra=()):
    out = [Participant(participant_id=MEDIATOR, role="mediator")]
    out += [Participant(participant_id=p, role="party", side="claimant") for p in claimants]
    out += [Participant(participant_id=p, role="party", side="respondent") for p in respondents]
    return out + list(extra)


async def agree(app, case_id: str, *, safeguards=(), people=None) -> None:
    """Publish intake's agreement to mediate and wait until the room is open."""
    runtime = app.state.runtime
    evt = MediationAgreed(case_id=case_id, mediator_id=MEDIATOR, participants=people or participants(),
                          safeguards=list(safeguards), term_ends_on=date(2030, 1, 1))
    ce = envelope(evt, source="/odr/intake")
    await runtime.bus.publish([Message(evt.topic, case_id, ce.to_bytes())])

    async def is_open():
        from services.sessions.models import Room
        async with runtime.session_factory() as db:
            room = await db.get(Room, case_id)
            return room is not None and room.status == "open"

    await eventually(is_open, message="room open")


def token(app, subject: str, case_id: str, *, side: str | None = None, role: str | None = None) -> str:
    role = role or ("mediator" if subject.startswith("m-") else "party")
    return app.state.runtime.tokens.issue(subject=subject, role=role, cases=[case_id], party_side=side)


class Client:
    """A participant's websocket with a log of every frame received."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.frames: list[dict] = []
        self.welcome: dict | None = None

    @classmethod
    async def open(cls, url: str, **kw) -> "Client":
        ws = await connect(url, max_size=None, ping_interval=None, **kw)
        client = cls(ws)
        client.welcome = await client.expect("welcome")
        return client

    async def send(self, frame) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 10.0) -> dict:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def expect(self, type_: str, timeout: float = 10.0, **match) -> dict:
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def drain(self, quiet: float = 0.3) -> list[dict]:
        got = []
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                got.append(await self.recv(quiet))
        return got

    async def op(self, frame: dict, timeout: float = 10.0) -> dict:
        """Send a frame that gets an ack/balance/error; return that answer."""
        await self.send(frame)
        while True:
            got = await self.recv(timeout)
            if got["type"] in ("ack", "error", "balance") and (got["type"] != "ack" or got.get("op") == frame["type"]
                                                             or got.get("id") == frame.get("id")):
                return got

    async def close(self) -> None:
        await self.ws.close()

    def seqs(self, channel: str) -> list[int]:
        return [f["seq"] for f in self.frames if f.get("channel") == channel and "seq" in f and f["type"] != "ack"]


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path, dev_mode=True, log_format="json")


@pytest.fixture
async def room(settings):
    """A served app with one open room (mediator, one claimant, one respondent)."""
    app = create_app(settings, configure_logs=False)
    async with serve(app) as (ws_base, http_base):
        case_id = str(uuid.uuid4())
        await agree(app, case_id)

        def url(subject, *, side=None, extra=""):
            return f"{ws_base}/rooms/{case_id}/ws?token={token(app, subject, case_id, side=side)}{extra}"

        yield type("Room", (), {"app": app, "case_id": case_id, "url": staticmethod(url), "ws": ws_base,
                                "http": http_base})


# -- documents (test_documents*.py, test_storage_contract.py) ------------------------------------

DOCUMENT_LIMIT = 256 * 1024  # the rooms' document size limit in these tests


@pytest.fixture
async def docroom(settings):
    """A served app (documents up to ``DOCUMENT_LIMIT``) with one open room, HTTP and tokens."""
    import httpx

    from services.sessions.settings import SessionsSettings

    app = create_app(settings, sessions=SessionsSettings(document_max_bytes=DOCUMENT_LIMIT), configure_logs=False)
    async with serve(app) as (ws_base, http_base):
        case_id = str(uuid.uuid4())
        await agree(app, case_id)
        tokens = {p: token(app, p, case_id, side=s) for p, s in
                  ((MEDIATOR, None), (CLAIMANT, "claimant"), (RESPONDENT, "respondent"))}
        async with httpx.AsyncClient(base_url=http_base, timeout=30) as http:
            yield type("DocRoom", (), {"app": app, "case_id": case_id, "ws": ws_base, "http": http, "tokens": tokens,
                                       "data_dir": settings.data_dir})


@pytest.fixture(scope="module")
def s3_endpoint():
    """An S3 server for the object store (``tests.support.s3``): (endpoint, bucket)."""
    from tests.support.s3 import s3_server

    with s3_server() as (endpoint, bucket):
        yield endpoint, bucket
