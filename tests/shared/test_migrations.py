"""Migrations: every service migrates on both databases, and concurrent upgrades (several
services starting in one process, as in `odr dev`) do not trip over each other."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import inspect

from odr.services import SERVICES, app_module
from shared.db import create_engine
from shared.migrations import upgrade


@pytest.mark.parametrize("service", SERVICES)
async def test_replicas_migrating_at_once_end_with_one_schema(service, database_url):
    spec = app_module(service).SPEC
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(upgrade(e, spec.migrations) for e in engines), return_exceptions=True)
        assert not [r for r in results if isinstance(r, Exception)], results
        async with engines[0].connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"outbox", "inbox", "alembic_version"} <= tables
        assert set(spec.metadata.tables) <= tables
    finally:
        for e in engines:
            await e.dispose()

