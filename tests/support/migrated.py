"""Migrated SQLite databases for tests, made once per run and copied.

Almost every test starts one or more services on a fresh SQLite file, and each start replays the
service's whole Alembic history (about a second of the suite per service start on the 2-core CI
machine; a third of the suite's time). The first start of each service in a run migrates a
template file with the real migrations; later starts get a copy of that file before the
service's own ``upgrade`` runs, which then finds the schema at head and does nothing. A file that
already exists (a restarted service, a test that seeded one) is left to the real upgrade, and so
is PostgreSQL. The migrations themselves are exercised, from empty, on both databases by
``tests/shared/test_migrations.py``, which calls ``shared.migrations.upgrade`` directly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
import weakref
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine
from shared.migrations import upgrade as real_upgrade


class MigratedTemplates:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._made: dict[Path, Path] = {}
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    async def upgrade(self, engine: AsyncEngine, script_location: Path, revision: str = "head") -> None:
        target = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        if revision == "head" and target and target != ":memory:" and not _has_content(Path(target)):
            shutil.copyfile(await self._template(Path(script_location)), target)
        await real_upgrade(engine, script_location, revision)

    async def seed(self, data_dir: Path) -> None:
        """Put a migrated database of every service where ``odr dev --data-dir data_dir`` (another
        process, which this module's patch does not reach) will look for it."""
        from odr.services import SERVICES, app_module

        data_dir.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            shutil.copyfile(await self._template(Path(app_module(service).SPEC.migrations)), data_dir / f"{service}.sqlite3")

    async def _template(self, script_location: Path) -> Path:
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())  # each test has its loop
        async with lock:
            if script_location not in self._made:
                path = self.directory / f"{uuid.uuid4().hex}.sqlite3"
                engine = create_engine(f"sqlite+aiosqlite:///{path}")
                try:
                    await real_upgrade(engine, script_location)
                finally:
                    await engine.dispose()
                for leftover in (f"{path}-wal", f"{path}-shm"):
                    if os.path.exists(leftover):
                        raise RuntimeError(f"the migrated template left {leftover} behind")
                self._made[script_location] = path
            return self._made[script_location]


def _has_content(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0
