"""Encrypted storage: no plaintext terms or names in the database (SQLite file bytes, a
PostgreSQL dump) or in the event stream; key rotation with re-wrapping keeps every document
readable; tampering is detected and reported as a problem; crypto-shredding after retention."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from services.agreements import keys
from services.agreements.models import AgreementPdf, AgreementVersion, Comment, outbox

from .conftest import CLAIMANT_NAME, MEDIATOR_NAME, RESPONDENT_NAME, SECRET_TERM, SUBJECT, complete_content

COMMENT = "Секретное замечание о рассрочке kiwi-9911"
NEEDLES = [CLAIMANT_NAME, RESPONDENT_NAME, MEDIATOR_NAME, SECRET_TERM, SUBJECT, COMMENT, "900101300123", "1500000.00"]


def _variants(needle: str) -> list[bytes]:
    """The ways a string can sit in storage: UTF-8, JSON \\u escapes, UTF-16 (PDF text)."""
    return [needle.encode(), json.dumps(needle).encode()[1:-1], needle.encode("utf-16-be")]


def assert_no_plaintext(blob: bytes, where: str) -> None:
    for needle in NEEDLES:
        for variant in _variants(needle):
            assert variant not in blob, f"{needle!r} found in {where}"


async def _populate(harness) -> dict:
    done = await harness.executed(court="court-a", language="kk")
    r = await harness.client.post("/agreements", headers=harness.mediator(done["case_id"]),
                                  json={"case_id": done["case_id"], "content": complete_content()})
    draft = r.json()
    r = await harness.client.post(f"/agreements/{draft['id']}/comments", json={"text": COMMENT},
                                  headers=harness.claimant(done["case_id"]))
    assert r.status_code == 201
    return {"executed": done, "draft": draft}


async def test_the_sqlite_file_and_the_event_stream_hold_no_terms_or_names(harness, tmp_path):
    made = await _populate(harness)
    # the plaintext really is what the API returns (the needles are meaningful)
    view = (await harness.client.get(f"/agreements/{made['executed']['id']}",
                                     headers=harness.claimant(made["executed"]["case_id"]))).json()
    assert view["content"]["parties"][0]["name"] == CLAIMANT_NAME
    async with harness.runtime.session_factory() as s:
        payloads = (await s.execute(select(outbox.c.payload))).scalars().all()
        await s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    assert len(payloads) >= 4
    for p in payloads:
        assert_no_plaintext(p, "an outbox payload")
    # what reached the bus (the embedded log) too
    await harness.runtime.relay.publish_pending()
    bus_file = harness.runtime.settings.resolved_bus_path
    db_file = tmp_path / "agreements.sqlite3"
    bus_bytes = b""
    for path in (db_file, *tmp_path.glob("agreements.sqlite3-*"), bus_file, *bus_file.parent.glob("bus.sqlite3-*")):
        assert_no_plaintext(path.read_bytes(), path.name)
        bus_bytes += path.read_bytes() if path.name.startswith("bus") else b""
    assert b"odr.agreement.signed.v1" in bus_bytes  # the scan did look at the published events
    assert db_file.stat().st_size > 50_000  # the encrypted documents and PDF are in there


async def test_a_postgresql_dump_holds_no_terms_or_names(any_db_harness, database_url):
    harness = any_db_harness
    await _populate(harness)
    if not database_url.startswith("postgresql"):
        return  # the SQLite file is scanned byte for byte above
    url = make_url(database_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database)
    try:
        tables = [r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")]
        dump = []
        for table in tables:
            for row in await conn.fetch(f'SELECT t::text AS line FROM "{table}" t'):
                dump.append(row["line"])
        # bytea is dumped as hex: scan it decoded as well
        for table, column in (("agreement_versions", "ciphertext"), ("outbox", "payload"), ("agreement_pdfs", "ciphertext")):
            for row in await conn.fetch(f'SELECT "{column}" AS b FROM "{table}"'):
                dump.append(bytes(row["b"]).decode("latin-1"))
    finally:
        await conn.close()
    assert {"agreements", "agreement_versions", "comments", "seals", "audit_entries", "outbox"} <= set(tables)
    assert_no_plaintext("\n".join(dump).encode("utf-8", "surrogateescape"), "the PostgreSQL dump")


@pytest.mark.timeout(300)  # a second Python process on a loaded machine: over a minute was seen
async def test_key_rotation_rewraps_every_data_key_and_keeps_every_document_readable(harness):
    made = await _populate(harness)
    ctx = harness.runtime.context
    provider = ctx.vault.envelope.provider
    assert provider.latest_version("agreements") == 1
    async with harness.runtime.session_factory() as s:
        before = {(r.agreement_id, r.version): r.ciphertext for r in (await s.execute(select(AgreementVersion))).scalars()}

    # the command an operator runs, in its own process, against the same database and keyring
    # (dev mode, like the harness: its keys are in the data directory, which production refuses)
    env = {**os.environ, "ODR_DATA_DIR": str(harness.runtime.settings.data_dir), "ODR_DEV_MODE": "true"}
    env.pop("ODR_AGREEMENTS_DATABASE_URL", None)
    # (asynchronously: the running service keeps serving, and committing, meanwhile)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.agreements.keys", "rotate", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=240)
    assert proc.returncode == 0, stderr.decode()
    report = json.loads(stdout)
    assert report["new_version"] == 2 and report["rewrapped"] == 4  # 2 versions, a comment, a PDF
    assert all(set(counts) == {"v2"} for counts in report["items"].values() if counts), report

    async with harness.runtime.session_factory() as s:
        after = (await s.execute(select(AgreementVersion))).scalars().all()
    assert {(r.agreement_id, r.version): r.ciphertext for r in after} == before  # documents were not re-encrypted
    assert {r.kek_version for r in after} == {2}

    # the old KEK version can now be destroyed: everything still opens (the running service re-reads the keyring)
    provider.destroy_version("agreements", 1)
    case_id = made["executed"]["case_id"]
    for agreement in (made["executed"], made["draft"]):
        r = await harness.client.get(f"/agreements/{agreement['id']}", headers=harness.claimant(case_id))
        assert r.status_code == 200 and r.json()["content"]["parties"][0]["name"] == CLAIMANT_NAME
    comments = (await harness.client.get(f"/agreements/{made['draft']['id']}/comments", headers=harness.claimant(case_id)))
    assert comments.json()["items"][0]["text"] == COMMENT
    pdf = await harness.client.get(f"/agreements/{made['executed']['id']}/pdf", headers=harness.claimant(case_id))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # new content is written under the new version; a second run has nothing to do
    await harness.draft(case_id, content=complete_content())
    assert await keys.rewrap_all(harness.runtime.session_factory, ctx) == 0
    status = await keys.status(harness.runtime.session_factory)
    assert set(status["agreement_versions"]) == {"v2"}


async def test_tampered_ciphertext_or_wrapped_keys_are_reported_never_returned(harness, caplog):
    made = await _populate(harness)
    done = made["executed"]
    headers = harness.claimant(done["case_id"])

    async def corrupt(model, column, **where):
        async with harness.runtime.uow() as uow:
            row = (await uow.session.execute(select(model).filter_by(**where))).scalars().first()
            value = bytearray(getattr(row, column))
            value[-1] ^= 0x01
            await uow.session.execute(update(model).filter_by(**where).values(**{column: bytes(value)}))
            await uow.commit()

    await corrupt(AgreementVersion, "ciphertext", agreement_id=done["id"], version=1)
    r = await harness.client.get(f"/agreements/{done['id']}", headers=headers)
    assert r.status_code == 500 and r.json()["type"].endswith("/integrity-failure")
    assert r.headers["content-type"] == "application/problem+json"
    assert CLAIMANT_NAME not in r.text
    r = await harness.client.get(f"/agreements/{done['id']}/document", headers=headers)
    assert r.status_code == 500 and r.json()["type"].endswith("/integrity-failure")

    await corrupt(AgreementPdf, "wrapped_key", agreement_id=done["id"])
    r = await harness.client.get(f"/agreements/{done['id']}/pdf", headers=headers)
    assert r.status_code == 500 and r.json()["type"].endswith("/integrity-failure")

    draft = made["draft"]
    await corrupt(Comment, "wrapped_key", agreement_id=draft["id"])
    r = await harness.client.get(f"/agreements/{draft['id']}/comments", headers=headers)
    assert r.status_code == 500 and COMMENT not in r.text
    # a validly encrypted document moved to another agreement fails too (associated data)
    async with harness.runtime.uow() as uow:
        src = await uow.session.get(AgreementVersion, (draft["id"], 1))
        other = await harness.draft(draft["case_id"], content=complete_content())
        await uow.session.execute(update(AgreementVersion).where(AgreementVersion.agreement_id == other["id"])
                                  .values(ciphertext=src.ciphertext, wrapped_key=src.wrapped_key))
        await uow.commit()
    r = await harness.client.get(f"/agreements/{other['id']}", headers=headers)
    assert r.status_code == 500 and r.json()["type"].endswith("/integrity-failure")
    logged = "\n".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records)
    assert CLAIMANT_NAME not in logged and SECRET_TERM not in logged


async def test_after_the_retention_period_the_content_is_crypto_shredded(harness):
    done = await harness.executed(court="court-a")
    sealed = (await harness.client.get(f"/agreements/{done['id']}/document",
                                       headers=harness.claimant(done["case_id"]))).json()
    r = await harness.client.post("/admin/maintenance", headers=harness.admin())
    assert r.json() == {"overdue": 0, "shredded": 0}
    from services.agreements import maintenance

    later = datetime.now(timezone.utc) + timedelta(days=5 * 366)
    report = await maintenance.run_once(harness.runtime, now=later)
    assert report.shredded == 1
    headers = harness.claimant(done["case_id"])
    for path in ("", "/document", "/pdf", "/versions/1"):
        r = await harness.client.get(f"/agreements/{done['id']}{path}", headers=headers)
        assert r.status_code == 410 and r.json()["type"].endswith("/shredded"), path
    r = await harness.client.get(f"/court/v1/agreements/{done['id']}", headers=harness.court("court-a"))
    assert r.status_code == 410
    async with harness.runtime.session_factory() as s:
        keys_left = (await s.execute(select(AgreementVersion.wrapped_key).where(
            AgreementVersion.agreement_id == done["id"]))).scalars().all()
    assert keys_left == [None]
    # what someone already holds still verifies, and the audit chain stays intact
    assert (await harness.client.post("/verify", json=sealed)).json()["valid"] is True
    chain = (await harness.client.get(f"/agreements/{done['id']}/audit", headers=harness.admin())).json()
    assert chain["verification"]["valid"] and chain["entries"][-1]["action"] == "shredded"
    assert (await maintenance.run_once(harness.runtime, now=later)).shredded == 0
