"""Audio and video in three Chromiums with fake cameras and microphones (claimant, respondent,
mediator) on the embedded run: everyone receives everyone in the joint channel; after each move of
a seeded random sequence (caucuses opening and closing, the mediator going between channels), no
one receives a media byte from anyone outside their channel later than 1 s after the move, and
people who share a channel again receive each other within RETURN_DEADLINE. Another test loses each
browser's first offer and answer, and the calls still start (the client's own recovery). A last test calls
through coturn with relay-only ICE and TURN credentials issued by the sessions service.

Media is measured with WebRTC's own statistics (inbound-rtp bytes and decoded frames, from
``getStats`` through ``window.odrVideo.inbound()``), not with what the page says."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.client.rooms import Person, enter, open_room
from tests.support.processes import odr_serve

pytestmark = pytest.mark.timeout(420)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEAK_DEADLINE = 1.0  # s after a move by which nobody outside a channel receives anything from it
RETURN_DEADLINE = 20.0  # s after people share a channel again by which media flows between them: ICE and
# DTLS on a loaded 2-core machine running three Chromiums (typically under 2 s on a quiet one) and, when a
# signal was lost or a browser starved, the client's own recovery (video.js Peer.check: a repeated offer or
# an ICE restart after 3 s, a fresh connection 6 s later, then its ICE and DTLS)
JOIN_DEADLINE = 30.0  # s for the first call of all three, which negotiates three pairs at once
SAMPLE = 1.5  # s over which "receives nothing" is observed


ALL: list = []  # this test's browsers, whose logs are printed when media does not flow


class Browser:
    def __init__(self, person: Person, page: Page, artifacts, steps: list) -> None:
        ALL.append(self)
        self.person, self.page, self.artifacts, self.steps = person, page, artifacts, steps
        self.errors: list[str] = []
        self.log: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else self.log.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    @property
    def id(self) -> str:
        return self.person.id

    async def shot(self, step: str) -> None:
        self.steps.append(step)
        await self.page.screenshot(path=self.artifacts / f"{len(self.steps):02d}-{self.person.role}-{step}.png", full_page=True)

    async def location(self) -> str:
        return await self.page.locator("#where").get_attribute("data-location")

    async def inbound(self) -> dict[str, dict]:
        return await self.page.evaluate("window.odrVideo.inbound()")


async def open_browsers(browser, odr, artifacts, people, *, replica_for: str | None = None) -> dict[str, Browser]:
    """Three people's browsers. ``replica_for``: that person's room connection will go to a second
    sessions replica on another port (``use_replica``, the test's stand-in for a load balancer),
    which the page's Content-Security-Policy rightly forbids (connect-src 'self'); CSP is bypassed
    for that one page only."""
    steps: list[str] = []
    out = {}
    ALL.clear()
    for role, viewport, locale in (("claimant", DESKTOP, "kk-KZ"), ("respondent", PHONE, "ru-RU"), ("mediator", DESKTOP, "en-GB")):
        context = await browser.new_context(base_url=odr, viewport=viewport, locale=locale,
                                            is_mobile=viewport is PHONE, has_touch=viewport is PHONE,
                                            bypass_csp=role == replica_for)
        out[role] = Browser(people[role], await context.new_page(), artifacts, steps)
    return out


async def admit_everyone(b: dict[str, Browser], case_id: str) -> None:
    for who in b.values():
        await enter(who.page, case_id, who.person)
    m = b["mediator"].page
    await m.locator("#session-start").click()
    for role in ("claimant", "respondent"):
        await m.locator(f'[data-admit="{b[role].id}"]').click()
    for who in b.values():
        await expect(who.page.locator("#where")).to_have_attribute("data-location", "joint", timeout=20_000)


async def cameras_on(b: dict[str, Browser]) -> None:
    for who in b.values():
        await who.page.locator("#video-toggle").click()
        await expect(who.page.locator("#camera-toggle")).to_be_visible(timeout=20_000)


async def flowing(receiver: Browser, senders: list[Browser], *, timeout: float) -> None:
    """Audio and video bytes and decoded frames from each sender rise at the receiver within
    ``timeout``, counted from the first look at that sender's connection. Not between two
    consecutive looks: a loaded machine's Chromiums encode a few frames a second, and a 0.3 s
    window that must hold audio, video and a decoded frame at once can miss them for long. A
    connection replaced meanwhile (its counters start again from zero) is counted afresh."""
    deadline = time.monotonic() + timeout
    waiting = {s.id for s in senders}
    base = dict(await receiver.inbound())
    while waiting:
        await asyncio.sleep(0.3)
        now = await receiver.inbound()
        for sid in list(waiting):
            a, z = base.get(sid), now.get(sid)
            if z is None:
                continue
            keys = ("audioBytes", "videoBytes", "frames")
            if a is None or any(z[k] < a[k] for k in keys):  # first seen, or a fresh connection
                base[sid] = z
            elif all(z[k] > a[k] for k in keys):
                waiting.discard(sid)
        if waiting and time.monotonic() > deadline:
            for other in ALL:
                print("-----", other.person.role, other.id, await other.location())
                print("\n".join(other.log[-40:]))
            raise AssertionError(f"{receiver.person.role} receives nothing from {sorted(waiting)} after {timeout} s: {now}")


async def channels(b: dict[str, Browser]) -> dict[str, str]:
    return {role: await who.location() for role, who in b.items()}


class Model:
    """Where everyone should be after the mediator's operations (rooms.py's rules)."""

    def __init__(self) -> None:
        self.loc = {"mediator": "joint", "claimant": "joint", "respondent": "joint"}
        self.open: set[str] = set()

    def choices(self) -> list[dict]:
        out = [{"type": "caucus.open", "side": s, "with_side": True} for s in ("claimant", "respondent") if s not in self.open]
        out += [{"type": "caucus.close", "side": s} for s in sorted(self.open)]
        for dest in ["joint", *(f"caucus:{s}" for s in sorted(self.open))]:
            if dest != self.loc["mediator"]:
                out.append({"type": "move", "to": dest})
        return out

    def apply(self, op: dict) -> None:
        if op["type"] == "caucus.open":
            self.open.add(op["side"])
            self.loc["mediator"] = f"caucus:{op['side']}"
            if self.loc[op["side"]] == "joint":
                self.loc[op["side"]] = f"caucus:{op['side']}"
        elif op["type"] == "caucus.close":
            for who, where in self.loc.items():
                if where == f"caucus:{op['side']}":
                    self.loc[who] = "joint"
            self.open.discard(op["side"])
        else:
            self.loc["mediator"] = op["to"]


async def move(b: dict[str, Browser], model: Model, op: dict) -> float:
    """The mediator's operation; returns when every page shows where the model says (the time
    it was sent)."""
    frame = dict(op)
    if op["type"] == "move":
        frame["participant_id"] = b["mediator"].id
    sent = time.monotonic()
    await b["mediator"].page.evaluate("frame => window.odrRoom.sendNow(frame)", frame)
    model.apply(op)
    for role, who in b.items():
        await expect(who.page.locator("#where")).to_have_attribute("data-location", model.loc[role], timeout=10_000)
    return sent


async def assert_isolated(b: dict[str, Browser], model: Model, sent: float) -> None:
    """From 1 s after the move: no connection with, and no byte from, anyone in another channel;
    people sharing a channel receive each other within RETURN_DEADLINE."""
    await asyncio.sleep(max(0.0, sent + LEAK_DEADLINE - time.monotonic()))
    first = {role: await who.inbound() for role, who in b.items()}
    await asyncio.sleep(SAMPLE)
    for role, who in b.items():
        later = await who.inbound()
        for other_role, other in b.items():
            if other_role == role or model.loc[other_role] == model.loc[role]:
                continue
            for snapshot in (first[role], later):
                assert other.id not in snapshot, (
                    f"{role} in {model.loc[role]} still connected to {other_role} in {model.loc[other_role]} "
                    f"{LEAK_DEADLINE} s after the move: {snapshot.get(other.id)}")
    for role, who in b.items():
        mates = [b[o] for o in b if o != role and model.loc[o] == model.loc[role]]
        if mates:
            await flowing(who, mates, timeout=RETURN_DEADLINE - SAMPLE)  # counted from the samples above


@contextlib.asynccontextmanager
async def second_sessions_replica(data_dir: Path):
    """Another `odr serve sessions` on the embedded run's database, event log and keys, as a
    second replica behind a load balancer would be."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODR_") or k.startswith("ODR_TEST_")}
    # Dev mode like the embedded run it joins: its keys sit in the data directory, which production refuses.
    env.update({"ODR_DATA_DIR": str(data_dir), "ODR_LOG_LEVEL": "WARNING", "ODR_LOG_FORMAT": "text",
                "ODR_DEV_MODE": "true"})
    async with odr_serve("sessions", env=env) as (port, _):
        yield port


