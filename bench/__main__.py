"""Every benchmark in one command, then one table: each figure beside its goal and beside the
peer's figure measured in the same run.

    uv run --all-groups python -m bench             # everything, about 12 min on the 2-core VM
    uv run --all-groups python -m bench --quick     # shorter runs of each, about 5 min
    uv run --all-groups python -m bench --only idle --only event_pipeline --json out.json

Each benchmark runs as its own process (``python -m bench.<name> ... --json FILE``), one after
the other, so none shares an event loop, a GIL or memory with another; its own output is shown as
it runs. A benchmark that fails is reported as such and the others still run. The machine's load
moves absolute figures between runs: compare the ratios of one run, and the idle CPU *time*.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .idle import GOAL_CPU_PERCENT


def _idle(out: dict) -> list[dict]:
    return out["figures"]


def _event_pipeline(out: dict) -> list[dict]:
    from .event_pipeline import GOAL_EMBEDDED_EVENTS_PER_S, GOAL_OVERHEAD_PCT

    p, rt = out["pipelines"], out["ratios"]
    rows = []
    emb = (p.get("embedded") or {}).get("throughput")
    if emb:
        rows.append({"figure": "embedded event pipeline, events/s", "ours": round(emb["events_per_s"]),
                     "peer": None, "peer_name": "", "goal": f">= {GOAL_EMBEDDED_EVENTS_PER_S:,}",
                     "met": emb["events_per_s"] >= GOAL_EMBEDDED_EVENTS_PER_S})
        rows.append({"figure": "embedded event pipeline, CPU µs/event", "ours": round(emb.get("cpu_us_per_event", 0)),
                     "peer": None, "peer_name": "", "goal": "-", "met": None})
    ours, bare = (p.get("kafka") or {}).get("throughput"), (p.get("bare-aiokafka") or {}).get("throughput")
    if ours and bare:
        rows.append({"figure": "Kafka pipeline, events/s", "ours": round(ours["events_per_s"]),
                     "peer": round(bare["events_per_s"]), "peer_name": "bare aiokafka", "goal": "-", "met": None})
    if "kafka_overhead_over_bare_pct" in rt:
        rows.append({"figure": "our Kafka layer over bare aiokafka, %", "ours": round(rt["kafka_overhead_over_bare_pct"]),
                     "peer": 0, "peer_name": "bare aiokafka", "goal": f"<= {GOAL_OVERHEAD_PCT:g}",
                     "met": rt["kafka_overhead_goal_met"]})
    return rows


# The goals for rooms (issue 14).
ROOM_GOALS = {"python-socketio": 1.5, "bare-websockets": 0.7}
ROOM_P99_MS = 25.0
ROOM_KIB = 40.0


def _sessions_fanout(out: list) -> list[dict]:
    by = {r["server"]: r for r in out}
    ours = by.get("odr-sessions")
    if not ours:
        return []
    rows = []
    for peer, goal in ROOM_GOALS.items():
        if peer in by:
            theirs = by[peer]["saturation"]["delivered_per_s"]
            ratio = ours["saturation"]["delivered_per_s"] / max(1, theirs)
            rows.append({"figure": f"room fan-out at saturation, delivered/s (÷ {peer})",
                         "ours": f"{ours['saturation']['delivered_per_s']:,} ({ratio:.2f}×)", "peer": f"{theirs:,}",
                         "peer_name": peer, "goal": f">= {goal:g}×", "met": ratio >= goal})
    bare = by.get("bare-websockets")
    rows.append({"figure": f"room p99 at {ours['paced']['delivered_per_s']:,} delivered/s, ms",
                 "ours": ours["paced"]["p99_ms"], "peer": bare["paced"]["p99_ms"] if bare else None,
                 "peer_name": "bare-websockets", "goal": f"< {ROOM_P99_MS:g}", "met": ours["paced"]["p99_ms"] < ROOM_P99_MS})
    rows.append({"figure": f"memory per connection ({ours['connections']:,}), KiB", "ours": ours["kib_per_connection"],
                 "peer": bare["kib_per_connection"] if bare else None, "peer_name": "bare-websockets",
                 "goal": f"<= {ROOM_KIB:g}", "met": ours["kib_per_connection"] <= ROOM_KIB})
    if "server_cpu_us_per_delivered" in ours["saturation"]:  # holds up on a loaded machine, unlike the rates
        rows.append({"figure": "room server CPU µs per delivered msg (saturation)",
                     "ours": ours["saturation"]["server_cpu_us_per_delivered"],
                     "peer": bare["saturation"]["server_cpu_us_per_delivered"] if bare else None,
                     "peer_name": "bare-websockets", "goal": "-", "met": None})
    return rows


def _notifications(out: dict) -> list[dict]:
    t, w = out.get("throughput") or {}, out.get("webhook_latency_ms") or {}
    return [{"figure": "notifications: events → notices + emails, delivered/s", "ours": t.get("notices_delivered_per_s"),
             "peer": None, "peer_name": "", "goal": "-", "met": None},
            {"figure": "court webhook first attempt after commit, p99 ms", "ours": w.get("p99"), "peer": None,
             "peer_name": "", "goal": "-", "met": None}]


def _agreements(out: dict) -> list[dict]:
    from .agreements_storage import GOAL

    r = out["ratio"]["store_seal_fetch_mean"]
    return [{"figure": "agreements store+seal+fetch, encrypted ÷ plain", "ours": f"{r:.2f}×", "peer": "1.00×",
             "peer_name": "plain (same run)", "goal": f"<= {GOAL:g}×", "met": r <= GOAL}]


# name: (arguments, --quick arguments, figures from its JSON)
BENCHMARKS: dict[str, tuple[list[str], list[str], Callable[[object], list[dict]]]] = {
    "idle": ([], ["--quick"], _idle),
    "event_pipeline": ([], ["--quick"], _event_pipeline),
    "sessions_fanout": (["--max-rate", "10000", "--seconds", "8"], ["--quick", "--max-rate", "6000"], _sessions_fanout),
    "notifications_throughput": ([], ["--quick"], _notifications),
    "agreements_storage": ([], ["--docs", "100", "--rounds", "2"], _agreements),
}


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(rows: list[dict]) -> str:
    lines = ["| figure | ours | peer (same run) | goal | met? |", "|---|---|---|---|---|"]
    for r in rows:
        peer = _cell(r.get("peer"))
        if r.get("peer") is not None and r.get("peer_name"):
            peer = f"{peer} ({r['peer_name']})"
        met = {True: "yes", False: "**no**", None: "—"}[r.get("met")]
        lines.append(f"| {r['figure']} | {_cell(r.get('ours'))} | {peer} | {r.get('goal', '-')} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the shorter run of each benchmark")
    ap.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only this one (repeatable)")
    ap.add_argument("--json", type=Path, help="also write every benchmark's figures and the table's rows here")
    args = ap.parse_args(argv)
    rows: list[dict] = []
    raw: dict[str, object] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="odr-bench-") as tmp:
        for name in args.only or list(BENCHMARKS):
            full, quick, figures = BENCHMARKS[name]
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, "-m", f"bench.{name}", *(quick if args.quick else full), "--json", str(out)]
            print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
            t0 = time.monotonic()
            code = subprocess.call(cmd)
            print(f"=== {name}: exit {code} after {time.monotonic() - t0:.0f} s", flush=True)
            if code != 0 or not out.exists():
                failed.append(name)
                rows.append({"figure": f"{name}: FAILED (exit {code})", "ours": None, "goal": "-", "met": False})
                continue
            raw[name] = json.loads(out.read_text())
            try:
                rows.extend(figures(raw[name]))
            except (KeyError, TypeError, ZeroDivisionError) as exc:  # a partial result: say so, keep going
                failed.append(name)
                rows.append({"figure": f"{name}: no figures ({type(exc).__name__}: {exc})", "ours": None,
                             "goal": "-", "met": False})
    print(f"\n## Every benchmark ({'--quick' if args.quick else 'full'} run)\n")
    print(table(rows))
    print(f"\nidle goal: < {GOAL_CPU_PERCENT:g} % of one core; peers ran in the same run, on the same machine.")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "benchmarks": raw}, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
