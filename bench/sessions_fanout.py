"""Sessions fan-out benchmark: rooms of 4 with steady chat, against our sessions service, a
python-socketio room-broadcast server and a bare ``websockets`` broadcast server, under one load
generator (this process; each server is a subprocess of its own).

    uv run --group bench python -m bench.sessions_fanout                # ~3 minutes
    uv run --group bench python -m bench.sessions_fanout --quick        # ~1 minute
    uv run --group bench python -m bench.sessions_fanout --only ours --conns 400

Phases per server: connect ``--conns`` clients (rooms of 4) and measure the server's resident
memory per connection; a paced phase offering ``--rate`` delivered msgs/s (every chat goes to the
4 members of its room, the sender included) for latency p50/p99; a saturation phase offering
``--max-rate`` to see how many delivered msgs/s each server reaches. Latency is send time to
receive time of each delivered copy (one clock, one machine). See bench/sessions.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from websockets.asyncio.client import connect

ROOM = 4

SOCKETIO_SERVER = r'''
import socketio, uvicorn, sys
sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
@sio.event
async def join(sid, room):
    await sio.enter_room(sid, room)
    return "ok"
@sio.event
async def chat(sid, data):
    await sio.emit("chat", data, to=data["room"])
uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''

BARE_SERVER = r'''
import asyncio, json, sys
from websockets.asyncio.server import serve, broadcast
rooms = {}
async def handler(ws):
    room = json.loads(await ws.recv())["room"]
    members = rooms.setdefault(room, set()); members.add(ws)
    await ws.send('{"type":"joined"}')
    try:
        async for message in ws:
            broadcast(members, message)
    finally:
        members.discard(ws)
async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), ping_interval=None, max_size=1 << 20):
        await asyncio.Future()
asyncio.run(main())
'''


# ODR_BENCH_PROFILE=out.prof: our server runs under cProfile (main thread: the event loop) from
# the end of the connect phase (SIGUSR2) and writes the profile when the benchmark is done with
# it (SIGUSR1).
PROFILED_SERVER = r'''
import cProfile, os, signal, sys
out = sys.argv[1]
prof = cProfile.Profile()
def done(*_):
    prof.disable()
    prof.dump_stats(out)
    os._exit(0)
signal.signal(signal.SIGUSR1, done)
signal.signal(signal.SIGUSR2, lambda *_: prof.enable())
from odr.cli import main
main(sys.argv[2:])
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (every thread): on a machine other work
    loads, CPU time per delivered message holds up where rates and latencies do not."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.delivered = 0
        self.recording = False
        self.closed: dict[int, int] = {}  # close codes the server sent (4010: the client read too slowly)

    def seen(self, sent_at: float) -> None:
        self.delivered += 1
        if self.recording:
            self.latencies.append(time.time() - sent_at)


# -- the three servers, behind one client interface ------------------------------------------


class Server:
    name = ""

    async def start(self, rooms: int) -> None: ...

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    async def wait_port(self) -> None:
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited")
            try:
                _, w = await asyncio.open_connection("127.0.0.1", self.port)
                w.close()
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} server did not start")


class Bare(Server):
    name = "bare-websockets"

    async def start(self, rooms):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(self.port)])
        await self.wait_port()

    async def join(self, room: int, member: int, stats: Stats):
        ws = await connect(f"ws://127.0.0.1:{self.port}", ping_interval=None, max_size=None)
        await ws.send(json.dumps({"room": f"r{room}"}))
        await ws.recv()
        return ws, lambda text: ws.send(json.dumps({"t": time.time(), "text": text})), self._reader(ws, stats)

    async def _reader(self, ws, stats):
        async for msg in ws:
            stats.seen(json.loads(msg)["t"])


class SocketIO(Server):
    name = "python-socketio"

    async def start(self, rooms):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-c", SOCKETIO_SERVER, str(self.port)])
        await self.wait_port()

    async def join(self, room, member, stats):
        """Engine.IO v4 / Socket.IO v5 over a plain websocket: the same client library as for
        the other servers, speaking socket.io's framing."""
        ws = await connect(f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket", ping_interval=None,
                           max_size=None)
        await ws.recv()  # 0{"sid":...}
        await ws.send("40")
        await ws.recv()  # 40{"sid":...}
        await ws.send('420["join","r%d"]' % room)
        while not (await ws.recv()).startswith("430"):
            pass
        name = f"r{room}"
        return ws, lambda text: ws.send("42" + json.dumps(["chat", {"room": name, "t": time.time(), "text": text}])), \
            self._reader(ws, stats)

    async def _reader(self, ws, stats):
        async for msg in ws:
            if msg == "2":
                await ws.send("3")
            elif msg.startswith("42"):
                stats.seen(json.loads(msg[2:])[1]["t"])


