"""Issue 18, finding 13: who the parties are and what the case is about are sealed at rest. After
a filing, nothing in intake's storage (the SQLite files byte for byte, every PostgreSQL row as
text) holds a name, an IIN/BIN, an email, a phone number or the description; readers entitled
to the case still see the names; a person is still found by IIN or email (keyed hashes); and
when a closed case's retention period ends, its personal data and screening answers are
crypto-shredded: unreadable and no longer found."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from services.intake import personal
from services.intake.app import create_app
from services.intake.models import Case, Participant, Screening
from shared.clock import utcnow
from shared.config import Settings
from tests.services.intake.conftest import Driver, parties
from tests.support.apps import running

DESCRIPTION = "My business partner took the delivery van and the invoices of March"
EMAIL = "aigerim.n@example.kz"
PHONE = "+7 701 555 0199"
SECRETS = ("Aigerim Nurlanovna", "900101300123", "180440012345", "TOO Dala Trade", "Serik Bekov",
           "Bekov & Partners", EMAIL, PHONE, DESCRIPTION)


def filing_parties() -> list[dict]:
    people = parties()
    people[0]["contact"] = {"email": EMAIL, "phone": PHONE}
    return people


@pytest.fixture
async def intake(tmp_path, database_url):
    """Intake on each storage (a SQLite file, a PostgreSQL database) with the embedded log."""
    settings = Settings(data_dir=tmp_path, dev_mode=True, database_url=database_url)
    app = create_app(settings, configure_logs=False)
    async with running(app) as client:
        client.app = app
        yield client


async def stored_text(client) -> str:
    """Everything the service stored, as the storage holds it: for SQLite the bytes of the
    database and its WAL and of the event log; for PostgreSQL every row of every table."""
    runtime = client.app.state.runtime
    if runtime.engine.dialect.name == "sqlite":
        data_dir = runtime.settings.data_dir
        files = [f for f in data_dir.iterdir() if ".sqlite3" in f.name]
        assert any(f.name.endswith("-wal") for f in files)
        return b"".join(f.read_bytes() for f in files).decode("latin-1")
    async with runtime.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        rows = []
        for table in tables:
            rows += (await conn.execute(text(f'SELECT t::text FROM "{table}" t'))).scalars().all()
    assert rows
    return "\n".join(rows)


async def test_no_personal_data_in_the_clear_after_a_filing(intake):
    flow = Driver(intake)
    case_id, claimant, respondent = await flow.to_eligible(parties=filing_parties(), description=DESCRIPTION)
    stored = await stored_text(intake)
    for secret in SECRETS:
        assert secret not in stored, f"{secret!r} is stored in the clear"
    # ...and readers entitled to the case still see who is in it, in the same shape as before.
    case = (await intake.get(f"/cases/{case_id}", headers=claimant)).json()
    names = {p["name"] for p in case["participants"]}
    assert {"Aigerim Nurlanovna", "TOO Dala Trade", "Serik Bekov"} <= names
    claimant_party = next(p for p in case["participants"] if p["side"] == "claimant" and p["role"] == "party")
    assert claimant_party["accessibility_needs"] == ["large_text"]


async def test_a_person_is_found_by_iin_or_email(intake):
    flow = Driver(intake)
    case_id, claimant = await flow.file(parties=filing_parties())
    other_case, _ = await flow.file(parties=parties(claimant="Someone Else"))
    admin = await flow.admin()
    lookup = "/admin/participants/lookup"
    found = (await intake.post(lookup, json={"id_number": "900101300123"}, headers=admin)).json()
    assert {(m["case_id"], m["side"], m["role"]) for m in found} >= {(case_id, "claimant", "party"),
                                                                     (other_case, "claimant", "party")}
    by_email = (await intake.post(lookup, json={"email": "  AIGERIM.N@example.KZ "}, headers=admin)).json()
    assert [(m["case_id"], m["side"], m["role"]) for m in by_email] == [(case_id, "claimant", "party")]
    assert (await intake.post(lookup, json={"id_number": "900101300124"}, headers=admin)).json() == []
    assert (await intake.post(lookup, json={}, headers=admin)).status_code == 422
    assert (await intake.post(lookup, json={"email": EMAIL}, headers=claimant)).status_code == 403
    # What a lookup column holds is a keyed hash: not the value, and not a bare hash of it.
    import hashlib

    async with intake.app.state.runtime.uow() as uow:
        hashes = set((await uow.session.execute(select(Participant.id_number_hash))).scalars())
    assert hashlib.sha256(b"900101300123").hexdigest() not in hashes
    assert "900101300123" not in hashes


async def test_a_closed_case_is_crypto_shredded_when_its_retention_ends(intake):
    flow = Driver(intake)
    case_id, claimant, respondent = await flow.to_eligible(parties=filing_parties(), description=DESCRIPTION)
    r = await intake.post(f"/cases/{case_id}/termination", json={"reason": "withdrawn"}, headers=claimant)
    assert r.status_code == 200 and r.json()["status"] == "terminated"
    runtime, ctx = intake.app.state.runtime, intake.app.state.runtime.context
    admin = await flow.admin()
    lookup = "/admin/participants/lookup"
    retention = timedelta(days=1826)  # the KZ rule set's retention_days (platform policy: 5 years)

    async with runtime.uow() as uow:  # not before the retention period has passed
        assert await personal.shred_expired(uow, now=utcnow() + retention - timedelta(days=1)) == 0
    assert (await intake.post(lookup, json={"email": EMAIL}, headers=admin)).json() != []

    async with runtime.uow() as uow:
        assert await personal.shred_expired(uow, now=utcnow() + retention + timedelta(days=1)) == 1

    async with runtime.uow() as uow:
        case = await uow.session.get(Case, case_id)
        people = (await uow.session.execute(select(Participant).where(Participant.case_id == case_id))).scalars().all()
        screenings = (await uow.session.execute(select(Screening).where(Screening.case_id == case_id))).scalars().all()
        assert case.shredded_at is not None and case.wrapped_key is None
        assert people and all(p.wrapped_key is None and p.id_number_hash is None and p.email_hash is None
                              for p in people)
        assert len(screenings) == 2 and all(s.wrapped_key is None for s in screenings)
        assert personal.open_description(ctx.personal, case) is None
        # the ciphertext is still there; with its data key gone nothing opens it
        assert all(p.ciphertext for p in people)
        assert all(p.name is None and p.id_number is None and p.contact == {}
                   for p in personal.open_people(ctx.personal, people))
    view = (await intake.get(f"/cases/{case_id}", headers=admin)).json()
    assert view["status"] == "terminated" and all(p["name"] is None for p in view["participants"])
    assert (await intake.post(lookup, json={"email": EMAIL}, headers=admin)).json() == []
    assert (await intake.post(lookup, json={"id_number": "900101300123"}, headers=admin)).json() == []
    stored = await stored_text(intake)
    for secret in SECRETS:
        assert secret not in stored


async def stored_rows(engine) -> str:
    """Every row of every table as text (what a database dump holds)."""
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        rows = []
        for table in tables:
            for row in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all():
                rows.append(repr(tuple(row)))
    return "\n".join(rows)


async def test_the_migration_seals_what_was_filed_before(tmp_path, database_url, monkeypatch):
    """Rows written in the clear by the previous release (here: the migration's downgrade, which
    opens them back) are sealed by the upgrade with the environment's keys, and read as before."""
    from alembic import command

    from shared.db import create_engine
    from shared.migrations import alembic_config

    monkeypatch.setenv("ODR_DATA_DIR", str(tmp_path))  # the keys the migration finds: the app's
    monkeypatch.setenv("ODR_DEV_MODE", "true")
    settings = Settings(data_dir=tmp_path, dev_mode=True, database_url=database_url)
    async with running(create_app(settings, configure_logs=False)) as client:
        flow = Driver(client)
        case_id, claimant = await flow.file(parties=filing_parties(), description=DESCRIPTION)

    engine = create_engine(database_url)
    script = Path(personal.__file__).parent / "migrations"

    def downgrade(connection) -> None:
        cfg = alembic_config(script)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "75ea20416b7e")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        before = await stored_rows(engine)
        assert "Aigerim Nurlanovna" in before and EMAIL in before and DESCRIPTION in before

        app = create_app(settings, configure_logs=False)  # starts with the upgrade
        async with running(app) as client:
            await engine.dispose()  # fresh connections: PostgreSQL's cached plans predate the new schema
            after = await stored_rows(engine)
            for secret in SECRETS:
                assert secret not in after
            case = (await client.get(f"/cases/{case_id}", headers=claimant)).json()
            assert "Aigerim Nurlanovna" in {p["name"] for p in case["participants"]}
            admin = await Driver(client).admin()
            found = (await client.post("/admin/participants/lookup", json={"email": EMAIL}, headers=admin)).json()
            assert [m["case_id"] for m in found] == [case_id]
            async with app.state.runtime.uow() as uow:
                row = await uow.session.get(Case, case_id)
                assert personal.open_description(app.state.runtime.context.personal, row) == DESCRIPTION
    finally:
        await engine.dispose()
