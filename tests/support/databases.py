"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database per test run.

PostgreSQL is the one on 127.0.0.1:5432 (``ODR_TEST_POSTGRES_DSN`` overrides the admin DSN);
each throw-away database gets a random name and is dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import uuid

import asyncpg

ADMIN_DSN = os.environ.get("ODR_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _sqlalchemy_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def create_pg_database(prefix: str = "odr_test") -> tuple[str, str]:
    """Returns (database name, SQLAlchemy URL)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, _sqlalchemy_url(ADMIN_DSN, name)


async def drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def service_databases():
    """One throw-away PostgreSQL database per service; yields (URL base, {service: database name}),
    the parts of each service's ``ODR_<SERVICE>_DATABASE_URL``."""
    from odr.services import SERVICES

    names: dict[str, str] = {}
    try:
        for service in SERVICES:
            names[service], url = await create_pg_database(f"odr_test_{service}")
        yield url.rsplit("/", 1)[0], names
    finally:
        for name in names.values():
            await drop_pg_database(name)
