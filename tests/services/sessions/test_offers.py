"""Blind offers (``services/sessions/offers.py``): the rules, the state machine, and who is told
what. The property test at the end drives random schedules of offers and checks that what each
person receives depends on nothing it may not know."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.sessions import offers
from services.sessions.offers import MAX_AMOUNT, Hidden, crosses, figure, settlement, step
from services.sessions.rooms import Member, RoomError

MEMBERS = {
    "m": Member("m", "mediator"),
    "c1": Member("c1", "party", "claimant"),
    "c2": Member("c2", "representative", "claimant"),
    "r1": Member("r1", "party", "respondent"),
    "i1": Member("i1", "interpreter", "respondent"),
}
CLAIMANT_SIDE, RESPONDENT_SIDE = ("c1", "c2"), ("r1",)


class Case:
    """One case's offers driven step by step, keeping what each person was sent."""

    def __init__(self) -> None:
        self.process = None
        self.hidden = None
        self.count = 0
        self.got: dict[str, list[dict]] = {pid: [] for pid in MEMBERS}
        self.events: list[dict] = []

    def do(self, actor: str, op: dict) -> dict:
        try:
            s = step(self.process, self.hidden, members=MEMBERS, actor=actor, op=op, processes=self.count,
                     new_id=f"P{self.count + 1}")
        except RoomError as err:
            frame = {"type": "error", "code": err.code}
            self.got[actor].append(frame)
            return frame
        if s.process is not None and (self.process is None or s.process.id != self.process.id):
            self.count += 1
        self.process, self.hidden = s.process, s.hidden
        for item in s.notices:
            assert item.channel is None and item.seq is None and len(item.audience) == 1
            self.got[item.audience[0]].append(item.frame())
        if s.settled:
            self.events.append({"proposal_accepted": s.process.proposal_id})
        if s.reply is not None:
            self.got[actor].append(s.reply)
        return s.reply

    @property
    def pid(self) -> str:
        return self.process.id

    def opened(self, **terms) -> "Case":
        self.do("m", {"type": "offers.propose", **terms})
        self.do("c1", {"type": "offers.agree", "process_id": self.pid})
        self.do("r1", {"type": "offers.agree", "process_id": self.pid})
        assert self.process.status == "open"
        return self

    def offer(self, actor: str, amount: int, round_: int | None = None) -> dict:
        return self.do(actor, {"type": "offers.submit", "process_id": self.pid,
                               "round": round_ or self.process.round, "amount": amount})

    def last(self, pid: str) -> dict:
        """The last ``offers`` frame ``pid`` got."""
        return [f for f in self.got[pid] if f["type"] == "offers"][-1]


# -- the rules ---------------------------------------------------------------------------------


def test_midpoint_crosses_when_the_ask_is_at_most_the_bid_and_splits_the_difference_rounding_down():
    assert crosses(rule="midpoint", band_percent=0, ask=100_00, bid=100_00)
    assert crosses(rule="midpoint", band_percent=0, ask=90_00, bid=100_00)
    assert not crosses(rule="midpoint", band_percent=0, ask=100_01, bid=100_00)
    assert figure(ask=90_00, bid=100_01) == 95_00  # 9500.5 tiyn, rounded down
    assert settlement(rule="midpoint", band_percent=0, ask=100_00, bid=120_00) == 110_00
    assert settlement(rule="midpoint", band_percent=0, ask=130_00, bid=120_00) is None


def test_the_band_rule_also_settles_a_gap_within_the_agreed_percentage_of_the_ask():
    assert crosses(rule="midpoint-band", band_percent=10, ask=100_00, bid=90_00)  # gap exactly 10 %
    assert not crosses(rule="midpoint-band", band_percent=10, ask=100_00, bid=89_99)
    assert settlement(rule="midpoint-band", band_percent=10, ask=100_00, bid=90_00) == 95_00
    assert settlement(rule="midpoint-band", band_percent=10, ask=80_00, bid=90_00) == 85_00
    assert not crosses(rule="midpoint", band_percent=10, ask=100_00, bid=90_00)  # the band belongs to its rule


# -- the process -------------------------------------------------------------------------------