async def use_replica(page: Page, odr: str, port: int) -> None:
    """This browser's room websocket goes to the other replica (the load balancer's choice)."""
    rewrite = [odr.split("//", 1)[1] + "/sessions/", f"127.0.0.1:{port}/"]
    await page.add_init_script(f"""(() => {{
      const [from, to] = {json.dumps(rewrite)};
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {{
        constructor(url, protocols) {{ super(String(url).replace(from, to), protocols); }}
      }};
    }})();""")


@pytest.mark.parametrize("replicas", [1, 2])
async def test_media_follows_the_room_channels(odr, browser, artifacts, tmp_path, replicas):
    case_id, people = await open_room(odr)
    b = await open_browsers(browser, odr, artifacts, people, replica_for="respondent" if replicas == 2 else None)
    async with contextlib.AsyncExitStack() as stack:
        if replicas == 2:  # the respondent's room connection is served by a second replica
            port = await stack.enter_async_context(second_sessions_replica(tmp_path / "var"))
            await use_replica(b["respondent"].page, odr, port)
        await mediation_with_caucuses(b, case_id, moves=6 if replicas == 1 else 3)


async def mediation_with_caucuses(b: dict[str, Browser], case_id: str, *, moves: int) -> None:
    await admit_everyone(b, case_id)
    await cameras_on(b)
    for role, who in b.items():  # everyone receives everyone in the joint channel
        await flowing(who, [o for r, o in b.items() if r != role], timeout=JOIN_DEADLINE)
    await expect(b["respondent"].page.locator("#media-audience")).to_have_text("Вас видят и слышат все участники общей сессии.")
    for who in b.values():
        await who.shot("joint-video")

    # the caucus of the issue: the claimant and the mediator, the respondent alone in the joint channel
    model = Model()
    sent = await move(b, model, {"type": "caucus.open", "side": "claimant", "with_side": True})
    await assert_isolated(b, model, sent)
    await expect(b["claimant"].page.locator("#media-audience")).to_have_text("Бірін-бірі тек сіз бен медиатор ғана көріп, естиді.")
    await expect(b["respondent"].page.locator("#video-tiles video")).to_have_count(1)  # only their own picture
    for who in b.values():  # the banner is words for people: no "null", no ids
        banner = await who.page.locator("#where").inner_text()
        assert "null" not in banner and "undefined" not in banner and who.id not in banner, banner
    await b["respondent"].shot("alone-during-caucus")
    await b["claimant"].shot("caucus-video")
    await b["mediator"].shot("caucus-console")

    rng = random.Random(19)
    for n in range(moves):
        op = rng.choice(model.choices())
        print("move", n, op, dict(model.loc))
        sent = await move(b, model, op)
        await assert_isolated(b, model, sent)
    for side in sorted(model.open):
        sent = await move(b, model, {"type": "caucus.close", "side": side})
    if model.loc["mediator"] != "joint":
        sent = await move(b, model, {"type": "move", "to": "joint"})
    assert set(model.loc.values()) == {"joint"}
    await assert_isolated(b, model, sent)  # everyone back together: media returns within RETURN_DEADLINE
    await b["respondent"].shot("joint-again")

    # the mediator's console shows whose camera and microphone are on
    m = b["mediator"].page
    for role in ("claimant", "respondent"):
        await expect(m.locator(f'[data-media="{b[role].id}"]')).to_have_text("camera on, microphone on")
    await b["claimant"].page.locator("#video-toggle").click()  # the claimant leaves audio and video
    await expect(m.locator(f'[data-media="{b["claimant"].id}"]')).to_have_text("camera and microphone off")
    await asyncio.sleep(LEAK_DEADLINE)
    assert b["claimant"].id not in await b["respondent"].inbound()

    for who in b.values():
        assert not [e for e in who.errors if "favicon" not in e], (who.person.role, who.errors)


