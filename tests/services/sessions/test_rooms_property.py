"""The isolation property of the room, over random schedules (hypothesis): joins, admissions,
moves, caucuses opening and closing, mode switches, chat, proposals, signalling, presence,
disconnects and reconnects with resume.

* Nobody ever receives anything from a channel they were not in at that moment (signalling
  included); mediator-only frames reach only the mediator.
* A refused operation changes nothing.
* Every channel's sequence is gap-free, and after everyone reconnects and resumes, each
  participant has received exactly the items said in each channel while they were in it, once
  each, in order: resume delivers exactly what was missed.
* The media plane: clients modelled as the browser client behaves (connect to everyone in your
  channel; drop the peers named by ``media.drop``, everyone outside your new channel on
  ``location``, the sender of a hang-up, and on reconnect everyone not in your channel) never hold
  an audio/video connection with anyone outside their channel once an operation's frames are in.
  A client whose room connection is down sends no media (it holds its tracks) until it is back.
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings, strategies as st

from services.sessions.rooms import CHANNELS, LOCATIONS, Member, RoomError, RoomState

MEMBERS = {
    "m": Member("m", "mediator"),
    "c1": Member("c1", "party", "claimant"),
    "c2": Member("c2", "representative", "claimant"),
    "r1": Member("r1", "party", "respondent"),
    "s1": Member("s1", "support_person", "respondent"),
}
PIDS = sorted(MEMBERS)
CONTENT = {"chat", "proposal", "document", "proposal.accept", "proposal.accepted", "typing", "signal"}

actors = st.sampled_from(PIDS)
ops = st.one_of(
    st.just({"type": "session.start"}),
    st.builds(lambda ids: {"type": "admit", "participant_ids": ids}, st.lists(st.sampled_from(PIDS), min_size=1, max_size=3)),
    st.builds(lambda p, to: {"type": "move", "participant_id": p, "to": to}, st.sampled_from(PIDS), st.sampled_from(LOCATIONS)),
    st.builds(lambda s, w: {"type": "caucus.open", "side": s, "with_side": w}, st.sampled_from(["claimant", "respondent"]), st.booleans()),
    st.builds(lambda s: {"type": "caucus.close", "side": s}, st.sampled_from(["claimant", "respondent"])),
    st.builds(lambda m: {"type": "mode", "mode": m}, st.sampled_from(["joint", "shuttle"])),
    st.builds(lambda i: {"type": "chat", "id": f"c{i}", "text": "x" * (i % 7 + 1)}, st.integers(0, 10**6)),
    st.builds(lambda i: {"type": "proposal", "id": f"p{i}", "summary": "offer", "proposal_id": f"prop{i % 3}"}, st.integers(0, 10**6)),
    st.builds(lambda i: {"type": "proposal.accept", "id": f"a{i}", "proposal_id": f"prop{i % 3}"}, st.integers(0, 10**6)),
    st.builds(lambda i: {"type": "proposal.present", "proposal_id": f"prop{i % 3}"}, st.integers(0, 10**6)),
    st.just({"type": "typing", "active": True}),
    st.builds(lambda to, k: {"type": "signal", "to": to, "kind": k, "data": {"sdp": "v=0"}}, st.sampled_from(PIDS),
              st.sampled_from(["offer", "answer", "ice", "hangup"])),
    st.builds(lambda s: {"type": "speaking", "seconds": s}, st.floats(0.1, 60)),
    st.just({"type": "balance"}),
    st.just({"type": "consent.transcript", "keep": True}),
    st.builds(lambda a, v: {"type": "media", "audio": a, "video": v}, st.booleans(), st.booleans()),
)
rare_end = st.just({"type": "session.end"})
steps = st.lists(st.one_of(
    st.tuples(st.just("op"), actors, ops),
    st.tuples(st.just("op"), actors, ops),
    st.tuples(st.just("op"), actors, ops),
    st.tuples(st.just("disconnect"), actors, st.none()),
    st.tuples(st.just("reconnect"), actors, st.none()),
), min_size=1, max_size=80).flatmap(
    lambda s: st.tuples(st.just(s), st.booleans()).map(lambda t: t[0] + ([("op", "m", {"type": "session.end"})] if t[1] else [])))
safeguards = st.sets(st.sampled_from(["shuttle_only", "no_joint_session", "staggered_join", "support_person"]))


OPENING = [("op", "m", {"type": "session.start"}),
           ("op", "m", {"type": "caucus.open", "side": "claimant", "with_side": False}),
           ("op", "m", {"type": "caucus.open", "side": "respondent", "with_side": False}),
           *[("op", "m", {"type": "admit", "participant_ids": [p]}) for p in PIDS if p != "m"]]


def mostly_mediator(schedule):
    """Start the session, then give the mediator's operations to the mediator half of the time
    so that schedules get somewhere; everything else is as drawn."""
    mediator_ops = {"admit", "move", "caucus.open", "caucus.close", "mode", "proposal.present", "balance"}
    return OPENING + [(kind, "m" if kind == "op" and op["type"] in mediator_ops and i % 2 else who, op)
                      for i, (kind, who, op) in enumerate(schedule)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, safeguards)
def test_nobody_receives_anything_from_a_channel_they_were_not_in(schedule, guards):
    state = RoomState(members=dict(MEMBERS), safeguards=frozenset(guards))
    online = {p: True for p in PIDS}
    received = {p: {ch: [] for ch in CHANNELS} for p in PIDS}
    log = {ch: [] for ch in CHANNELS}  # (seq, audience) as stored
    links = {p: set() for p in PIDS}  # the audio/video connections each browser holds

    def connect_channel_members():
        """Everyone online calls everyone online in their channel (signalling allows only that)."""
        for p in PIDS:
            for q in PIDS:
                if p != q and online[p] and online[q] and state.status == "live" \
                        and state.location(p) == state.location(q) != "waiting":
                    links[p].add(q)

    def media_isolated():
        for p in PIDS:
            if online[p]:
                for q in links[p]:
                    assert state.location(q) == state.location(p) != "waiting", f"{p} still holds media with {q}"

    def resume(pid):
        for ch in CHANNELS:
            last = received[pid][ch][-1] if received[pid][ch] else 0
            received[pid][ch] += [seq for seq, aud in log[ch] if seq > last and pid in aud]

    for kind, who, op in mostly_mediator(schedule):
        if kind == "disconnect":
            online[who] = False
            continue
        if kind == "reconnect":
            online[who] = True
            resume(who)
            links[who] = {q for q in links[who] if state.location(q) == state.location(who) != "waiting"}  # welcome
            media_isolated()
            connect_channel_members()
            continue
        before_locs = dict(state.locations)
        before = copy.deepcopy(state.to_json())
        try:
            result = state.apply(who, dict(op))
        except RoomError:
            assert state.to_json() == before, "a refused operation changed the room"
            continue
        after_locs = dict(state.locations)
        if "shuttle_only" in guards or "no_joint_session" in guards:
            assert not any(loc == "joint" for loc in after_locs.values())
        if state.mode == "shuttle":
            sides = {MEMBERS[p].side for p, loc in after_locs.items() if loc == "joint" and not MEMBERS[p].is_mediator}
            assert not sides, "parties share the joint channel in shuttle mode"
        for ch in CHANNELS[1:]:
            side = ch.split(":")[1]
            assert all(MEMBERS[p].is_mediator or MEMBERS[p].side == side for p, loc in after_locs.items() if loc == ch)
        for item in result.items:
            for pid in item.audience:
                if item.kind in ("roster",):
                    assert MEMBERS[pid].is_mediator
                elif item.kind == "location":
                    assert item.audience == (item.body.get("location") and pid,)
                    assert (pid in item.body["members"]) == (item.body["location"] != "waiting")
                    if online[pid]:
                        links[pid] &= set(item.body["members"])
                elif item.kind == "media.drop":
                    assert all(before_locs[pid] == before_locs[q] for q in item.body["peers"])
                    if online[pid]:
                        links[pid] -= set(item.body["peers"])
                elif item.kind == "presence":
                    subject = item.body["participant_id"]
                    assert MEMBERS[pid].is_mediator or after_locs[pid] == after_locs[subject] != "waiting"
                elif item.kind == "member.left":
                    assert before_locs[pid] == item.channel
                elif item.kind == "member.joined":
                    assert after_locs[pid] == item.channel
                elif item.kind == "signal" and item.body["kind"] == "hangup":
                    assert item.channel is None and item.body["data"] is None
                    if online[pid]:
                        links[pid].discard(who)
                elif item.kind in CONTENT:
                    assert before_locs[pid] == after_locs[pid] == item.channel, (item.kind, pid)
                elif item.kind in ("session.ended", "consent"):
                    pass
                elif item.kind == "session.started":  # to everyone, no content, no channel
                    assert item.channel is None and item.body == {"status": "live"}
                else:
                    raise AssertionError(f"unchecked item kind {item.kind}")
            if item.kind == "signal" and item.body["kind"] != "hangup":
                assert item.audience == (op["to"],) and after_locs[who] == after_locs[op["to"]] == item.channel
            if item.seq is not None:
                assert item.seq == len(log[item.channel]) + 1, "a channel's sequence has a gap"
                log[item.channel].append((item.seq, item.audience))
                for pid in item.audience:
                    if online[pid]:
                        received[pid][item.channel].append(item.seq)
        if op["type"] == "balance":
            assert MEMBERS[who].is_mediator and result.reply["type"] == "balance"
        media_isolated()
        connect_channel_members()
    for pid in PIDS:
        online[pid] = True
        resume(pid)
        for ch in CHANNELS:
            assert received[pid][ch] == [seq for seq, aud in log[ch] if pid in aud]


def test_a_membership_change_is_seen_by_the_one_who_moves():
    state = RoomState(members=dict(MEMBERS))
    state.apply("m", {"type": "session.start"})
    state.apply("m", {"type": "admit", "participant_ids": ["c1", "r1"]})
    result = state.apply("m", {"type": "caucus.open", "side": "claimant"})
    left = [i for i in result.items if i.kind == "member.left" and i.body["participant_id"] == "c1"]
    joined = [i for i in result.items if i.kind == "member.joined" and i.body["participant_id"] == "c1"]
    assert "c1" in left[0].audience and "r1" in left[0].audience and left[0].body["to"] == "caucus"
    assert "c1" in joined[0].audience and "r1" not in joined[0].audience


def test_a_caucus_tells_everyone_whom_to_drop_before_the_move_is_announced():
    state = RoomState(members=dict(MEMBERS))
    state.apply("m", {"type": "session.start"})
    state.apply("m", {"type": "admit", "participant_ids": ["c1", "r1"]})
    items = state.apply("m", {"type": "caucus.open", "side": "claimant"}).items
    drops = [(i.audience, i.body["peers"]) for i in items if i.kind == "media.drop"]
    # the mediator leaves the joint channel first (c1 and r1 drop them), then c1 (r1 and c1 part)
    assert (("m",), ["c1", "r1"]) in drops and (("r1",), ["m"]) in drops
    assert (("c1",), ["r1"]) in drops and (("r1",), ["c1"]) in drops
    first_drop = min(n for n, i in enumerate(items) if i.kind == "media.drop" and "c1" in i.body["peers"])
    c1_left = next(n for n, i in enumerate(items) if i.kind == "member.left" and i.body["participant_id"] == "c1")
    assert first_drop < c1_left
    location = next(i for i in items if i.kind == "location" and i.audience == ("c1",))
    assert location.body == {"location": "caucus:claimant", "members": ["c1", "m"]}


def test_a_hang_up_is_relayed_across_channels_without_data():
    state = RoomState(members=dict(MEMBERS))
    state.apply("m", {"type": "session.start"})
    state.apply("m", {"type": "admit", "participant_ids": ["c1", "r1"]})
    state.apply("m", {"type": "caucus.open", "side": "claimant"})
    try:
        state.apply("c1", {"type": "signal", "to": "r1", "kind": "offer", "data": {"sdp": "v=0"}})
    except RoomError as exc:
        assert exc.code == "not-in-channel"
    else:
        raise AssertionError("an offer crossed a caucus")
    [item] = state.apply("c1", {"type": "signal", "to": "r1", "kind": "hangup", "data": {"x": 1}}).items
    assert item.audience == ("r1",) and item.channel is None and item.body == {"kind": "hangup", "data": None}


def test_the_mediator_sees_whose_camera_is_on_and_a_closed_connection_turns_it_off():
    state = RoomState(members=dict(MEMBERS))
    [roster] = state.apply("c1", {"type": "media", "audio": True, "video": False}).items
    assert roster.kind == "roster" and roster.audience == ("m",) and roster.body["media"] == {"c1": {"audio": True, "video": False}}
    assert state.apply("c1", {"type": "media", "audio": True, "video": False}).items == []
    items = state.apply("c1", {"type": "presence", "online": False}).items
    assert [i.body["media"] for i in items if i.kind == "roster"] == [{}]


def test_the_console_knows_who_is_here_waiting_room_included():
    """Presence is kept in the room: a mediator who connects after the parties sees them online in
    the waiting room (roster and welcome), and not once their last connection closed."""
    state = RoomState(members=dict(MEMBERS))
    state.apply("c1", {"type": "presence", "online": True})
    state.apply("r1", {"type": "presence", "online": True})
    state.apply("r1", {"type": "presence", "online": True})  # a second tab
    state.apply("r1", {"type": "presence", "online": False})
    assert state.online_ids() == ["c1", "r1"]
    state.apply("c1", {"type": "presence", "online": False})
    assert state.online_ids() == ["r1"]
    roster = state.apply("m", {"type": "session.start"}).items[-1]
    assert roster.kind == "roster" and roster.body["online"] == ["r1"] and roster.body["locations"]["r1"] == "waiting"
    again = RoomState.from_json(state.to_json(), members=dict(MEMBERS))  # another process reads the row
    assert again.online_ids() == ["r1"]


def test_moving_a_party_into_their_sides_caucus_opens_it():
    state = RoomState(members=dict(MEMBERS))
    state.apply("m", {"type": "session.start"})
    state.apply("m", {"type": "admit", "participant_ids": ["c1", "r1"]})
    result = state.apply("m", {"type": "move", "participant_id": "c1", "to": "caucus:claimant"})
    assert state.caucuses == {"claimant"} and state.location("c1") == "caucus:claimant"
    assert [e.name for e in result.events] == ["caucus_opened"]
    assert result.items[-1].body["caucuses"] == ["claimant"]
    # never into the other side's caucus, and that one stays closed
    try:
        state.apply("m", {"type": "move", "participant_id": "r1", "to": "caucus:claimant"})
    except RoomError as err:
        assert err.code == "invalid-target"
    else:
        raise AssertionError("a respondent was placed in the claimant's caucus")
    assert state.caucuses == {"claimant"}
