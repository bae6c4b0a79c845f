"""The hub's order between ephemeral and sequenced items of one channel, across processes.

Another process's items come over the bus; a number of a channel that arrives before the one
it follows waits in the reorder buffer. A WebRTC offer (ephemeral) from someone who just
joined the channel must not overtake the buffered ``member.joined`` that announces them: the
client drops signals from anyone it does not know to be in its channel, so an offer that came
first would be lost and that pair would never connect. What was held still goes only to whoever
is in the channel when it is delivered (the caucus rule)."""

from __future__ import annotations

import json

from services.sessions.hub import Feed, Hub, Wire

MEDIATOR, RESPONDENT = "m-1", "r-1"


class Recorder:
    """A connection of this process that keeps what it was sent."""

    def __init__(self, participant_id: str, location: str) -> None:
        self.participant_id, self.location = participant_id, location
        self.got: list[tuple[str, int | None]] = []

    def deliver(self, item: Wire) -> None:
        self.got.append((item.kind, item.seq))

    def end(self, code: int) -> None:
        pass


def wire(kind: str, channel: str | None, seq: int | None, audience, body: dict | None = None) -> Wire:
    body = body or {}
    return Wire(kind, channel, seq, frozenset(audience), json.dumps({"type": kind, **body}), body)


def feed_with(conn: Recorder, next_joint: int) -> tuple[Hub, Feed]:
    hub = Hub(runtime=None, keys=None)
    feed = hub.feeds["s-1"] = Feed("case-1", "s-1", conns={conn}, next={"joint": next_joint}, ready=True)
    return hub, feed


def test_an_offer_does_not_overtake_the_member_joined_it_follows():
    respondent = Recorder(RESPONDENT, "joint")
    hub, _ = feed_with(respondent, next_joint=4)
    everyone = {MEDIATOR, RESPONDENT}
    # number 4 (a chat line sequenced by another process) is still on its way when the mediator's
    # arrival (5) and then the mediator's offer come
    hub._dispatch_wires("s-1", [wire("member.joined", "joint", 5, everyone, {"participant_id": MEDIATOR})])
    hub._dispatch_wires("s-1", [wire("signal", "joint", None, {RESPONDENT}, {"kind": "offer"})])
    assert respondent.got == []
    hub._dispatch_wires("s-1", [wire("chat", "joint", 4, everyone)])
    assert respondent.got == [("chat", 4), ("member.joined", 5), ("signal", None)]


def test_a_held_signal_is_not_delivered_to_someone_who_left_the_channel_meanwhile():
    respondent = Recorder(RESPONDENT, "joint")
    hub, _ = feed_with(respondent, next_joint=4)
    everyone = {MEDIATOR, RESPONDENT}
    hub._dispatch_wires("s-1", [wire("member.joined", "joint", 5, everyone, {"participant_id": MEDIATOR})])
    hub._dispatch_wires("s-1", [wire("signal", "joint", None, {RESPONDENT}, {"kind": "offer"})])
    # the respondent is moved into their caucus before the hole is filled: the move is never held
    hub._dispatch_wires("s-1", [wire("location", None, None, {RESPONDENT}, {"location": "caucus:respondent"})])
    assert respondent.got == [("location", None)]
    hub._dispatch_wires("s-1", [wire("chat", "joint", 4, everyone)])
    assert ("signal", None) not in respondent.got


def test_without_a_hole_an_offer_goes_at_once():
    respondent = Recorder(RESPONDENT, "joint")
    hub, _ = feed_with(respondent, next_joint=6)
    hub._dispatch_wires("s-1", [wire("signal", "joint", None, {RESPONDENT}, {"kind": "offer"})])
    assert respondent.got == [("signal", None)]