LOSE_FIRST_OFFER_AND_ANSWER = """() => {
  const video = window.odrVideo, send = video.signal.bind(video);
  window.odrLost = [];
  video.signal = (to, kind, data) => {
    if ((kind === "offer" || kind === "answer") && !window.odrLost.includes(kind)) { window.odrLost.push(kind); return; }
    send(to, kind, data);
  };
}"""


async def test_calls_recover_from_a_lost_offer_and_a_lost_answer(odr, browser, artifacts):
    """Each browser's first offer and first answer never leave it (as if lost with a starved
    browser or a dropped signal). Nothing tells the other end; every pair still connects, by the
    watchdog: an offer without an answer is sent again, a pair that does not connect starts over."""
    case_id, people = await open_room(odr)
    b = await open_browsers(browser, odr, artifacts, people)
    await admit_everyone(b, case_id)
    for who in b.values():
        await who.page.evaluate(LOSE_FIRST_OFFER_AND_ANSWER)
    await cameras_on(b)
    for role, who in b.items():  # the watchdog's first patience is 2 s; a loaded machine takes longer
        await flowing(who, [o for r, o in b.items() if r != role], timeout=40)
    lost = [kind for who in b.values() for kind in await who.page.evaluate("window.odrLost")]
    assert "offer" in lost and "answer" in lost, lost
    for who in b.values():
        assert not [e for e in who.errors if "favicon" not in e], (who.person.role, who.errors)


