"""The websocket protocol ``odr.sessions.v1``: client frames, limits, error codes and close codes,
and its AsyncAPI description (generated from these models, so the document cannot drift).

Frames are JSON text objects with a ``type``. Clients may add ``"v": 1``; any other version is
refused. Content frames (chat, proposal, document, proposal.accept) carry a client ``id``; resending
a frame with the same ``id`` is acknowledged again with the original sequence number and stored
once. See ``README.md`` (Sessions service) for the walk-through.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

PROTOCOL = "odr.sessions.v1"
VERSION = 1

MAX_FRAME_BYTES = 16 * 1024  # a bigger text frame closes the connection with 1009
SEND_QUEUE_FRAMES = 256  # frames waiting for a slow client before it is disconnected (4010)
RATE_PER_SECOND = 20.0  # sustained frames per second per connection
RATE_BURST = 40  # frames a connection may send at once
AUTH_TIMEOUT_SECONDS = 10.0


class Close(IntEnum):
    """Close codes the server uses. 4xxx are ours; a client may reconnect and resume after 4010."""

    NORMAL = 1000
    UNSUPPORTED_DATA = 1003  # binary frame
    POLICY = 1008  # generic policy violation
    TOO_BIG = 1009  # frame larger than MAX_FRAME_BYTES
    INTERNAL = 1011
    UNAUTHORIZED = 4001  # missing, malformed or expired token (or no auth frame in time)
    UNSUPPORTED_PROTOCOL = 4002  # no supported subprotocol / version
    FORBIDDEN = 4003  # the token is not for this case, or its holder is not a participant
    ROOM_NOT_OPEN = 4004  # no room, or the agreement to mediate is not signed yet, or the case is closed
    RATE_LIMITED = 4008  # flood: more than RATE_BURST frames at once or RATE_PER_SECOND sustained
    SLOW_CONSUMER = 4010  # send queue full; reconnect and resume from your last sequence numbers
    SESSION_ENDED = 4011  # the mediator ended the session
    REVOKED = 4012  # the token was revoked (sign-out, disabled account, new password) or its holder recused


CLOSE_DOCS = {
    1000: "normal closure",
    1003: "binary frames are not part of the protocol",
    1008: "policy violation",
    1009: f"a frame is larger than {MAX_FRAME_BYTES} bytes",
    1011: "internal error; reconnect and resume",
    4001: "unauthorized: missing, malformed or expired token, or no `auth` frame within "
          f"{AUTH_TIMEOUT_SECONDS:.0f} s",
    4002: f"unsupported protocol: offer subprotocol `{PROTOCOL}` (or none)",
    4003: "forbidden: the token is not scoped to this case or its subject is not a participant",
    4004: "room not open: no agreement to mediate yet, or the case is closed",
    4008: f"rate limited: more than {RATE_BURST} frames in a burst or {RATE_PER_SECOND:.0f}/s sustained",
    4010: f"slow consumer: more than {SEND_QUEUE_FRAMES} frames were waiting; reconnect and resume",
    4011: "the session ended",
    4012: "access revoked: the token was signed out or revoked (disabled account, changed password), or the "
          "mediator recused from this case; do not reconnect with the same token",
}

# Error frames ({"type": "error", "code": ..., "detail": ..., "ref": <client id>}); the connection stays open.
ERROR_CODES = {
    "malformed-json": "the frame is not a JSON object",
    "unknown-type": "the frame's type is not part of the protocol",
    "unsupported-version": "the frame's `v` is not 1",
    "validation-error": "a field is missing or invalid (see `errors`; values are never echoed)",
    "forbidden": "your role may not do this (e.g. only the mediator opens caucuses and moves people)",
    "not-in-channel": "you (or the signalling target) are not in that channel",
    "invalid-target": "no such channel, or a party placed outside their own side's caucus",
    "joint-disabled": "the joint channel is closed (shuttle mediation or a safeguard)",
    "caucus-closed": "that caucus is not open",
    "session-not-live": "the session has not started or has ended",
    "unknown-participant": "no such participant in this room",
    "unknown-proposal": "no such proposal in your channel",
    "safeguard": "a safeguard of this case forbids it (staggered joining, support person)",
    "conflict": "the id is already used",
    "unavailable": "the server could not store the frame; resend it with the same id",
    "offers-none": "no such blind-offer process in this case (`process_id` is not the case's current one)",
    "offers-state": "the blind offers are not at a stage that allows this (an offer before both sides agreed, a "
                    "confirmation before the offers crossed, a second process while one is under way)",
    "offers-ended": "the blind-offer process has ended (settled, exhausted or cancelled)",
    "offers-round": "the offer names another round than the current one",
    "offers-made": "your side has already made a different offer in this round (one offer per side per round)",
    "offers-limit": "this case has had as many blind-offer processes as allowed",
}

Id = Annotated[str, Field(min_length=1, max_length=64)]
Side = Literal["claimant", "respondent"]
Location = Literal["waiting", "joint", "caucus:claimant", "caucus:respondent"]
ChannelName = Literal["joint", "caucus:claimant", "caucus:respondent"]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1] | None = None


class Auth(_Frame):
    """First frame when the token is not in the URL. ``resume``: last sequence number seen per channel."""
    type: Literal["auth"]
    token: Annotated[str, Field(max_length=4096)]
    resume: dict[ChannelName, Annotated[int, Field(ge=0)]] | None = None


class Resume(_Frame):
    """Ask for what you missed in a channel after ``after`` (for example after detecting a jump)."""
    type: Literal["resume"]
    channel: ChannelName
    after: Annotated[int, Field(ge=0)]


class Chat(_Frame):
    type: Literal["chat"]
    id: Id
    channel: ChannelName | None = None
    text: Annotated[str, Field(min_length=1, max_length=4000)]


class Proposal(_Frame):
    """A structured offer; once both sides accept it, it can seed the agreement draft."""
    type: Literal["proposal"]
    id: Id
    channel: ChannelName | None = None
    summary: Annotated[str, Field(min_length=1, max_length=500)]
    terms: Annotated[list[Annotated[str, Field(min_length=1, max_length=2000)]], Field(max_length=20)] = []


class ProposalPresent(_Frame):
    type: Literal["proposal.present"]
    id: Id | None = None
    proposal_id: Id


class ProposalAccept(_Frame):
    type: Literal["proposal.accept"]
    id: Id
    proposal_id: Id


class Document(_Frame):
    """A reference to a document held elsewhere (never the document itself)."""
    type: Literal["document"]
    id: Id
    channel: ChannelName | None = None
    document_id: Id
    title: Annotated[str, Field(max_length=200)] | None = None


class Typing(_Frame):
    type: Literal["typing"]
    active: bool = True


class Speaking(_Frame):
    """Speaking time measured by an audio/video client since its last report."""
    type: Literal["speaking"]
    seconds: Annotated[float, Field(gt=0, le=60)]


class Signal(_Frame):
    """WebRTC signalling to one participant in the same channel; a ``hangup`` reaches them
    wherever they are (it carries no data and can only end media)."""
    type: Literal["signal"]
    to: Id
    kind: Literal["offer", "answer", "ice", "hangup"]
    data: Annotated[dict[str, Any] | None, Field(default=None)] = None


class Media(_Frame):
    """Whether your camera and microphone are on (the mediator's console shows it)."""
    type: Literal["media"]
    audio: bool
    video: bool


class Move(_Frame):
    type: Literal["move"]
    participant_id: Id
    to: Location


class Admit(_Frame):
    type: Literal["admit"]
    participant_ids: Annotated[list[Id], Field(min_length=1, max_length=20)]
    to: ChannelName | None = None


class CaucusOpen(_Frame):
    type: Literal["caucus.open"]
    side: Side
    with_side: bool = True


class CaucusClose(_Frame):
    type: Literal["caucus.close"]
    side: Side


class Mode(_Frame):
    type: Literal["mode"]
    mode: Literal["joint", "shuttle"]


class SessionStart(_Frame):
    type: Literal["session.start"]


class SessionEnd(_Frame):
    type: Literal["session.end"]


class ConsentTranscript(_Frame):
    """A party's consent to keep the transcript after the session (default: destroyed)."""
    type: Literal["consent.transcript"]
    keep: bool


class Balance(_Frame):
    """Mediator only: talk-time and participation balance in the joint channel."""
    type: Literal["balance"]


class Ping(_Frame):
    type: Literal["ping"]


# Blind offers for a money term (``offers.py``): amounts are integers in minor units (tiyn for KZT).
ProcessId = Annotated[str, Field(min_length=1, max_length=36)]
Amount = Annotated[int, Field(ge=1, le=10**12, strict=True)]


class OffersPropose(_Frame):
    """Propose blind offers for a money term: the rule, currency and number of rounds both sides
    must agree to before the first round (the proposing side counts as agreed)."""
    type: Literal["offers.propose"]
    currency: Literal["KZT", "KGS", "RUB", "USD", "EUR"] = "KZT"
    rule: Literal["midpoint", "midpoint-band"] = "midpoint"
    band_percent: Annotated[int, Field(ge=1, le=20)] | None = None
    max_rounds: Annotated[int, Field(ge=1, le=10)] = 3

    @model_validator(mode="after")
    def _band_with_its_rule(self) -> "OffersPropose":
        if (self.rule == "midpoint-band") != (self.band_percent is not None):
            raise ValueError("band_percent is given with the midpoint-band rule, and only with it")
        return self


class OffersAgree(_Frame):
    """A side agrees to the proposed blind offers (rule, currency, rounds)."""
    type: Literal["offers.agree"]
    process_id: ProcessId


class OffersSubmit(_Frame):
    """Your side's sealed offer for the current round: the claimant the least it would accept, the
    respondent the most it would pay. One per side per round; resending the same one is harmless."""
    type: Literal["offers.submit"]
    process_id: ProcessId
    round: Annotated[int, Field(ge=1, le=10)]
    amount: Amount


class OffersConfirm(_Frame):
    """Your side confirms the crossed figure; when both have, it is an accepted proposal."""
    type: Literal["offers.confirm"]
    process_id: ProcessId


class OffersCancel(_Frame):
    """A side or the mediator ends the blind offers (before settlement)."""
    type: Literal["offers.cancel"]
    process_id: ProcessId


class OffersStatus(_Frame):
    """Ask for the blind offers as you may see them (sent after connecting); answered by `offers`."""
    type: Literal["offers.status"]


CLIENT_FRAMES = (Auth, Resume, Chat, Proposal, ProposalPresent, ProposalAccept, Document, Typing, Speaking, Signal,
                 Media, Move, Admit, CaucusOpen, CaucusClose, Mode, SessionStart, SessionEnd, ConsentTranscript, Balance, Ping,
                 OffersPropose, OffersAgree, OffersSubmit, OffersConfirm, OffersCancel, OffersStatus)
ClientFrame = Annotated[Union[CLIENT_FRAMES], Field(discriminator="type")]  # type: ignore[valid-type]
client_frame = TypeAdapter(ClientFrame)
CLIENT_TYPES = frozenset(f.model_fields["type"].annotation.__args__[0] for f in CLIENT_FRAMES)

# Server frames: name -> (summary, example). Sequenced frames carry `channel` and `seq`.
SERVER_FRAMES: dict[str, tuple[str, dict]] = {
    "welcome": ("After authentication: who you are, where you are, the session and your channel's head.",
                {"type": "welcome", "protocol": PROTOCOL, "participant_id": "p-1", "role": "party",
                 "side": "claimant", "session_id": "s-1", "status": "live", "mode": "joint", "location": "joint",
                 "heads": {"joint": 12}}),
    "chat": ("Sequenced chat message.", {"type": "chat", "channel": "joint", "seq": 13, "from": "p-1", "id": "c-9",
                                         "text": "...", "ts": "2026-01-01T10:00:00Z"}),
    "proposal": ("Sequenced structured proposal (or one the mediator presents in another channel).",
                 {"type": "proposal", "channel": "joint", "seq": 14, "from": "p-1", "proposal_id": "ab12",
                  "summary": "...", "terms": ["..."]}),
    "proposal.accept": ("A side accepted a proposal.", {"type": "proposal.accept", "channel": "joint", "seq": 15,
                                                        "proposal_id": "ab12", "side": "respondent"}),
    "proposal.accepted": ("Both sides accepted; content available at GET /rooms/{case}/proposals/{id}.",
                          {"type": "proposal.accepted", "channel": "joint", "seq": 16, "proposal_id": "ab12"}),
    "document": ("Sequenced document reference.", {"type": "document", "channel": "joint", "seq": 17,
                                                   "document_id": "d-1", "title": "Invoice"}),
    "member.joined": ("Sequenced: someone entered the channel (you, when you are admitted or moved).",
                      {"type": "member.joined", "channel": "caucus:claimant", "seq": 1, "participant_id": "p-1",
                       "members": ["m-1", "p-1"]}),
    "member.left": ("Sequenced: someone left the channel.", {"type": "member.left", "channel": "joint",
                                                             "seq": 18, "participant_id": "p-1", "to": "caucus"}),
    "location": ("Your own location changed (waiting, joint or a caucus), with who is in it now: close every "
                 "audio/video connection to anyone else.",
                 {"type": "location", "location": "caucus:claimant", "members": ["m-1", "p-1"]}),
    "media.drop": ("Ephemeral, sent before any other frame of a move: close your audio/video connections with these "
                   "participants now (one of you left the channel you shared).",
                   {"type": "media.drop", "peers": ["p-2"]}),
    "typing": ("Ephemeral.", {"type": "typing", "channel": "joint", "from": "p-2", "active": True}),
    "presence": ("Ephemeral: a participant's connection opened or closed.",
                 {"type": "presence", "participant_id": "p-2", "online": True}),
    "signal": ("Ephemeral WebRTC signalling from a participant in your channel.",
               {"type": "signal", "channel": "joint", "from": "p-2", "kind": "offer", "data": {"sdp": "..."}}),
    "roster": ("Mediator only: every participant's location, whose camera or microphone is on, and who has the "
               "room open (`online`, waiting room included; the mediator's welcome carries it too).",
               {"type": "roster", "locations": {"p-1": "joint"}, "mode": "joint", "caucuses": [], "status": "live",
                "media": {"p-1": {"audio": True, "video": False}}, "online": ["p-1"]}),
    "balance": ("Mediator only: talk-time and participation per side in the joint channel.",
                {"type": "balance", "by_side": {}, "shares": {}}),
    "ack": ("Your frame was stored (seq) or applied; `duplicate` when the id was seen before.",
            {"type": "ack", "id": "c-9", "channel": "joint", "seq": 13, "duplicate": False}),
    "resumed": ("End of a replay: you have everything up to `through`; `gap` when history is lost; `more` when "
                "the replay stopped at a page (200 frames): send `resume` again after `through`. For a channel you "
                "are not in, `through` is the last item you were told.",
                {"type": "resumed", "channel": "joint", "after": 10, "through": 17, "count": 7, "gap": False}),
    "error": ("A refused frame; the connection stays open.", {"type": "error", "code": "forbidden",
                                                             "detail": "only the mediator may do this", "ref": "c-9"}),
    "session.started": ("Everyone, the waiting room included: the mediator started the session.",
                        {"type": "session.started", "status": "live"}),
    "session.ended": ("The session ended; the connection closes with 4011.",
                      {"type": "session.ended", "transcript_kept": False}),
    "pong": ("Answer to ping.", {"type": "pong"}),
    "offers": ("Blind offers as you may see them, sent to each person on its own (the answer to `offers.status`, and "
               "whenever the process changes in a way you may know of). Everyone: the terms, who agreed or "
               "confirmed, the round and the rounds used, the status (`none`, `proposed`, `open`, `crossed`, "
               "`settled`, `exhausted`, `cancelled`). A side also gets its own offers (`my_offers`), whether it offered "
               "this round (`offered`) and, once crossed, the `figure`. Never the other side's amounts, and the "
               "mediator never any amount.",
               {"type": "offers", "process_id": "9f1c", "status": "crossed", "currency": "KZT", "rule": "midpoint",
                "band_percent": 0, "max_rounds": 3, "proposed_by": "mediator", "round": 2, "rounds_used": 2,
                "agreed": ["claimant", "respondent"], "confirmed": [], "offered": False,
                "my_offers": [20000000, 16000000], "figure": 15500000}),
}


def websocket_asyncapi() -> dict[str, Any]:
    """The websocket part of the AsyncAPI 3 document: one channel per room, the client and
    server frames, and the close codes. ``shared.asyncapi`` can merge it (channels, operations,
    components) into the platform document."""
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    send_refs, receive_refs = [], []
    for cls in CLIENT_FRAMES:
        t = cls.model_fields["type"].annotation.__args__[0]
        name = "sessions_ws_client_" + t.replace(".", "_")
        schema = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub_name, sub in schema.pop("$defs", {}).items():
            schemas[sub_name] = sub
        schemas[name] = schema
        messages[name] = {"name": t, "title": f"client: {t}", "summary": (cls.__doc__ or t).strip().splitlines()[0],
                          "contentType": "application/json", "payload": {"$ref": f"#/components/schemas/{name}"}}
        send_refs.append({"$ref": f"#/channels/sessions_room/messages/{name}"})
    for t, (summary, example) in SERVER_FRAMES.items():
        name = "sessions_ws_server_" + t.replace(".", "_")
        messages[name] = {"name": t, "title": f"server: {t}", "summary": summary, "contentType": "application/json",
                          "payload": {"type": "object", "properties": {"type": {"const": t}}, "required": ["type"]},
                          "examples": [{"payload": example}]}
        receive_refs.append({"$ref": f"#/channels/sessions_room/messages/{name}"})
    channel = {
        "address": "/sessions/rooms/{case_id}/ws",
        "title": "Mediation room (websocket)",
        "description": (
            f"Subprotocol `{PROTOCOL}`. Authenticate with `?token=<access token>` or, without it, an `auth` frame "
            f"first (within {AUTH_TIMEOUT_SECONDS:.0f} s). Optional `resume` (query `resume=joint:12,caucus:claimant:3` "
            "or the auth frame's `resume`) replays what you missed before live frames. Sequenced frames carry "
            "`channel` and `seq`; while you are a member of a channel you receive every seq of it, so a jump is a "
            "loss: send `resume`. Ordering is per channel. Close codes: "
            + "; ".join(f"{code} {text}" for code, text in CLOSE_DOCS.items()) + ". Error codes: "
            + "; ".join(f"`{c}` {t}" for c, t in ERROR_CODES.items()) + "."),
        "parameters": {"case_id": {"description": "the case id"}},
        "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in messages},
        "bindings": {"ws": {"query": {"type": "object", "properties": {
            "token": {"type": "string", "description": "access token (party or mediator, scoped to the case)"},
            "resume": {"type": "string", "description": "channel:last_seq pairs, comma separated"}}}}},
    }
    return {
        "channels": {"sessions_room": channel},
        "operations": {
            "sessions_room_client_send": {"action": "send", "channel": {"$ref": "#/channels/sessions_room"},
                                          "summary": "Frames a participant sends.", "messages": send_refs},
            "sessions_room_client_receive": {"action": "receive", "channel": {"$ref": "#/channels/sessions_room"},
                                             "summary": "Frames the room sends.", "messages": receive_refs},
        },
        "components": {"messages": messages, "schemas": schemas},
        "x-close-codes": {str(code): text for code, text in CLOSE_DOCS.items()},
        "x-error-codes": ERROR_CODES,
    }
