"""Human case references (KZ-2026-000123): given at filing, one number per case and none twice,
consecutive within a jurisdiction and year even when many people file at the same moment, on
PostgreSQL as on SQLite; existing cases get theirs when the migration runs."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa

from services.intake.app import SPEC, create_app
from services.intake.models import CaseReferenceCounter
from services.intake.references import filing_year
from shared.clock import utcnow
from shared.config import Settings
from shared.db import UTCDateTime, create_engine
from shared.migrations import upgrade
from tests.support.apps import running

from .conftest import Driver, parties

REFERENCE = re.compile(r"^KZ-(\d{4})-(\d{6})$")


async def _file_many(client, n: int) -> list[dict]:
    async def one(i: int) -> dict:
        body = {"jurisdiction": "KZ", "category": "civil", "description": f"Unpaid invoice {i}", "parties": parties()}
        r = await client.post("/cases", json=body, headers={"Idempotency-Key": f"many-{i}"})
        assert r.status_code == 201, r.text
        return r.json()["case"]

    return await asyncio.gather(*(one(i) for i in range(n)))


async def test_concurrent_filings_on_postgresql_get_consecutive_references_none_twice(tmp_path, database_url):
    """Twenty filings at once (each its own connection from the pool): twenty different references,
    numbered 1..20 in the filing year, and the case page says which."""
    settings = Settings(data_dir=tmp_path, dev_mode=True, database_url=database_url, log_format="json")
    async with running(create_app(settings, configure_logs=False)) as client:
        filed = await _file_many(client, 20)
        references = [c["reference"] for c in filed]
        assert len(set(references)) == 20
        year = filing_year(utcnow(), "Asia/Almaty")
        numbers = sorted(int(REFERENCE.match(r).group(2)) for r in references)
        assert numbers == list(range(1, 21))
        assert all(REFERENCE.match(r).group(1) == str(year) for r in references)

        # the case as its parties read it carries the reference too
        flow = Driver(client)
        case_id, claimant = await flow.file()
        r = await client.get(f"/cases/{case_id}", headers=claimant)
        assert r.status_code == 200
        assert r.json()["reference"] == f"KZ-{year}-000021"


async def test_references_are_counted_per_jurisdiction(flow, app_client):
    case_id, claimant = await flow.file()
    kz = (await app_client.get(f"/cases/{case_id}", headers=claimant)).json()["reference"]
    r = await app_client.post("/cases", json={"jurisdiction": "EU", "category": "civil", "description": "Parcel lost",
                                              "parties": parties()})
    assert r.status_code == 201, r.text
    eu = r.json()["case"]["reference"]
    assert kz.startswith("KZ-") and kz.endswith("-000001")
    assert eu.startswith("EU-") and eu.endswith("-000001")


async def test_filing_again_with_the_same_key_keeps_the_reference(app_client):
    body = {"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice", "parties": parties()}
    first = await app_client.post("/cases", json=body, headers={"Idempotency-Key": "same"})
    again = await app_client.post("/cases", json=body, headers={"Idempotency-Key": "same"})
    assert first.json()["case"]["reference"] == again.json()["case"]["reference"]
    assert first.json()["case"]["reference"].endswith("-000001")


async def test_the_migration_numbers_existing_cases_in_filing_order(tmp_path):
    """Cases filed before references existed are numbered by the migration, per jurisdiction and
    year in filing order, and new filings continue after them."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.sqlite3'}"
    engine = create_engine(url)
    try:
        await upgrade(engine, SPEC.migrations, "personal_data_sealed")
        cases = sa.table("cases", *(sa.column(c, sa.String) for c in (
            "id", "jurisdiction", "category", "status", "filed_by", "language")),
            sa.column("filed_at", UTCDateTime(timezone=True)),
            *(sa.column(c, sa.JSON) for c in ("facts", "rules_fired", "safeguards")),
            sa.column("ciphertext", sa.LargeBinary), sa.column("kek_id", sa.String), sa.column("kek_version", sa.Integer))
        rows = [("KZ", datetime(2025, 12, 31, 20, 0, tzinfo=timezone.utc)),  # 1 January 2026 in Almaty
                ("KZ", datetime(2025, 6, 1, tzinfo=timezone.utc)),
                ("KZ", datetime(2026, 3, 1, tzinfo=timezone.utc)),
                ("EU", datetime(2026, 3, 2, tzinfo=timezone.utc))]
        ids = [str(uuid.uuid4()) for _ in rows]
        async with engine.begin() as conn:
            for case_id, (jurisdiction, filed_at) in zip(ids, rows):
                await conn.execute(sa.insert(cases).values(
                    id=case_id, jurisdiction=jurisdiction, category="civil", status="filed", filed_by="x",
                    filed_at=filed_at, language="ru", facts={}, rules_fired=[], safeguards=[],
                    ciphertext=b"sealed", kek_id="intake-personal", kek_version=1))
        await upgrade(engine, SPEC.migrations)
        async with engine.connect() as conn:
            got = dict((await conn.execute(sa.text("SELECT id, reference FROM cases"))).all())
            counters = {(j, y): n for j, y, n in (await conn.execute(sa.select(
                CaseReferenceCounter.jurisdiction, CaseReferenceCounter.year, CaseReferenceCounter.last_number))).all()}
        assert [got[i] for i in ids] == ["KZ-2026-000001", "KZ-2025-000001", "KZ-2026-000002", "EU-2026-000001"]
        assert counters == {("KZ", 2026): 2, ("KZ", 2025): 1, ("EU", 2026): 1}
    finally:
        await engine.dispose()