def test_two_sides_settle_in_the_second_round_and_the_figure_becomes_a_proposal_both_confirm():
    case = Case()
    case.do("m", {"type": "offers.propose", "currency": "KZT", "max_rounds": 3})
    assert case.last("c1")["status"] == "proposed" and case.last("m")["agreed"] == []
    case.do("c1", {"type": "offers.agree", "process_id": case.pid})
    case.do("r1", {"type": "offers.agree", "process_id": case.pid})
    assert case.last("m")["status"] == "open" and case.last("m")["round"] == 1

    case.offer("c1", 200_000_00)
    case.offer("r1", 120_000_00)
    for pid in ("c1", "c2", "r1", "m"):
        assert case.last(pid)["status"] == "open" and case.last(pid)["round"] == 2
        assert case.last(pid)["rounds_used"] == 1 and "figure" not in case.last(pid)
    case.offer("r1", 160_000_00)
    step_reply = case.offer("c2", 150_000_00)
    assert step_reply == {"type": "ack", "op": "offers.submit", "round": 2}
    assert case.last("c1")["status"] == "crossed" and case.last("c1")["figure"] == 155_000_00
    assert case.last("r1")["figure"] == 155_000_00
    assert case.last("c1")["my_offers"] == [200_000_00, 150_000_00] and case.last("r1")["my_offers"] == [120_000_00, 160_000_00]
    assert "figure" not in case.last("m") and case.last("m")["rounds_used"] == 2

    case.do("c1", {"type": "offers.confirm", "process_id": case.pid})
    assert case.last("m")["confirmed"] == ["claimant"] and case.events == []
    case.do("r1", {"type": "offers.confirm", "process_id": case.pid})
    assert case.last("m")["status"] == "settled" and case.events == [{"proposal_accepted": case.process.proposal_id}]
    assert case.last("m")["proposal_id"] == case.process.proposal_id


def test_a_crossed_round_yields_the_proposal_content_to_store_sealed():
    process = Case().opened().process
    s1 = step(process, Hidden(), members=MEMBERS, actor="c1",
              op={"type": "offers.submit", "process_id": process.id, "round": 1, "amount": 100_000_00}, processes=1)
    s2 = step(s1.process, s1.hidden, members=MEMBERS, actor="r1",
              op={"type": "offers.submit", "process_id": process.id, "round": 1, "amount": 100_000_01}, processes=1)
    assert s1.proposal is None
    assert s2.proposal == {"proposal_id": s2.process.proposal_id, "author": f"offers:{process.id}",
                           "summary": "Payment of 100000.00 KZT",
                           "terms": ["The respondent pays the claimant 100000.00 KZT.",
                                     "Settled by blind offers (midpoint, round 1)."]}
    assert process.status == "open" and s1.process.status == "open"  # steps never change their arguments


def test_the_first_offer_of_a_round_is_told_to_its_own_side_only():
    case = Case().opened()
    before = {pid: len(frames) for pid, frames in case.got.items()}
    case.offer("r1", 50_00)
    assert case.last("r1")["offered"] is True
    assert {pid: len(frames) - before[pid] for pid, frames in case.got.items()} == {"m": 0, "c1": 0, "c2": 0, "r1": 2, "i1": 0}  # its offers frame and the ack
    case.do("c1", {"type": "offers.status"})
    assert case.last("c1")["offered"] is False and case.last("c1")["my_offers"] == []
    case.do("m", {"type": "offers.status"})
    assert "offered" not in case.last("m")


def test_rounds_run_out_without_crossing():
    case = Case().opened(max_rounds=2)
    for _ in range(2):
        case.offer("c1", 300_00)
        case.offer("r1", 100_00)
    assert case.last("m")["status"] == "exhausted" and case.last("m")["rounds_used"] == 2
    assert case.offer("c1", 100_00, round_=2)["code"] == "offers-ended"
    assert case.got["i1"] == []  # interpreters and support persons are not told about offers