async def test_a_call_relayed_through_turn(turn, odr, browser, artifacts):
    """Relay-only ICE: the browsers may use nothing but coturn, with the credentials sessions
    issued to each of them, so the call works where direct connections are impossible."""
    case_id, people = await open_room(odr)
    b = await open_browsers(browser, odr, artifacts, people)
    await admit_everyone(b, case_id)
    await cameras_on(b)
    await flowing(b["claimant"], [b["respondent"], b["mediator"]], timeout=JOIN_DEADLINE)
    await flowing(b["respondent"], [b["claimant"]], timeout=JOIN_DEADLINE)
    stats = await b["claimant"].inbound()
    assert all(entry["relay"] for entry in stats.values()), stats
    assert "allocation" in turn.log.read_text().lower() or "relay" in turn.log.read_text().lower()
    await b["claimant"].shot("relayed-call")

    # a weak connection: the claimant switches to sound only; the others keep hearing them
    await b["claimant"].page.locator("#audio-only").check()
    await expect(b["claimant"].page.locator("#camera-toggle")).to_have_count(0)
    await asyncio.sleep(1.0)
    first = (await b["respondent"].inbound())[b["claimant"].id]
    await asyncio.sleep(SAMPLE)
    later = (await b["respondent"].inbound())[b["claimant"].id]
    assert later["audioBytes"] > first["audioBytes"] and later["videoBytes"] == first["videoBytes"], (first, later)
