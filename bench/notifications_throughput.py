"""Notifications benchmark: domain events committed by a source service → delivered notices per
second, and court-webhook first-attempt latency after the source commit.

One process runs the notifications service (``create_app`` with its lifespan: migrations, the
consumer, the delivery/webhook/scheduler workers) on the embedded defaults (SQLite, embedded
log), and a *source* service: a ``UnitOfWork`` over its own SQLite outbox with an ``OutboxRelay``
publishing to the same embedded log, as intake/agreements would.

Phase 1, throughput: ``--events`` ``DraftReady`` events over ``--cases`` cases, each case with
``--people`` participants with an email address (three recipients by role: two parties and the
mediator; the interpreter does not get drafts). Each event therefore produces 3 in-app notices
and 3 emails (mailbox transport, the embedded default). Timed from the first source commit to
the last email marked ``sent``.

Phase 2, webhook latency: ``--webhooks`` ``AgreementSigned`` events for a court with a registered
endpoint (a real uvicorn receiver on localhost), offered at ``--rate`` events/s. Latency = the
receiver's arrival time − the source commit time of that event (carried via ``event_id``).

    uv run python -m bench.notifications_throughput [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import uvicorn
from sqlalchemy import MetaData, func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.notifications.app import create_app
from services.notifications.models import Delivery, Notification
from services.notifications.settings import NotificationsSettings
from shared.bus.embedded import EmbeddedBus
from shared.config import Settings
from shared.contracts import agreements as A
from shared.contracts import intake as I
from shared.db import create_engine, create_session_factory
from shared.outbox import OutboxRelay
from shared.service import platform_tables
from shared.uow import UnitOfWork
from tests.services.notifications.servers import free_port
from tests.support.apps import running


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


class Source:
    """A publishing service: its own outbox database and relay on the shared embedded log."""

    def __init__(self, root: Path, bus_path: Path) -> None:
        self.metadata = MetaData()
        self.outbox, _ = platform_tables(self.metadata)
        self.engine = create_engine(f"sqlite+aiosqlite:///{root / 'source.sqlite3'}")
        self.factory = create_session_factory(self.engine)
        self.bus = EmbeddedBus(bus_path, poll_seconds=0.02)
        self.relay = OutboxRelay(table=self.outbox, session_factory=self.factory, bus=self.bus)
        self.committed: dict[str, float] = {}  # event id -> commit time

    async def start(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(self.metadata.create_all)
        await self.bus.start()
        await self.relay.start()

    async def commit(self, *events) -> None:
        async with UnitOfWork(session_factory=self.factory, outbox=self.outbox, source="/odr/bench",
                              on_commit=self.relay.notify) as uow:
            envs = [uow.publish(e) for e in events]
            await uow.commit()
        now = time.perf_counter()
        for ce in envs:
            self.committed[ce.id] = now

    async def stop(self) -> None:
        await self.relay.stop()
        await self.bus.stop()
        await self.engine.dispose()


async def count(svc_app, model, *where) -> int:
    async with svc_app.state.runtime.session_factory() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def run(args) -> dict:
    root = Path(tempfile.mkdtemp(prefix="odr-bench-notifications-"))
    settings = Settings(data_dir=root, dev_mode=True, log_level="WARNING", log_format="text",
                        public_url="https://odr.example")
    ns = NotificationsSettings(webhook_allow_insecure_urls=True)
    app = create_app(settings, notifications=ns, configure_logs=False)
    logging.getLogger().setLevel("WARNING")
    source = Source(root, settings.resolved_bus_path)
    arrivals: dict[str, float] = {}

    async def receive(request: Request) -> Response:
        body = json.loads(await request.body())
        arrivals[body["data"]["event_id"]] = time.perf_counter()
        return Response(status_code=204)

    port = free_port()
    receiver = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/hook", receive, methods=["POST"])]),
                                             host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    receiver_task = asyncio.create_task(receiver.serve())
    out: dict = {"python": sys.version.split()[0], "machine": platform.machine(), "args": vars(args)}
    try:
        async with running(app) as client:
            await source.start()
            rt = app.state.runtime
            admin = {"Authorization": "Bearer " + rt.tokens.issue(subject="ops", role="admin")}
            cases = [f"case-{i:04d}" for i in range(args.cases)]
            # Directory and contacts: one MediationAgreed per case (not timed).
            def people(c: str) -> list[I.Participant]:
                return [I.Participant(participant_id=f"{c}-claimant", role="party", side="claimant", language="ru"),
                        I.Participant(participant_id=f"{c}-respondent", role="party", side="respondent", language="kk"),
                        I.Participant(participant_id=f"{c}-interpreter", role="interpreter", side="respondent",
                                      language="en"),
                        I.Participant(participant_id=f"{c}-mediator", role="mediator", language="en")][:args.people]

            for c in cases:
                for p in people(c):
                    await client.put(f"/contacts/{p.participant_id}", json={"email": f"{p.participant_id}@example.org"},
                                     headers=admin)
            await source.commit(*[I.MediationAgreed(case_id=c, mediator_id=f"{c}-mediator", term_ends_on=date(2027, 1, 1),
                                                    participants=people(c)) for c in cases])
            base_sent = args.cases * args.people
            await wait_for(lambda: count(app, Delivery, Delivery.status.in_(["sent", "undeliverable"])), base_sent, 120)

            # Phase 1: throughput.
            per_event = 3
            t0 = time.perf_counter()
            for start in range(0, args.events, args.txn_size):
                batch = [A.DraftReady(case_id=cases[i % len(cases)], agreement_id=f"a-{i}", version=1)
                         for i in range(start, min(start + args.txn_size, args.events))]
                await source.commit(*batch)
            committed = time.perf_counter()
            target = base_sent + args.events * per_event
            done, t_last = await wait_for(lambda: count(app, Delivery, Delivery.status == "sent"), target, args.timeout)
            notices = await count(app, Notification, Notification.kind == "draft_ready")
            emails = await count(app, Delivery, Delivery.status == "sent", Delivery.notification_id.in_(
                select(Notification.id).where(Notification.kind == "draft_ready")))
            elapsed = t_last - t0
            out["throughput"] = {
                "events": args.events, "in_app_notices": notices, "emails_sent": emails, "seconds": round(elapsed, 2),
                "complete": emails == args.events * per_event,
                "events_per_s": round(args.events / elapsed, 1) if emails == args.events * per_event else None,
                "notices_delivered_per_s": round((notices + emails) / elapsed, 1),
                "emails_per_s": round(emails / elapsed, 1), "source_commit_per_s": round(args.events / (committed - t0), 1),
            }

            # Phase 2: webhook first-attempt latency after the source commit.
            court = {"Authorization": "Bearer " + rt.tokens.issue(subject="court-client", role="court", court="court-1")}
            r = await client.post("/court/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hook"}, headers=court)
            assert r.status_code == 201, r.text
            source.committed.clear()
            interval = 1.0 / args.rate
            t_start = time.perf_counter()
            for i in range(args.webhooks):
                await asyncio.sleep(max(0.0, t_start + i * interval - time.perf_counter()))
                await source.commit(A.AgreementSigned(case_id=cases[i % len(cases)], agreement_id=f"s-{i}", version=1,
                                                      document_hash="h", court_id="court-1"))
            deadline = time.perf_counter() + 60
            while len(arrivals) < args.webhooks and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            lat = [(arrivals[e] - t) * 1000 for e, t in source.committed.items() if e in arrivals]
            out["webhook_latency_ms"] = {
                "events": args.webhooks, "received": len(lat), "rate_per_s": args.rate,
                "p50": round(pct(lat, 50), 1), "p90": round(pct(lat, 90), 1), "p99": round(pct(lat, 99), 1),
                "max": round(max(lat), 1) if lat else None, "mean": round(statistics.fmean(lat), 1) if lat else None,
            }
            await source.stop()
    finally:
        receiver.should_exit = True
        await receiver_task
    return out


async def wait_for(probe, target: int, timeout: float) -> tuple[int, float]:
    deadline = time.perf_counter() + timeout
    value = await probe()
    while value < target and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        value = await probe()
    return value, time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.notifications_throughput", description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1000, help="DraftReady events in the throughput phase [1000]")
    ap.add_argument("--cases", type=int, default=50, help="cases the events are spread over [50]")
    ap.add_argument("--people", type=int, default=4, help="participants per case (2 parties, interpreter, mediator) [4]")
    ap.add_argument("--txn-size", type=int, default=20, help="events per source transaction [20]")
    ap.add_argument("--webhooks", type=int, default=300, help="AgreementSigned events in the latency phase [300]")
    ap.add_argument("--rate", type=float, default=20.0, help="offered rate of the latency phase, events/s [20]")
    ap.add_argument("--timeout", type=float, default=120.0, help="limit of the throughput phase, s [120]")
    ap.add_argument("--quick", action="store_true", help="--events 300 --webhooks 100")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    if args.quick:
        args.events, args.webhooks = 300, 100
    out = asyncio.run(run(args))
    out["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in out["args"].items()}
    t, w = out["throughput"], out["webhook_latency_ms"]
    print(f"throughput: {t['events']} events -> {t['in_app_notices']} in-app notices + {t['emails_sent']} emails "
          f"in {t['seconds']} s: {t['events_per_s']} events/s, {t['notices_delivered_per_s']} notices delivered/s "
          f"({t['emails_per_s']} emails/s); source committed at {t['source_commit_per_s']} events/s")
    print(f"webhook first attempt after source commit ({w['received']}/{w['events']} at {w['rate_per_s']}/s): "
          f"p50 {w['p50']} ms, p90 {w['p90']} ms, p99 {w['p99']} ms, max {w['max']} ms")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
