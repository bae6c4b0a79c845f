"""Idle benchmark: what the embedded platform costs when nobody uses it.

Starts ``odr dev`` (all four services and the gateway, embedded defaults, dev mode, a fresh data
directory) and, beside it in the same run, a bare uvicorn app that answers ``/readyz`` (the
peer: an ASGI server at rest, the floor the machine gives). Once both are ready and a settle
period has passed, it samples each process tree for ``--seconds`` with no traffic:

- **CPU**: user + system CPU *time* the tree used, as a % of one core. CPU time, not wall time:
  other work on a loaded machine slows a process down but does not bill it for its CPU.
- **wake-ups/s**: voluntary context switches of the tree per second, i.e. how often its
  threads go to sleep and are woken again. A loop that polls every 20 ms shows here as ~50/s
  whatever the machine's load, so this figure is the steadiest one to compare between runs.
- **RSS**: resident memory of the tree at the end, in MB.

    uv run --group bench python -m bench.idle                 # 60 s
    uv run --group bench python -m bench.idle --seconds 20    # shorter
    uv run --group bench python -m bench.idle --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

GOAL_CPU_PERCENT = 2.0

# The peer: uvicorn with one route, no background work.
_PEER = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
app = Starlette(routes=[Route("/readyz", lambda r: PlainTextResponse("ok"))])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


@dataclass
class Idle:
    name: str
    seconds: float
    cpu_percent: float  # of one core
    wakeups_per_second: float
    rss_mb: float
    processes: int


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        return [proc, *proc.children(recursive=True)]
    return []


def _sample(procs: list[psutil.Process]) -> tuple[float, int, int]:
    """(CPU seconds, voluntary context switches, RSS bytes) of the processes, threads included."""
    cpu = switches = rss = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            with p.oneshot():
                t = p.cpu_times()
                cpu += t.user + t.system
                switches += p.num_ctx_switches().voluntary
                rss += p.memory_info().rss
    return cpu, switches, rss


def _wait_ready(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the process on port {port} exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if r.status == 200:
                    return
        time.sleep(0.5)
    raise SystemExit(f"not ready on port {port} within the deadline")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(*, seconds: float, settle: float, ready_timeout: float = 300.0) -> list[Idle]:
    with tempfile.TemporaryDirectory(prefix="odr-idle-") as tmp:
        env = {**os.environ, "ODR_DATA_DIR": str(Path(tmp) / "var"), "ODR_LOG_LEVEL": "WARNING"}
        env.pop("ODR_DATABASE_URL", None)
        env.pop("ODR_BUS", None)
        ours_port, peer_port = free_port(), free_port()
        started = {
            "odr dev": subprocess.Popen([sys.executable, "-m", "odr.cli", "dev", "--host", "127.0.0.1",
                                         "--port", str(ours_port)], env=env, cwd=tmp,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            "bare uvicorn": subprocess.Popen([sys.executable, "-c", _PEER, str(peer_port)], env=env, cwd=tmp,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        }
        try:
            deadline = time.monotonic() + ready_timeout
            _wait_ready(ours_port, started["odr dev"], deadline)
            _wait_ready(peer_port, started["bare uvicorn"], deadline)
            time.sleep(settle)  # start-up work (migrations, first heartbeats, caches) is not idling
            trees = {name: [psutil.Process(p.pid)] for name, p in started.items()}
            trees = {name: _tree(procs[0]) for name, procs in trees.items()}
            before = {name: _sample(procs) for name, procs in trees.items()}
            t0 = time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - t0
            after = {name: _sample(procs) for name, procs in trees.items()}
        finally:
            for proc in started.values():
                _stop(proc)
    return [Idle(name=name, seconds=round(elapsed, 1),
                 cpu_percent=round(100 * (after[name][0] - before[name][0]) / elapsed, 2),
                 wakeups_per_second=round((after[name][1] - before[name][1]) / elapsed, 1),
                 rss_mb=round(after[name][2] / 2**20, 1), processes=len(trees[name]))
            for name in started]


def report(results: list[Idle]) -> list[dict]:
    """Print the figures beside the goal and the peer; returns them as rows for ``bench``."""
    ours, peer = results
    print(f"\nidle for {ours.seconds:.0f} s, no traffic (CPU time of each process tree)")
    print(f"{'':14} {'CPU % of one core':>18} {'wake-ups/s':>11} {'RSS MB':>8}")
    for r in results:
        print(f"{r.name:14} {r.cpu_percent:>18.2f} {r.wakeups_per_second:>11.1f} {r.rss_mb:>8.1f}")
    met = "met" if ours.cpu_percent < GOAL_CPU_PERCENT else "NOT met"
    print(f"goal: idle odr dev < {GOAL_CPU_PERCENT:g} % of one core: {ours.cpu_percent:.2f} % ({met}); "
          f"peer (bare uvicorn) {peer.cpu_percent:.2f} %")
    return [
        {"figure": "idle odr dev CPU, % of one core", "ours": ours.cpu_percent, "peer": peer.cpu_percent,
         "peer_name": peer.name, "goal": f"< {GOAL_CPU_PERCENT:g}", "met": ours.cpu_percent < GOAL_CPU_PERCENT},
        {"figure": "idle odr dev wake-ups/s", "ours": ours.wakeups_per_second, "peer": peer.wakeups_per_second,
         "peer_name": peer.name, "goal": "-", "met": None},
        {"figure": "idle odr dev RSS, MB", "ours": ours.rss_mb, "peer": peer.rss_mb, "peer_name": peer.name,
         "goal": "-", "met": None},
    ]


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="sampling period (default 60)")
    ap.add_argument("--settle", type=float, default=10.0, help="wait after ready before sampling (default 10)")
    ap.add_argument("--quick", action="store_true", help="20 s sampling, 5 s settle")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.settle = min(args.seconds, 20.0), min(args.settle, 5.0)
    results = measure(seconds=args.seconds, settle=args.settle)
    rows = report(results)
    if args.json:
        args.json.write_text(json.dumps({"results": [asdict(r) for r in results], "figures": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
