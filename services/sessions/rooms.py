"""The room: who is where, who may do what, and who receives each item. Pure and synchronous.

Everything confidentiality depends on is decided here, in one place the property tests drive
directly: every participant has exactly one *location* (the waiting room, the joint channel or one
side's caucus), an item said in a channel goes to the participants located there at that moment
and to nobody else, and only the mediator changes locations. The service layer around it only
persists the state, stores the items and carries them to connections.

Channels and their rules:

* ``joint``: everyone admitted, unless the room is in shuttle mode (a mediator's choice, or forced
  by the ``shuttle_only`` / ``no_joint_session`` safeguards from intake's screening).
* ``caucus:claimant`` / ``caucus:respondent``: that side's participants and the mediator. Only the
  mediator opens or closes one and moves people; a party is never placed in the other side's
  caucus. In shuttle mode parties never share a channel: the mediator moves between caucuses.
* ``waiting``: not a channel. Nobody hears anything there; the mediator admits people from it.

Each channel has its own sequence (``heads``): every item stored in a channel gets the next
number. An item's *audience* is fixed when it is sequenced; membership changes are items too (the
leaver is in the audience of their ``member.left``, the newcomer in that of their
``member.joined``), so while a participant is a member of a channel they see every number of it,
and a jump means loss (the client resumes).

Audio and video follow the same membership. Media flows peer to peer, so the server cannot stop a
packet; what it does is decide, here, who may hold a connection with whom: signalling is relayed
only between members of one channel, and every change of location tells each affected client
which peers to drop (``media.drop``) before anything else about the move, and tells the mover who
is in the new channel (``location`` carries ``members``). A client closes every connection whose
peer is not in its channel; one honest end closing is enough to stop the media both ways. A
hang-up is always relayed, wherever the two are, because it only ever ends media.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

JOINT = "joint"
WAITING = "waiting"
SIDES = ("claimant", "respondent")
CAUCUSES = tuple(f"caucus:{s}" for s in SIDES)
CHANNELS = (JOINT, *CAUCUSES)
LOCATIONS = (WAITING, *CHANNELS)
JOINT_DISABLING = frozenset({"shuttle_only", "no_joint_session"})
PARTY_ROLES = ("party",)
MAX_SPEAKING_REPORT = 60.0  # seconds of speaking time one report may add


def caucus(side: str) -> str:
    return f"caucus:{side}"


class RoomError(Exception):
    """An operation the room refuses; ``code`` is the documented protocol error code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Member:
    id: str
    role: str  # party | representative | interpreter | support_person | mediator
    side: str | None = None

    @property
    def is_mediator(self) -> bool:
        return self.role == "mediator"


@dataclass
class Item:
    """Something the room says. ``seq`` is set for stored (sequenced) items; ephemeral ones
    (typing, signalling, presence, mediator-only roster and balance) have none.
    ``channel`` is None for items addressed to people rather than said in a channel."""

    kind: str
    audience: tuple[str, ...]
    body: dict[str, Any]
    channel: str | None = None
    seq: int | None = None
    sender: str | None = None
    client_id: str | None = None

    def frame(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind}
        if self.channel is not None:
            out["channel"] = self.channel
        if self.seq is not None:
            out["seq"] = self.seq
        if self.sender is not None:
            out["from"] = self.sender
        if self.client_id is not None:
            out["id"] = self.client_id
        out.update(self.body)
        return out