class Ours(Server):
    name = "odr-sessions"

    async def start(self, rooms):
        from shared.auth import KeyRing, TokenService
        from shared.bus import Message
        from shared.bus.embedded import EmbeddedBus
        from shared.contracts.intake import MediationAgreed, Participant
        from shared.events import envelope

        self.dir = tempfile.TemporaryDirectory(prefix="odr-bench-sessions-")
        data = Path(self.dir.name) / "data"
        kek = Path(self.dir.name) / "secrets" / "kek.json"  # production keeps the KEKs apart from the data
        self.tokens = TokenService(KeyRing.load(data / "keys" / "jwt.json", create=True), ttl_seconds=3600)
        from services.sessions.transcripts import key_provider

        key_provider(kek, create=True)  # what `odr keys init sessions` makes
        self.port = free_port()
        env = {**os.environ, "ODR_DATA_DIR": str(data), "ODR_KEK_KEYRING": str(kek), "ODR_LOG_LEVEL": "WARNING"}
        cmd = ["-m", "odr.cli"]
        if os.environ.get("ODR_BENCH_PROFILE"):
            cmd = ["-c", PROFILED_SERVER, os.environ["ODR_BENCH_PROFILE"]]
        self.proc = subprocess.Popen([sys.executable, *cmd, "serve", "sessions", "--host", "127.0.0.1",
                                      "--port", str(self.port)], env=env)
        await self.wait_port()
        self.cases = [str(uuid.uuid4()) for _ in range(rooms)]
        bus = EmbeddedBus(data / "bus.sqlite3")
        await bus.start()
        msgs = []
        for case in self.cases:
            people = [Participant(participant_id=f"m-{case}", role="mediator")]
            people += [Participant(participant_id=f"p{i}-{case}", role="party",
                                   side="claimant" if i % 2 else "respondent") for i in range(1, ROOM)]
            evt = MediationAgreed(case_id=case, mediator_id=f"m-{case}", participants=people,
                                  term_ends_on=date(2030, 1, 1))
            msgs.append(Message(evt.topic, case, envelope(evt, source="/bench").to_bytes()))
        await bus.publish(msgs)
        await bus.stop()
        import sqlite3
        db = data / "sessions.sqlite3"
        for _ in range(600):  # wait until the consumer opened every room
            try:
                n = sqlite3.connect(db).execute("SELECT count(*) FROM rooms WHERE status='open'").fetchone()[0]
                if n >= rooms:
                    break
            except sqlite3.Error:
                pass
            await asyncio.sleep(0.1)

    def stop(self):
        if os.environ.get("ODR_BENCH_PROFILE"):
            self.proc.send_signal(signal.SIGUSR1)  # the profiled server writes its profile and exits
        super().stop()
        self.dir.cleanup()

    async def join(self, room, member, stats):
        case = self.cases[room]
        who = f"m-{case}" if member == 0 else f"p{member}-{case}"
        role = "mediator" if member == 0 else "party"
        token = self.tokens.issue(subject=who, role=role, cases=[case])
        ws = await connect(f"ws://127.0.0.1:{self.port}/rooms/{case}/ws?token={token}", ping_interval=None,
                           max_size=None)
        await ws.recv()  # welcome
        if member == 0:
            await ws.send('{"type":"session.start"}')
            await ws.send(json.dumps({"type": "admit", "participant_ids": [f"p{i}-{case}" for i in range(1, ROOM)]}))
        counter = iter(range(10**9))
        return ws, lambda text: ws.send(json.dumps({"type": "chat", "id": f"c{next(counter)}",
                                                    "text": f"{time.time()}|{text}"})), self._reader(ws, stats)

    async def _reader(self, ws, stats):
        try:
            async for msg in ws:
                if msg.startswith('{"type":"chat"'):
                    frame = json.loads(msg)
                    stats.seen(float(frame["text"].split("|", 1)[0]))
        finally:
            if ws.close_code not in (None, 1000):
                stats.closed[ws.close_code] = stats.closed.get(ws.close_code, 0) + 1


# -- the load generator ----------------------------------------------------------------------