def test_refusals_have_documented_codes_and_change_nothing():
    case = Case()
    assert case.do("c1", {"type": "offers.agree", "process_id": "nope"})["code"] == "offers-none"
    case.do("c1", {"type": "offers.propose", "rule": "midpoint-band", "band_percent": 10, "max_rounds": 2})
    assert case.process.agreed == ["claimant"] and case.process.proposed_by == "claimant"
    assert case.do("m", {"type": "offers.propose"})["code"] == "offers-state"
    assert case.do("c1", {"type": "offers.submit", "process_id": case.pid, "round": 1, "amount": 5})["code"] == "offers-state"
    assert case.do("r1", {"type": "offers.confirm", "process_id": case.pid})["code"] == "offers-state"
    assert case.do("i1", {"type": "offers.agree", "process_id": case.pid})["code"] == "forbidden"
    assert case.do("m", {"type": "offers.agree", "process_id": case.pid})["code"] == "forbidden"
    assert case.do("c2", {"type": "offers.agree", "process_id": case.pid})["duplicate"] is True
    case.do("r1", {"type": "offers.agree", "process_id": case.pid})
    assert case.do("m", {"type": "offers.submit", "process_id": case.pid, "round": 1, "amount": 5})["code"] == "forbidden"
    for bad in (0, -1, MAX_AMOUNT + 1, 1.5, True, "100"):
        assert case.offer("c1", bad)["code"] == "validation-error"
    assert case.offer("c1", 100_00, round_=2)["code"] == "offers-round"
    case.offer("c1", 100_00)
    assert case.offer("c2", 100_00)["duplicate"] is True  # a resend is harmless
    assert case.offer("c2", 90_00)["code"] == "offers-made"
    assert case.hidden.rounds == [{"claimant": 100_00}]
    assert case.do("r1", {"type": "offers.cancel", "process_id": "other"})["code"] == "offers-none"
    case.do("r1", {"type": "offers.cancel", "process_id": case.pid})
    assert case.last("m")["status"] == "cancelled"
    assert case.offer("r1", 100_00, round_=1)["code"] == "offers-ended"
    assert case.do("c1", {"type": "offers.confirm", "process_id": case.pid})["code"] == "offers-ended"


@pytest.mark.parametrize("terms", [{"currency": "XXX"}, {"rule": "first-to-cross"}, {"max_rounds": 0},
                                   {"max_rounds": offers.MAX_ROUNDS + 1}, {"rule": "midpoint-band", "band_percent": 0},
                                   {"rule": "midpoint-band", "band_percent": offers.MAX_BAND_PERCENT + 1}])
def test_bad_terms_are_refused(terms):
    assert Case().do("m", {"type": "offers.propose", **terms})["code"] == "validation-error"


def test_a_case_has_a_bounded_number_of_processes():
    case = Case()
    for _ in range(offers.MAX_PROCESSES):
        case.do("m", {"type": "offers.propose"})
        case.do("m", {"type": "offers.cancel", "process_id": case.pid})
    assert case.do("c1", {"type": "offers.propose"})["code"] == "offers-limit"


# -- the property: nobody learns more than the outcome --------------------------------------------

ACTORS = sorted(MEMBERS)
amounts = st.one_of(st.integers(1, 40), st.integers(1, MAX_AMOUNT), st.sampled_from([0, MAX_AMOUNT + 1]))
offer_ops = st.one_of(
    st.builds(lambda c, r, b, n: {"type": "offers.propose", "currency": c, "rule": r,
                                  **({"band_percent": b} if r == "midpoint-band" else {}), "max_rounds": n},
              st.sampled_from(["KZT", "USD"]), st.sampled_from(["midpoint", "midpoint-band"]), st.integers(1, 20),
              st.integers(1, 4)),
    st.builds(lambda good: {"type": "offers.agree", "process_id": "$P" if good else "other"}, st.booleans()),
    st.builds(lambda a, r: {"type": "offers.submit", "process_id": "$P", "round": r, "amount": a},
              amounts, st.sampled_from(["$R", "$R", "$R", 1, 2])),
    st.builds(lambda a: {"type": "offers.submit", "process_id": "$P", "round": "$R", "amount": a}, amounts),
    st.just({"type": "offers.confirm", "process_id": "$P"}),
    st.just({"type": "offers.status"}),
)
rare_cancel = st.just({"type": "offers.cancel", "process_id": "$P"})
offering = st.tuples(st.sampled_from(["c1", "c2", "r1"]),
                     st.builds(lambda a: {"type": "offers.submit", "process_id": "$P", "round": "$R", "amount": a},
                               st.one_of(st.integers(1, 40), st.integers(1, MAX_AMOUNT))))
anything = st.tuples(st.sampled_from(ACTORS), offer_ops)
cancelling = st.tuples(st.sampled_from(ACTORS), rare_cancel)
schedules = st.lists(st.integers(0, 59).flatmap(lambda n: cancelling if n == 0 else offering if n < 36 else anything),
                     min_size=1, max_size=60)