@dataclass
class DomainEvent:
    """A platform event the room asks to publish (ids only); the service maps it to a contract."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    items: list[Item] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    reply: dict[str, Any] | None = None  # sent to the actor only (acks, balance)
    proposal: dict[str, Any] | None = None  # a new proposal's content, for the service to store sealed


@dataclass
class RoomState:
    members: dict[str, Member]
    safeguards: frozenset[str] = frozenset()
    status: str = "scheduled"  # scheduled | live | ended
    mode: str = JOINT  # joint | shuttle
    caucuses: set[str] = field(default_factory=set)  # open sides
    locations: dict[str, str] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)
    stats: dict[str, dict[str, float]] = field(default_factory=dict)
    proposals: dict[str, dict[str, Any]] = field(default_factory=dict)
    keep_transcript: dict[str, bool] = field(default_factory=dict)
    media: dict[str, dict[str, bool]] = field(default_factory=dict)  # who has camera/microphone on
    # Open connections per participant (presence ops, from every sessions process): the mediator's
    # console shows who is here, waiting room included, from the room rather than from presence
    # frames it happened to see. A process that dies without closing leaves its count behind
    # until the participant's next connection closes or the session ends.
    online: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.safeguards & JOINT_DISABLING:
            self.mode = "shuttle"
        for pid in self.members:
            self.locations.setdefault(pid, WAITING)

    # -- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The state without members (they come from the room's agreement). No content."""
        return {"status": self.status, "mode": self.mode, "caucuses": sorted(self.caucuses),
                "locations": self.locations, "heads": self.heads, "stats": self.stats,
                "proposals": self.proposals, "keep_transcript": self.keep_transcript, "media": self.media,
                "online": self.online}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, *, members: dict[str, Member], safeguards=()) -> "RoomState":
        data = data or {}
        return cls(members=members, safeguards=frozenset(safeguards), status=data.get("status", "scheduled"),
                   mode=data.get("mode", JOINT), caucuses=set(data.get("caucuses", ())),
                   locations=dict(data.get("locations", {})), heads=dict(data.get("heads", {})),
                   stats={k: dict(v) for k, v in data.get("stats", {}).items()},
                   proposals={k: dict(v) for k, v in data.get("proposals", {}).items()},
                   keep_transcript=dict(data.get("keep_transcript", {})),
                   media={k: dict(v) for k, v in data.get("media", {}).items()},
                   online={k: int(v) for k, v in data.get("online", {}).items()})

    # -- queries -------------------------------------------------------------------------------

    @property
    def joint_enabled(self) -> bool:
        return self.mode == JOINT and not (self.safeguards & JOINT_DISABLING)

    def in_channel(self, channel: str) -> tuple[str, ...]:
        return tuple(sorted(pid for pid, loc in self.locations.items() if loc == channel))

    def mediators(self) -> tuple[str, ...]:
        return tuple(sorted(pid for pid, m in self.members.items() if m.is_mediator))

    def location(self, pid: str) -> str:
        return self.locations.get(pid, WAITING)

    def online_ids(self) -> list[str]:
        return sorted(pid for pid, n in self.online.items() if n > 0)

    def balance(self) -> dict[str, Any]:
        """Participation in the joint channel per side (and the mediator): counts and shares."""
        groups = {g: dict(self.stats.get(g, {})) for g in (*SIDES, "mediator")}
        for g in groups.values():
            for k in ("messages", "characters", "speaking_seconds"):
                g.setdefault(k, 0)
        shares = {}
        for k in ("messages", "characters", "speaking_seconds"):
            total = sum(groups[s][k] for s in SIDES)
            shares[k] = {s: (round(groups[s][k] / total, 4) if total else None) for s in SIDES}
        return {"by_side": groups, "shares": shares}

    def transcript_kept(self) -> bool:
        parties = [pid for pid, m in self.members.items() if m.role in PARTY_ROLES]
        return bool(parties) and all(self.keep_transcript.get(pid) is True for pid in parties)

    # -- items ---------------------------------------------------------------------------------

    def _sequenced(self, channel: str, kind: str, body: dict, *, sender=None, client_id=None,
                   audience: tuple[str, ...] | None = None) -> Item:
        self.heads[channel] = self.heads.get(channel, 0) + 1
        return Item(kind=kind, channel=channel, seq=self.heads[channel],
                    audience=audience if audience is not None else self.in_channel(channel),
                    body=body, sender=sender, client_id=client_id)

    def _roster(self) -> Item:
        """Who is where, for the mediator(s) only."""
        return Item(kind="roster", audience=self.mediators(),
                    body={"locations": dict(sorted(self.locations.items())), "mode": self.mode,
                          "caucuses": sorted(self.caucuses), "status": self.status,
                          "media": dict(sorted(self.media.items())), "online": self.online_ids()})

    def _place(self, pid: str, to: str, by: str | None) -> list[Item]:
        """Move one participant; the items announcing it, in order."""
        frm = self.location(pid)
        if frm == to:
            return []
        items: list[Item] = []
        if frm != WAITING:
            audience = self.in_channel(frm)  # before leaving: includes the leaver
            items += _media_drops(pid, [p for p in audience if p != pid])
            self.locations[pid] = to
            items.append(self._sequenced(frm, "member.left", {"participant_id": pid, "to": _public_to(to, frm)},
                                         sender=by, audience=audience))
        else:
            self.locations[pid] = to
        if to != WAITING:
            items.append(self._sequenced(to, "member.joined", {"participant_id": pid,
                                                               "members": list(self.in_channel(to))}, sender=by))
        items.append(Item(kind="location", audience=(pid,),
                          body={"location": to, "members": list(self.in_channel(to)) if to != WAITING else []}))
        return items

    # -- the operations ------------------------------------------------------------------------

    def apply(self, actor: str, op: dict[str, Any]) -> Result:
        """Apply one operation of ``actor``; raises RoomError if it is refused (state unchanged)."""
        member = self.members.get(actor)
        if member is None:
            raise RoomError("forbidden", "you are not a participant of this room")
        kind = op["type"]
        handler = getattr(self, "_op_" + kind.replace(".", "_"), None)
        if handler is None:
            raise RoomError("unknown-type", "this message type is not known")
        return handler(member, op)

    def _need_mediator(self, member: Member) -> None:
        if not member.is_mediator:
            raise RoomError("forbidden", "only the mediator may do this")

    def _need_live(self) -> None:
        if self.status != "live":
            raise RoomError("session-not-live", "the session has not started or has ended")

    def _own_channel(self, member: Member, op: dict) -> str:
        loc = self.location(member.id)
        if loc == WAITING:
            raise RoomError("not-in-channel", "you are in the waiting room")
        if op.get("channel") not in (None, loc):
            raise RoomError("not-in-channel", "you can only speak in the channel you are in")
        return loc

    def _count(self, member: Member, channel: str, *, messages=0, characters=0, speaking=0.0) -> None:
        if channel != JOINT:
            return
        group = "mediator" if member.is_mediator else (member.side or "other")
        st = self.stats.setdefault(group, {})
        st["messages"] = st.get("messages", 0) + messages
        st["characters"] = st.get("characters", 0) + characters
        st["speaking_seconds"] = round(st.get("speaking_seconds", 0) + speaking, 3)

    def _check_target(self, who: Member, to: str) -> None:
        if to not in LOCATIONS:
            raise RoomError("invalid-target", "no such channel")
        if to == JOINT and not self.joint_enabled:
            raise RoomError("joint-disabled", "the joint channel is closed in this room (shuttle mediation)")
        if to in CAUCUSES:
            side = to.split(":", 1)[1]
            if side not in self.caucuses:
                raise RoomError("caucus-closed", "that caucus is not open")
            if not who.is_mediator and who.side != side:
                raise RoomError("invalid-target", "a participant can only be placed in their own side's caucus")
        if who.role == "support_person" and to != WAITING and "support_person" not in self.safeguards:
            raise RoomError("safeguard", "support persons take part only when the case has that safeguard")

    # session
    def _op_session_start(self, member: Member, op: dict) -> Result:
        self._need_mediator(member)
        if self.status == "ended":
            raise RoomError("session-not-live", "the session has ended")
        if self.status == "live":
            return Result(reply={"type": "ack", "op": "session.start"})
        self.status = "live"
        items = self._place(member.id, JOINT, member.id) if self.joint_enabled else []
        # everyone hears it, the waiting room too: a party waiting is told the mediator will let them in
        started = Item(kind="session.started", audience=tuple(sorted(self.members)), body={"status": "live"})
        return Result(items=[*items, started, self._roster()], events=[DomainEvent("session_started")],
                      reply={"type": "ack", "op": "session.start"})

    def _op_session_end(self, member: Member, op: dict) -> Result:
        self._need_mediator(member)
        if self.status == "ended":
            return Result(reply={"type": "ack", "op": "session.end"})
        items: list[Item] = []
        for pid in sorted(self.members):
            items += self._place(pid, WAITING, member.id)
        self.status = "ended"
        self.caucuses.clear()
        kept = self.transcript_kept()
        items.append(Item(kind="session.ended", audience=tuple(sorted(self.members)), body={"transcript_kept": kept}))
        return Result(items=items, events=[DomainEvent("session_ended", {"transcript_kept": kept})],
                      reply={"type": "ack", "op": "session.end"})

    def _op_consent_transcript(self, member: Member, op: dict) -> Result:
        if member.role not in PARTY_ROLES:
            raise RoomError("forbidden", "only the parties decide whether the transcript is kept")
        self.keep_transcript[member.id] = bool(op["keep"])
        return Result(items=[Item(kind="consent", audience=self.mediators() + (member.id,),
                                  body={"participant_id": member.id, "keep": bool(op["keep"])})],
                      reply={"type": "ack", "op": "consent.transcript"})

    # placement
    def _op_mode(self, member: Member, op: dict) -> Result:
        self._need_mediator(member)
        mode = op["mode"]
        if mode == JOINT and self.safeguards & JOINT_DISABLING:
            raise RoomError("joint-disabled", "this case's safeguards require shuttle mediation")
        if mode == self.mode:
            return Result(reply={"type": "ack", "op": "mode"})
        self.mode = mode
        items: list[Item] = []
        if mode == "shuttle":
            for pid in self.in_channel(JOINT):
                m = self.members[pid]
                dest = caucus(m.side) if m.side in self.caucuses else WAITING
                items += self._place(pid, dest, member.id)
        return Result(items=[*items, self._roster()], reply={"type": "ack", "op": "mode"})

    def _op_caucus_open(self, member: Member, op: dict) -> Result:
        self._need_mediator(member)
        self._need_live()
        side = op["side"]
        if side not in SIDES:
            raise RoomError("invalid-target", "no such side")
        items: list[Item] = []
        events = []
        if side not in self.caucuses:
            self.caucuses.add(side)
            events.append(DomainEvent("caucus_opened", {"side": side}))
        if op.get("with_side", True):
            items += self._place(member.id, caucus(side), member.id)
            for pid in self.in_channel(JOINT):
                if self.members[pid].side == side and not self.members[pid].is_mediator:
                    items += self._place(pid, caucus(side), member.id)
        return Result(items=[*items, self._roster()], events=events, reply={"type": "ack", "op": "caucus.open"})

    def _op_caucus_close(self, member: Member, op: dict) -> Result:
        self._need_mediator(member)
        side = op["side"]
        if side not in self.caucuses:
            raise RoomError("caucus-closed", "that caucus is not open")
        dest = JOINT if self.joint_enabled and self.status == "live" else WAITING
        items: list[Item] = []
        for pid in self.in_channel(caucus(side)):
            items += self._place(pid, dest, member.id)
        self.caucuses.discard(side)
        return Result(items=[*items, self._roster()], events=[DomainEvent("caucus_closed", {"side": side})],
                      reply={"type": "ack", "op": "caucus.close"})

    def _op_move(self, member: Member, op: dict) -> Result:
        self._need_mediator(member)
        self._need_live()
        who = self.members.get(op["participant_id"])
        if who is None:
            raise RoomError("unknown-participant", "no such participant in this room")
        events = []
        side = op["to"].split(":", 1)[1] if op["to"] in CAUCUSES else None
        if side is not None and side not in self.caucuses and not who.is_mediator and who.side == side:
            # moving someone into their side's caucus opens it (the mediator need not open it first)
            self.caucuses.add(side)
            events.append(DomainEvent("caucus_opened", {"side": side}))
        self._check_target(who, op["to"])
        items = self._place(who.id, op["to"], member.id)
        return Result(items=[*items, self._roster()], events=events, reply={"type": "ack", "op": "move"})

    def _op_admit(self, member: Member, op: dict) -> Result:
        """Admit waiting participants. With ``staggered_join`` one side at a time."""
        self._need_mediator(member)
        self._need_live()
        ids = list(dict.fromkeys(op["participant_ids"]))
        whos = []
        for pid in ids:
            who = self.members.get(pid)
            if who is None:
                raise RoomError("unknown-participant", "no such participant in this room")
            whos.append(who)
        if "staggered_join" in self.safeguards and len({w.side for w in whos if not w.is_mediator}) > 1:
            raise RoomError("safeguard", "this case joins the sides one at a time (staggered joining)")
        plan = []
        for who in whos:
            if self.location(who.id) != WAITING:
                continue
            to = op.get("to") or (JOINT if self.joint_enabled else caucus(who.side or ""))
            self._check_target(who, to)
            plan.append((who.id, to))
        items: list[Item] = []
        for pid, to in plan:
            items += self._place(pid, to, member.id)
        return Result(items=[*items, self._roster()], reply={"type": "ack", "op": "admit"})

    # content
    def _op_chat(self, member: Member, op: dict) -> Result:
        self._need_live()
        ch = self._own_channel(member, op)
        text = op["text"]
        self._count(member, ch, messages=1, characters=len(text))
        item = self._sequenced(ch, "chat", {"text": text}, sender=member.id, client_id=op.get("id"))
        return Result(items=[item])

    def _op_document(self, member: Member, op: dict) -> Result:
        self._need_live()
        ch = self._own_channel(member, op)
        body = {"document_id": op["document_id"], "title": op.get("title")}
        return Result(items=[self._sequenced(ch, "document", body, sender=member.id, client_id=op.get("id"))])

    def _op_proposal(self, member: Member, op: dict) -> Result:
        self._need_live()
        ch = self._own_channel(member, op)
        pid = op.get("proposal_id") or uuid.uuid4().hex
        if pid in self.proposals:
            raise RoomError("conflict", "a proposal with this id exists")
        accepted = [member.side] if member.side in SIDES and not member.is_mediator else []
        self.proposals[pid] = {"author": member.id, "channels": [ch], "accepted": accepted, "status": "open"}
        content = {"summary": op["summary"], "terms": list(op.get("terms", []))}
        self._count(member, ch, messages=1, characters=len(op["summary"]) + sum(map(len, content["terms"])))
        item = self._sequenced(ch, "proposal", {"proposal_id": pid, **content}, sender=member.id,
                               client_id=op.get("id"))
        return Result(items=[item], proposal={"proposal_id": pid, "channel": ch, "author": member.id, **content})

    def _op_proposal_present(self, member: Member, op: dict) -> Result:
        """The mediator carries a proposal into the channel they are in (shuttle mediation).
        The service fills in the content from the sealed proposal."""
        self._need_mediator(member)
        self._need_live()
        ch = self._own_channel(member, op)
        prop = self.proposals.get(op["proposal_id"])
        if prop is None:
            raise RoomError("unknown-proposal", "no such proposal")
        if ch not in prop["channels"]:
            prop["channels"].append(ch)
        item = self._sequenced(ch, "proposal", {"proposal_id": op["proposal_id"], "presented": True},
                               sender=member.id, client_id=op.get("id"))
        return Result(items=[item])

    def _op_proposal_accept(self, member: Member, op: dict) -> Result:
        self._need_live()
        ch = self._own_channel(member, op)
        prop = self.proposals.get(op["proposal_id"])
        if prop is None or ch not in prop["channels"]:
            raise RoomError("unknown-proposal", "no such proposal in this channel")
        if member.is_mediator or member.side not in SIDES:
            raise RoomError("forbidden", "only a side accepts a proposal")
        if prop["status"] != "open":
            return Result(reply={"type": "ack", "op": "proposal.accept", "status": prop["status"]})
        if member.side not in prop["accepted"]:
            prop["accepted"].append(member.side)
        items = [self._sequenced(ch, "proposal.accept", {"proposal_id": op["proposal_id"], "side": member.side},
                                 sender=member.id, client_id=op.get("id"))]
        events = []
        if set(prop["accepted"]) >= set(SIDES):
            prop["status"] = "accepted"
            events.append(DomainEvent("proposal_accepted", {"proposal_id": op["proposal_id"]}))
            for c in prop["channels"]:
                items.append(self._sequenced(c, "proposal.accepted", {"proposal_id": op["proposal_id"]}))
        return Result(items=items, events=events)

    # ephemeral
    def _op_typing(self, member: Member, op: dict) -> Result:
        ch = self._own_channel(member, op)
        audience = tuple(p for p in self.in_channel(ch) if p != member.id)
        return Result(items=[Item(kind="typing", channel=ch, audience=audience, sender=member.id,
                                  body={"active": bool(op.get("active", True))})])

    def _op_speaking(self, member: Member, op: dict) -> Result:
        """An audio/video client reports speaking time; it counts in the joint channel only."""
        self._need_live()
        ch = self._own_channel(member, op)
        self._count(member, ch, speaking=min(max(float(op["seconds"]), 0.0), MAX_SPEAKING_REPORT))
        return Result()

    def _op_signal(self, member: Member, op: dict) -> Result:
        """WebRTC signalling (offer/answer/ICE), relayed only between two participants in the
        same channel; the media flows peer to peer, never through the server. A hang-up is
        relayed whatever the two locations (without data): it can only end media."""
        target = op["to"]
        if op["kind"] == "hangup":
            if target == member.id or target not in self.members:
                raise RoomError("unknown-participant", "no such participant in this room")
            return Result(items=[Item(kind="signal", audience=(target,), sender=member.id,
                                      body={"kind": "hangup", "data": None})])
        self._need_live()
        ch = self._own_channel(member, op)
        if target == member.id or self.location(target) != ch:
            raise RoomError("not-in-channel", "the other participant is not in your channel")
        return Result(items=[Item(kind="signal", channel=ch, audience=(target,), sender=member.id,
                                  body={"kind": op["kind"], "data": op.get("data")})])

    def _op_media(self, member: Member, op: dict) -> Result:
        """A client says whether its camera and microphone are on, for the mediator's console
        (who can be seen and heard in each channel). Nothing else depends on it."""
        now = {"audio": bool(op["audio"]), "video": bool(op["video"])}
        if not any(now.values()):
            now = None
        if self.media.get(member.id) == now:
            return Result()
        if now is None:
            self.media.pop(member.id, None)
        else:
            self.media[member.id] = now
        return Result(items=[self._roster()])

    def _op_presence(self, member: Member, op: dict) -> Result:
        """A connection of ``member`` opened or closed (sent by the server itself). Channel members
        hear about it; the waiting room is visible to the mediator only."""
        loc = self.location(member.id)
        audience = set(self.mediators())
        if loc != WAITING:
            audience |= set(self.in_channel(loc))
        audience.discard(member.id)
        was = self.online.get(member.id, 0) > 0
        count = max(0, self.online.get(member.id, 0) + (1 if op["online"] else -1))
        if count:
            self.online[member.id] = count
        else:
            self.online.pop(member.id, None)
        roster = []
        camera_off = not op["online"] and self.media.pop(member.id, None) is not None  # a closed connection's
        if camera_off or was != (count > 0):  # the console's roster says who is here (a second tab: no change)
            roster = [self._roster()]
        return Result(items=[*roster, Item(kind="presence", channel=None if loc == WAITING else loc,
                                  audience=tuple(sorted(audience)),
                                  body={"participant_id": member.id, "online": bool(op["online"]),
                                        "location": loc if member.is_mediator or loc != WAITING else None})])

    def _op_balance(self, member: Member, op: dict) -> Result:
        self._need_mediator(member)
        return Result(reply={"type": "balance", **self.balance()})


def _media_drops(mover: str, others: list[str]) -> list[Item]:
    """The mover drops everyone of the channel it leaves, and each of them drops the mover."""
    if not others:
        return []
    return [Item(kind="media.drop", audience=(mover,), body={"peers": sorted(others)}),
            *(Item(kind="media.drop", audience=(p,), body={"peers": [mover]}) for p in sorted(others))]


def _public_to(to: str, frm: str) -> str | None:
    """Where a leaver went, as told to the channel they left: the other side's members learn
    only that someone left, not which caucus they went to, except for the joint channel."""
    return to if to in (JOINT, WAITING) else "caucus"
