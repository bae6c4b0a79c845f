"""Small database and sealing helpers the notifications modules share.

``insert_ignore`` is how a unique key turns a repeated insert into a no-op on SQLite and on
PostgreSQL alike; together with deterministic ids it is what makes fan-out idempotent even
when the same event is handled twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.crypto import Envelope, Sealed, Vault

_NAMESPACE = uuid.UUID("6f1e7d0c-3a55-4c8e-9d43-0b6f3c5a2e11")


def stable_id(*parts: str) -> str:
    """The same inputs always give the same id, so a retried fan-out finds its earlier rows."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


async def insert_ignore(session: AsyncSession, table: Table, rows: Sequence[dict], *, conflict: list[str] | None = None) -> int:
    """Insert ``rows``, skipping those that collide with a unique key. Returns rows inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    stmt = ins.on_conflict_do_nothing(index_elements=conflict) if conflict else ins.on_conflict_do_nothing()
    result = await session.execute(stmt, list(rows))
    return max(result.rowcount or 0, 0)


class Sealer:
    """Short secrets (contact details, webhook secrets) sealed at rest with ``shared.crypto.Vault``,
    each packed into one column (``Sealed.pack``); the associated data binds each value to its row
    and field."""

    def __init__(self, envelope: Envelope) -> None:
        self.vault = Vault(envelope)

    def seal(self, value: str, *, aad: str) -> bytes:
        return self.vault.seal(value.encode(), aad=aad.encode()).pack()

    def open(self, blob: bytes, *, aad: str) -> str:
        return self.vault.open(Sealed.unpack(blob), aad=aad.encode()).decode()
