"""The case state machine as a property: random sequences of what parties, mediators, the
scheduler and other services can do, sent through the API, never reach an illegal state, and every
refused step is a clear 4xx problem (never a crash)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from services.intake import deadlines, events, states
from services.intake.app import create_app
from services.intake.models import AgreementSignature, Case, CaseTransition, Consent
from shared.config import Settings
from tests.support.apps import running

from .conftest import KZ_ATM, KZ_CONSENT, Driver, bearer, calm_answers

OPS = ["invite", "consent", "decline", "screen_claimant", "screen_respondent", "screen_respondent_afraid",
       "propose", "accept_respondent", "reject_respondent", "mediator_accept", "mediator_decline", "recuse",
       "sign_claimant", "sign_respondent", "sign_mediator", "withdraw", "futile", "no_agreement",
       "session_started", "settled", "window_passes", "term_passes"]


def test_the_transition_table_is_closed_and_terminal_states_stay_terminal():
    targets = {t for moves in states.TRANSITIONS.values() for t in moves.values()}
    assert targets <= set(states.STATUSES)
    for moves in states.TRANSITIONS.values():
        assert not set(moves) & states.TERMINAL
    reachable, frontier = {"filed"}, ["filed"]
    while frontier:
        s = frontier.pop()
        for moves in states.TRANSITIONS.values():
            if s in moves and moves[s] not in reachable:
                reachable.add(moves[s])
                frontier.append(moves[s])
    assert reachable == set(states.STATUSES)


class World:
    """One running intake app shared by every example (starting one per example would be slow)."""

    def __init__(self, tmp_path) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = create_app(Settings(data_dir=tmp_path, dev_mode=True), configure_logs=False)
        self.cm = running(self.app)
        self.client = self.run(self.cm.__aenter__())
        self.d = Driver(self.client)
        admin = self.run(self.d.admin())
        self.mediators = [self.run(self.d.mediator(admin, capacity=200))[0] for _ in range(2)]
        self.mediator_headers = {m: self.run(self.d.token("mediator", m)) for m in self.mediators}

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.cm.__aexit__(None, None, None))
        self.loop.close()


class Example:
    def __init__(self, world: World) -> None:
        self.w, self.c = world, world.client
        self.case_id = ""
        self.claimant: dict = {}
        self.respondent: dict | None = None
        self.link: str | None = None
        self.proposal: str | None = None
        self.mediator: str | None = None

    async def start(self) -> None:
        self.case_id, self.claimant = await self.w.d.file()

    def party(self, side: str) -> dict | None:
        return self.claimant if side == "claimant" else self.respondent

    async def do(self, op: str, pick: int):
        c, case = self.c, f"/cases/{self.case_id}"
        m = self.w.mediators[pick % 2]
        mh = self.w.mediator_headers[self.mediator or m]
        if op == "invite":
            r = await c.post(f"{case}/invitations", json={"side": "respondent"}, headers=self.claimant)
            if r.status_code == 201:
                self.link = r.json()["link_token"]
            return r
        if op in ("consent", "decline"):
            if not self.link:
                return None
            r = await c.post(f"/invitations/{self.link}/answer",
                             json={"decision": op, "text_version": KZ_CONSENT})
            if r.status_code == 200 and r.json()["access_token"]:
                self.respondent = bearer(r.json()["access_token"])
            return r
        if op.startswith("screen_"):
            side = op.split("_")[1]
            who = self.party(side)
            if who is None:
                return None
            extra = {"fear_level": 3, "safe_in_same_room": False} if op.endswith("afraid") else {}
            return await c.post(f"{case}/screening", json=calm_answers(**extra), headers=who)
        if op == "propose":
            r = await c.post(f"{case}/mediator-proposals", json={"mediator_id": m}, headers=self.claimant)
            if r.status_code == 201:
                self.proposal, self.mediator = r.json()["id"], m
            return r
        if op in ("accept_respondent", "reject_respondent"):
            if not (self.proposal and self.respondent):
                return None
            verb = op.split("_")[0]
            return await c.post(f"{case}/mediator-proposals/{self.proposal}/{verb}", headers=self.respondent)
        if op in ("mediator_accept", "mediator_decline"):
            if not self.proposal:
                return None
            body = {"decision": op.split("_")[1], "impartiality_declaration": True}
            return await c.post(f"{case}/mediator-proposals/{self.proposal}/decision", json=body, headers=mh)
        if op == "recuse":
            return await c.post(f"{case}/mediator/recusal", json={"reason": "conflict found"}, headers=mh)
        if op.startswith("sign_"):
            who = mh if op == "sign_mediator" else self.party(op.split("_")[1])
            if who is None:
                return None
            return await c.post(f"{case}/agreement-to-mediate/signatures", json={"text_version": KZ_ATM}, headers=who)
        if op == "withdraw":
            return await c.post(f"{case}/termination", json={"reason": "withdrawn"}, headers=self.claimant)
        if op in ("futile", "no_agreement"):
            return await c.post(f"{case}/termination", headers=mh,
                                json={"reason": op, "parties_written_consent": True})
        runtime = self.w.app.state.runtime
        async with runtime.uow() as uow:
            if op == "session_started":
                await events.on_session_started(uow, self.case_id)
                await uow.commit()
            elif op == "settled":
                await events.on_agreement_signed(uow, self.case_id)
                await uow.commit()
            elif op == "window_passes":
                await deadlines.expire_invitations(uow, now=datetime.now(timezone.utc) + timedelta(days=12))
            elif op == "term_passes":
                await deadlines.expire_terms(uow, now=datetime.now(timezone.utc) + timedelta(days=400))
        return None

    async def check(self) -> str:
        """The invariants: every recorded move is in the table and chains from the previous one;
        nothing leaves a terminal state; each status has what it needs behind it."""
        async with self.w.app.state.runtime.uow() as uow:
            s = uow.session
            case = await s.get(Case, self.case_id)
            moves = (await s.execute(select(CaseTransition).where(CaseTransition.case_id == self.case_id)
                                     .order_by(CaseTransition.id))).scalars().all()
            consents = {c.side: c.decision for c in (await s.execute(
                select(Consent).where(Consent.case_id == self.case_id))).scalars()}
            signatures = (await s.execute(select(AgreementSignature).where(
                AgreementSignature.case_id == self.case_id,
                AgreementSignature.mediator_id == case.mediator_id))).scalars().all()
            assert case.status in states.STATUSES
            assert moves[0].to_status == "filed" and moves[-1].to_status == case.status
            for before, after in zip(moves, moves[1:]):
                assert after.from_status == before.to_status
                assert before.to_status not in states.TERMINAL
                assert states.TRANSITIONS[after.operation][after.from_status] == after.to_status
            later = {"screening", "needs_review", "eligible", "mediator_agreed", "agreement_signed", "in_session",
                     "settled", "referred_out"}
            if case.status in later:
                assert consents == {"claimant": "consented", "respondent": "consented"}
            if case.status == "declined":
                assert consents.get("respondent") != "consented"
            if case.status in ("mediator_agreed", "agreement_signed", "in_session"):
                assert case.mediator_id is not None
            if case.status in ("agreement_signed", "in_session"):
                assert {x.signer for x in signatures} == {"claimant", "respondent", "mediator"}
                assert case.term_ends_on is not None
            if case.status in states.TERMINAL:
                assert case.outcome is not None
            return case.status

    async def finish(self) -> None:
        await self.c.post(f"/cases/{self.case_id}/termination", json={"reason": "withdrawn"}, headers=self.claimant)


def test_random_operation_sequences_never_reach_an_illegal_state(tmp_path):
    world = World(tmp_path)
    # sequences biased towards progress so that the later states are reached often
    progress = ["invite", "consent", "screen_claimant", "screen_respondent", "propose", "accept_respondent",
                "mediator_accept", "sign_claimant", "sign_respondent", "sign_mediator", "session_started", "settled"]
    op = st.one_of(st.sampled_from(OPS), st.sampled_from(progress))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(op, st.integers(0, 1)), min_size=1, max_size=18))
    def run(ops):
        async def go():
            ex = Example(world)
            await ex.start()
            for name, pick in ops:
                r = await ex.do(name, pick)
                if r is not None:
                    assert r.status_code < 500, (name, r.text)
                    if r.status_code >= 400:
                        assert r.headers["content-type"] == "application/problem+json"
                before = await ex.check()
            await ex.finish()
            return before

        world.run(go())

    try:
        run()
    finally:
        world.close()


def test_sequences_reach_the_end_of_the_machine(tmp_path):
    """The happy path through the same driver ends settled (the property test above is not vacuous)."""
    world = World(tmp_path)
    try:
        async def go():
            ex = Example(world)
            await ex.start()
            for name in ["invite", "consent", "screen_claimant", "screen_respondent", "propose", "accept_respondent",
                         "mediator_accept", "sign_claimant", "sign_respondent", "sign_mediator", "session_started",
                         "settled"]:
                r = await ex.do(name, 0)
                assert r is None or r.status_code < 400, (name, r.text)
            return await ex.check()

        assert world.run(go()) == "settled"
    finally:
        world.close()
