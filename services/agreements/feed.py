"""The court feed: per court, a gap-free sequence of agreement events for the cases that court
referred, read with an ``after=`` cursor.

Positions come from a per-court counter row that is incremented inside the transaction that
records the event (``UPDATE .. RETURNING``). The increment holds the row's lock until commit, so
positions are handed out in commit order: position n+1 cannot be committed before n, a reader
that has seen n+1 has seen n, and a cursor never skips an item that commits later. (On SQLite the
write lock serialises writers the same way.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .models import CourtFeedHead, CourtFeedItem


async def append(session: AsyncSession, *, court_id: str, type: str, case_id: str, agreement_id: str,
                 version: int | None, document_hash: str | None, at: datetime) -> int:
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(CourtFeedHead).values(court_id=court_id, last_seq=0)
                          .on_conflict_do_nothing(index_elements=["court_id"]))
    seq = (await session.execute(
        update(CourtFeedHead).where(CourtFeedHead.court_id == court_id)
        .values(last_seq=CourtFeedHead.last_seq + 1).returning(CourtFeedHead.last_seq)
        .execution_options(synchronize_session=False)
    )).scalar_one()
    session.add(CourtFeedItem(court_id=court_id, seq=seq, type=type, case_id=case_id, agreement_id=agreement_id,
                              version=version, document_hash=document_hash, occurred_at=at))
    await session.flush()
    return seq


async def read(session: AsyncSession, *, court_id: str, after: int, limit: int) -> list[CourtFeedItem]:
    return list((await session.execute(
        select(CourtFeedItem).where(CourtFeedItem.court_id == court_id, CourtFeedItem.seq > after)
        .order_by(CourtFeedItem.seq).limit(limit)
    )).scalars())
