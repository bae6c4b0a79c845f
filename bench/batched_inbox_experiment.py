"""EXPERIMENT, not the platform: ``bench.event_pipeline`` with a batched inbox patched in at runtime.

``shared.inbox.IdempotentConsumer`` does one SELECT and one INSERT per event, which bounds our
pipelines at ~700 events/s (see bench/README.md). This script replaces its ``__call__`` in this
process only, and nothing in ``shared/`` changes. The replacement issues one
``SELECT ... event_id IN (...)`` and one multi-row INSERT per batch. A failing handler still
falls back to the original event-by-event path. The point is to show what that change would buy
before anyone makes it in ``shared/``:

    uv run python -m bench.batched_inbox_experiment [same options as bench.event_pipeline]

The figures it prints are NOT the platform's figures.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from sqlalchemy import select

import shared.inbox as inbox
from shared.events import CloudEvent, decode
from shared.observability import correlation_context

_original_call = inbox.IdempotentConsumer.__call__


async def batched_call(self, records):
    events = [CloudEvent.from_bytes(r.value) for r in records]
    try:
        async with self.uow_factory() as uow:
            session = uow.session
            seen = set((await session.execute(
                select(self.table.c.event_id).where(self.table.c.consumer == self.name,
                                                    self.table.c.event_id.in_([ce.id for ce in events]))
            )).scalars())
            rows, now = [], datetime.now(timezone.utc)
            for ce in events:
                handler = self.handlers.get(ce.type)
                if handler is None or ce.id in seen:
                    continue
                seen.add(ce.id)  # the same event twice in one batch (a redelivery) is handled once
                with correlation_context(event_id=ce.id, correlation_id=ce.correlationid):
                    await handler(session, decode(ce), ce)
                rows.append({"consumer": self.name, "event_id": ce.id, "type": ce.type, "status": "handled",
                             "error": None, "handled_at": now})
            if rows:
                await session.execute(self.table.insert(), rows)
            await uow.commit()
        return
    except Exception:
        pass
    await _original_call(self, records)  # isolate the failing event exactly as the platform does


def main(argv: list[str] | None = None) -> int:
    inbox.IdempotentConsumer.__call__ = batched_call
    print("EXPERIMENT: IdempotentConsumer.__call__ replaced by a batched version in this process "
          "(shared/ unchanged); these are not the platform's figures.")
    import bench.event_pipeline as pipeline

    pipeline.EXPERIMENT = "IdempotentConsumer with one SELECT and one INSERT per batch"
    return pipeline.main(argv)


if __name__ == "__main__":
    sys.exit(main())