async def run(server: Server, args) -> dict:
    rooms = args.conns // ROOM
    await server.start(rooms)
    stats = Stats()
    try:
        base = rss_kib(server.proc.pid)
        senders, readers, sockets = [], [], []
        sem = asyncio.Semaphore(50)

        async def join(room, member):
            async with sem:
                ws, send, reader = await server.join(room, member, stats)
            sockets.append(ws)
            senders.append(send)
            readers.append(asyncio.create_task(reader))

        for room in range(rooms):  # mediator first, so the room is live when the others arrive
            await join(room, 0)
        await asyncio.gather(*(join(r, m) for r in range(rooms) for m in range(1, ROOM)))
        await asyncio.sleep(2)
        per_conn = (rss_kib(server.proc.pid) - base) / len(sockets)
        if isinstance(server, Ours) and os.environ.get("ODR_BENCH_PROFILE"):
            server.proc.send_signal(signal.SIGUSR2)  # profile the load phases only
        result = {"server": server.name, "connections": len(sockets), "kib_per_connection": round(per_conn, 1)}

        async def paced(delivered_rate: float, seconds: float) -> dict:
            sends_per_second = delivered_rate / ROOM
            stats.latencies.clear()
            stats.recording = True
            start_count, t0, cpu0 = stats.delivered, time.monotonic(), cpu_seconds(server.proc.pid)
            n, i = 0, 0
            while (elapsed := time.monotonic() - t0) < seconds:
                due = int(elapsed * sends_per_second)
                burst = []
                while n < due:
                    burst.append(senders[i % len(senders)]("hello room"))
                    i += 7  # spread over rooms and members
                    n += 1
                if burst:
                    await asyncio.gather(*burst, return_exceptions=True)
                await asyncio.sleep(0.002)
            await asyncio.sleep(1.0)  # let the tail arrive
            stats.recording = False
            took = time.monotonic() - t0 - 1.0
            cpu = cpu_seconds(server.proc.pid) - cpu0
            delivered = stats.delivered - start_count
            lat = sorted(stats.latencies)
            pct = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else None)
            return {"offered_delivered_per_s": delivered_rate, "sent": n,
                    "delivered_per_s": round(delivered / took),
                    "server_cpu_us_per_delivered": round(cpu * 1e6 / max(1, delivered), 1),
                    "p50_ms": pct(0.50), "p99_ms": pct(0.99), "expected_copies": n * ROOM,
                    "received_copies": len(lat), "closed_by_server": dict(stats.closed)}

        result["paced"] = await paced(args.rate, args.seconds)
        result["saturation"] = await paced(args.max_rate, args.seconds)
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
        return result
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conns", type=int, default=2000)
    p.add_argument("--rate", type=float, default=5000, help="paced phase: offered delivered msgs/s")
    p.add_argument("--max-rate", type=float, default=40000, help="saturation phase: offered delivered msgs/s")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--quick", action="store_true", help="400 connections, 5 s phases")
    p.add_argument("--only", action="append", choices=["ours", "socketio", "bare"])
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    if args.quick:
        args.conns, args.seconds = 400, 5
    servers = {"ours": Ours, "socketio": SocketIO, "bare": Bare}
    results = []
    for key in args.only or ["ours", "socketio", "bare"]:
        print(f"running {key} ...", flush=True)
        results.append(asyncio.run(run(servers[key](), args)))
        print(json.dumps(results[-1]), flush=True)
    by = {r["server"]: r for r in results}
    print("\n| server | conns | KiB/conn | paced delivered/s | p50 ms | p99 ms | saturation delivered/s | sat p99 ms "
          "| CPU µs/delivered (paced, sat) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['server']} | {r['connections']} | {r['kib_per_connection']} | {r['paced']['delivered_per_s']} | "
              f"{r['paced']['p50_ms']} | {r['paced']['p99_ms']} | {r['saturation']['delivered_per_s']} | "
              f"{r['saturation']['p99_ms']} | {r['paced']['server_cpu_us_per_delivered']}, "
              f"{r['saturation']['server_cpu_us_per_delivered']} |")
    ours = by.get("odr-sessions")
    if ours:
        print("\nGoals:")
        print(f"- >= 2000 connections at <= 40 KiB each: {ours['connections']} at {ours['kib_per_connection']} KiB")
        print(f"- p99 < 25 ms at 5000 delivered/s: p99 {ours['paced']['p99_ms']} ms at "
              f"{ours['paced']['delivered_per_s']}/s")
        for peer, goal in (("python-socketio", 1.5), ("bare-websockets", 0.7)):
            if peer in by:
                ratio = ours["saturation"]["delivered_per_s"] / max(1, by[peer]["saturation"]["delivered_per_s"])
                print(f"- vs {peer}: {ratio:.2f}x saturation delivered/s (goal >= {goal}x)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
