"""Human case references: what parties, mediators and courts call a case (``KZ-2026-000123``:
jurisdiction, filing year, the case's number in that jurisdiction and year). Ids stay internal.

The number comes from a counter row per jurisdiction and year that is incremented inside the
filing's transaction (``UPDATE .. RETURNING``): the increment holds the row's lock until the
filing commits, so concurrent filings on PostgreSQL get consecutive numbers and never the same
one, and a filing that rolls back gives its number back. SQLite's write lock serialises writers
the same way.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .models import CaseReferenceCounter

DIGITS = 6


def format_reference(*, jurisdiction: str, year: int, number: int) -> str:
    return f"{jurisdiction}-{year}-{number:0{DIGITS}d}"


def filing_year(filed_at: datetime, time_zone: str) -> int:
    """The year in the jurisdiction's time zone: a case filed on 1 January in Almaty is that year's."""
    return filed_at.astimezone(ZoneInfo(time_zone)).year


async def next_reference(session: AsyncSession, *, jurisdiction: str, filed_at: datetime, time_zone: str) -> str:
    year = filing_year(filed_at, time_zone)
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(CaseReferenceCounter).values(jurisdiction=jurisdiction, year=year, last_number=0)
                          .on_conflict_do_nothing(index_elements=["jurisdiction", "year"]))
    number = (await session.execute(
        update(CaseReferenceCounter)
        .where(CaseReferenceCounter.jurisdiction == jurisdiction, CaseReferenceCounter.year == year)
        .values(last_number=CaseReferenceCounter.last_number + 1).returning(CaseReferenceCounter.last_number)
        .execution_options(synchronize_session=False)
    )).scalar_one()
    return format_reference(jurisdiction=jurisdiction, year=year, number=number)
