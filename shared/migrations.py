"""Alembic migrations per service: applied on start in dev (``ODR_MIGRATE_ON_START``) and by
``odr migrate SERVICE`` in production. Each service's ``migrations/env.py`` calls
``run_migrations`` with its own metadata."""

from __future__ import annotations

import asyncio
import weakref
import zlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(script_location: Path, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = weakref.WeakKeyDictionary()


async def upgrade(engine: AsyncEngine, script_location: Path, revision: str = "head") -> None:
    """Migrate to ``revision``. Alembic keeps its migration context in module globals, so upgrades
    within one process run one at a time; across processes PostgreSQL's advisory lock serialises
    them (SQLite is one process per file in the embedded run)."""
    loop = asyncio.get_running_loop()
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        await _upgrade_locked(engine, script_location, revision)


async def _upgrade_locked(engine: AsyncEngine, script_location: Path, revision: str) -> None:
    def _upgrade(connection) -> None:
        cfg = alembic_config(script_location)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Replicas starting together migrate one at a time; the lock ends with the transaction.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(str(script_location).encode())})
        await conn.run_sync(_upgrade)


def run_migrations(metadata: MetaData) -> None:
    """Body of every service's ``env.py``: use the connection handed over by ``upgrade``, or
    open one from the configured URL (the ``alembic``/``odr makemigration`` command line)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection, metadata)
        return
    from .db import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))

    async def _main() -> None:
        async with engine.begin() as conn:
            await conn.run_sync(_run_on, metadata)
        await engine.dispose()

    asyncio.run(_main())


def _run_on(connection, metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