def run(schedule):
    """Run a schedule (``$P``: the current process, ``$R``: its round). Returns the case, the
    (process, round) each offer was made for, and the rounds that crossed."""
    case = Case()
    landed: dict[int, tuple[str, int]] = {}
    rounds: dict[str, tuple[str, int, list[dict]]] = {}
    for i, (actor, op) in enumerate(schedule):
        op = dict(op)
        if op.get("process_id") == "$P":
            op["process_id"] = case.process.id if case.process else "none"
        if op.get("round") == "$R":
            op["round"] = case.process.round if case.process and case.process.round else 1
        if op["type"] == "offers.submit" and case.process is not None:
            landed[i] = (case.process.id, op["round"])
        before = {pid: len(frames) for pid, frames in case.got.items()}
        round_before = case.process.round if case.process else None
        case.do(actor, op)
        told = {pid for pid, frames in case.got.items() if len(frames) > before[pid]}
        if op["type"] == "offers.submit" and case.process.status == "open" and case.process.round == round_before:
            # an offer that leaves its round open is news to its own side only: nobody else
            # learns who offered first, or that anyone did
            assert told <= set(offers.acting(MEMBERS, MEMBERS[actor].side)) | {actor}, (actor, told)
        if case.process is not None:
            rounds[case.process.id] = (case.process.rule, case.process.band_percent, case.hidden.rounds)
    crossed = {(pid, n) for pid, (rule, band, rs) in rounds.items() for n, r in enumerate(rs, 1)
               if len(r) == 2 and crosses(rule=rule, band_percent=band, ask=r["claimant"], bid=r["respondent"])}
    return case, landed, crossed


def masked(schedule, landed, crossed, *, sides: tuple[str, ...], figures: bool):
    """The schedule with the valid offers of ``sides`` replaced: in rounds that did not cross, the
    claimant's by the highest amount and the respondent's by the lowest (which cross nothing that
    did not cross); in crossed rounds, unless ``figures`` (the observer may know the figure), by
    1 and 1, which cross."""
    out = []
    for i, (actor, op) in enumerate(schedule):
        member = MEMBERS[actor]
        side = member.side if member.role in offers.ACTING_ROLES else None
        amount = op.get("amount")
        if (op["type"] == "offers.submit" and side in sides and i in landed and type(amount) is int
                and 1 <= amount <= MAX_AMOUNT):
            if landed[i] not in crossed:
                op = {**op, "amount": MAX_AMOUNT if side == "claimant" else 1}
            elif not figures:
                op = {**op, "amount": 1}
        out.append((actor, op))
    return out


def observed(case: Case, people) -> str:
    return json.dumps([case.got[p] for p in people], sort_keys=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules)
def test_no_sequence_of_offers_tells_anyone_more_than_the_outcome_and_the_agreed_figure(schedule):
    # every schedule starts with a process both sides agreed to, so that it gets somewhere
    schedule = [("m", {"type": "offers.propose", "max_rounds": 4}), ("c1", {"type": "offers.agree", "process_id": "$P"}),
                ("r1", {"type": "offers.agree", "process_id": "$P"}), *schedule]
    case, landed, crossed = run(schedule)

    # the mediator (and the interpreter): never an amount; the same frames whatever the amounts,
    # figures included, given the same crossed / not crossed outcomes
    for frame in case.got["m"] + case.got["i1"]:
        assert not {"figure", "my_offers", "offered", "amount"} & set(frame), frame
    assert all(set(e) == {"proposal_accepted"} for e in case.events)
    blind, _, blind_crossed = run(masked(schedule, landed, crossed, sides=("claimant", "respondent"), figures=False))
    assert blind_crossed == crossed
    assert observed(blind, ["m", "i1"]) == observed(case, ["m", "i1"])
    assert blind.events == case.events

    # each side: the same frames whatever the other side offered in the rounds that did not cross
    other_low, _, low_crossed = run(masked(schedule, landed, crossed, sides=("respondent",), figures=True))
    assert low_crossed == crossed
    assert observed(other_low, CLAIMANT_SIDE) == observed(case, CLAIMANT_SIDE)
    other_high, _, high_crossed = run(masked(schedule, landed, crossed, sides=("claimant",), figures=True))
    assert high_crossed == crossed
    assert observed(other_high, RESPONDENT_SIDE) == observed(case, RESPONDENT_SIDE)
