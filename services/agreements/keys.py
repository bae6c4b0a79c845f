"""Rotate the agreements key-encryption key and re-wrap every data key under the new version,
without decrypting a single document:

    python -m services.agreements.keys rotate [--data-dir var] [--database-url URL] [--no-rewrap]
    python -m services.agreements.keys rewrap            # re-wrap only (e.g. after an interrupted run)
    python -m services.agreements.keys status            # how many items are under which KEK version

It uses the same settings as the service (``ODR_`` variables, ``ODR_KEK_KEYRING``). Running
services notice the new keyring version on their next encryption (``shared.crypto.LocalKeyring`` re-reads a changed file).
Re-wrapping goes in batches, each its own transaction, and only touches rows under an older
version, so it can be interrupted and run again. Once nothing is under an old version, that
version can be destroyed. The same commands run as ``odr kek agreements rotate|rewrap|status``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.config import Settings
from shared.db import create_engine, create_session_factory

from . import context as context_module
from .context import Context
from .models import AgreementPdf, AgreementVersion, Comment
from .vault import comment_aad, pdf_aad, version_aad

# Every encrypted table, its key columns and how its associated data is built.
ENCRYPTED = (
    (AgreementVersion, (AgreementVersion.agreement_id, AgreementVersion.version), lambda r: version_aad(r.agreement_id, r.version)),
    (Comment, (Comment.id,), lambda r: comment_aad(r.agreement_id, r.id)),
    (AgreementPdf, (AgreementPdf.agreement_id,), lambda r: pdf_aad(r.agreement_id, r.version)),
)


async def rewrap_all(session_factory: async_sessionmaker, ctx: Context, *, batch: int = 200) -> int:
    """Re-wrap every live data key that is not under the newest KEK version; returns how many."""
    provider, kek_id = ctx.vault.provider, ctx.vault.kek_id
    latest = provider.latest_version(kek_id)
    total = 0
    for model, keys, aad in ENCRYPTED:
        while True:
            async with session_factory() as session, session.begin():
                rows = (await session.execute(
                    select(model).where(model.kek_id == kek_id, model.kek_version < latest,
                                        model.wrapped_key.is_not(None)).limit(batch).with_for_update()
                )).scalars().all()
                for row in rows:
                    new = ctx.vault.rewrap(row, aad=aad(row))
                    await session.execute(update(model).where(*(k == getattr(row, k.key) for k in keys),
                                                              model.kek_version == row.kek_version)
                                          .values(wrapped_key=new.wrapped_key, kek_version=new.kek_version))
                total += len(rows)
            if len(rows) < batch:
                break
    return total


async def status(session_factory: async_sessionmaker) -> dict:
    out: dict = {}
    async with session_factory() as session:
        for model, _keys, _aad in ENCRYPTED:
            rows = (await session.execute(select(model.kek_version, func.count()).where(model.wrapped_key.is_not(None))
                                          .group_by(model.kek_version))).all()
            out[model.__tablename__] = {f"v{v}": n for v, n in rows}
    return out


async def _main(args) -> None:
    overrides = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.database_url:
        overrides["database_url"] = args.database_url
    settings = Settings(**overrides)
    ctx = context_module.build(settings)
    engine = create_engine(settings.database_url_for("agreements"))
    try:
        session_factory = create_session_factory(engine)
        provider, kek_id = ctx.vault.provider, ctx.vault.kek_id
        result: dict = {"kek_id": kek_id}
        if args.command == "rotate":
            result["new_version"] = provider.rotate(kek_id)
        if args.command in ("rotate", "rewrap") and not args.no_rewrap:
            result["rewrapped"] = await rewrap_all(session_factory, ctx)
        result["latest_version"] = provider.latest_version(kek_id)
        result["items"] = await status(session_factory)
        print(json.dumps(result))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.agreements.keys",
                                     description="agreements key-encryption key: rotate and re-wrap")
    parser.add_argument("command", choices=["rotate", "rewrap", "status"])
    parser.add_argument("--data-dir", default=os.environ.get("ODR_DATA_DIR"))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-rewrap", action="store_true", help="rotate only; re-wrap later with `rewrap`")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
