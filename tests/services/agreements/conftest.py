"""Fixtures for the agreements service: the app over a real database (SQLite file, or a
throw-away PostgreSQL database where a test asks for ``database_url``), tokens for parties,
mediators, courts and admins, and cases recorded the way the consumer of ``odr.case.filed.v1``
records them."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from services.agreements import events
from services.agreements.app import create_app
from shared.config import Settings
from shared.contracts.intake import CaseFiled
from tests.support.apps import running

# Distinctive confidential strings: the plaintext scans look for them.
CLAIMANT_NAME = "Асқар Нұрланұлы Жұмабеков"
RESPONDENT_NAME = "ТОО «Ғарыш Құрылыс»"
MEDIATOR_NAME = "Әлия Сейітқызы Бекова"
SECRET_TERM = "Қарызды бөліп төлеу zebra-quartz-7731"
SUBJECT = "Взыскание задолженности по договору подряда № 4471-ZQ"


def complete_content(**overrides) -> dict:
    content = {
        "parties": [{"side": "claimant", "name": CLAIMANT_NAME, "identifier": "900101300123"},
                    {"side": "respondent", "name": RESPONDENT_NAME}],
        "mediator": {"name": MEDIATOR_NAME, "register_number": "MED-042"},
        "subject": SUBJECT,
        "obligations": [{"id": "pay-1", "obligor": "respondent", "obligee": "claimant", "what": SECRET_TERM,
                         "amount": "1500000.00", "currency": "KZT", "deadline": "2030-01-15",
                         "manner": "банктік аударым / банковский перевод"}],
        "consequences": "Если соглашение не исполнено добровольно, истец вправе обратиться в суд.",
    }
    content.update(overrides)
    return content


class Harness:
    def __init__(self, app, client) -> None:
        self.app = app
        self.client = client
        self.runtime = app.state.runtime

    def token(self, role: str, subject: str, *, cases=(), court=None, side=None) -> dict:
        token = self.runtime.tokens.issue(subject=subject, role=role, cases=list(cases), court=court, party_side=side)
        return {"Authorization": f"Bearer {token}"}

    def claimant(self, case_id):
        return self.token("party", f"claimant:{case_id}", cases=[case_id], side="claimant")

    def respondent(self, case_id):
        return self.token("party", f"respondent:{case_id}", cases=[case_id], side="respondent")

    def mediator(self, case_id, subject="mediator-1"):
        return self.token("mediator", subject, cases=[case_id])

    def court(self, court_id):
        return self.token("court", f"client-{court_id}", court=court_id)

    def admin(self):
        return self.token("admin", "ops")

    async def case(self, *, court: str | None = None, jurisdiction: str = "KZ", category: str = "civil",
                   reference: str | None = None, referred_by: str | None = None) -> str:
        """Record a case as the ``case-events`` consumer does on ``odr.case.filed.v1``."""
        case_id = str(uuid.uuid4())
        evt = CaseFiled(case_id=case_id, reference=reference, jurisdiction=jurisdiction, category=category,
                        court_id=court, filed_at=datetime.now(timezone.utc), referred_by=referred_by)
        async with self.runtime.uow() as uow:
            await events.on_case_filed(uow.session, evt, None)
            await uow.commit()
        return case_id

    async def draft(self, case_id: str, *, language="ru", content=None, expect=201, **extra) -> dict:
        body = {"case_id": case_id, "language": language, **extra}
        if content is not None:
            body["content"] = content
        r = await self.client.post("/agreements", json=body, headers=self.mediator(case_id))
        assert r.status_code == expect, r.text
        return r.json()

    async def send_for_signature(self, agreement: dict) -> dict:
        r = await self.client.post(f"/agreements/{agreement['id']}/signature-request",
                                   json={"version": agreement["version"]}, headers=self.mediator(agreement["case_id"]))
        assert r.status_code == 200, r.text
        return r.json()

    async def sign(self, agreement: dict, headers: dict, *, expect=200) -> dict:
        r = await self.client.post(f"/agreements/{agreement['id']}/signatures", headers=headers,
                                   json={"version": agreement["version"], "document_hash": agreement["document_hash"]})
        assert r.status_code == expect, r.text
        return r.json()

    async def executed(self, *, court: str | None = None, language="kk", content=None,
                       reference: str | None = None, **case) -> dict:
        """A case with an agreement signed by both parties and the mediator."""
        case_id = await self.case(court=court, reference=reference, **case)
        agreement = await self.draft(case_id, language=language, content=content or complete_content())
        agreement = await self.send_for_signature(agreement)
        await self.sign(agreement, self.claimant(case_id))
        await self.sign(agreement, self.respondent(case_id))
        done = await self.sign(agreement, self.mediator(case_id))
        assert done["status"] == "executed", done
        return done


def settings_for(tmp_path, database_url: str | None = None) -> Settings:
    return Settings(data_dir=tmp_path, dev_mode=True, log_format="text", database_url=database_url)


@pytest.fixture
async def harness(tmp_path, monkeypatch):
    monkeypatch.delenv("ODR_AGREEMENTS_DATABASE_URL", raising=False)
    app = create_app(settings_for(tmp_path), configure_logs=False)
    async with running(app) as client:
        yield Harness(app, client)


@pytest.fixture
async def any_db_harness(tmp_path, database_url, monkeypatch):
    """The same on SQLite and on PostgreSQL."""
    monkeypatch.delenv("ODR_AGREEMENTS_DATABASE_URL", raising=False)
    app = create_app(settings_for(tmp_path, database_url), configure_logs=False)
    async with running(app) as client:
        yield Harness(app, client)


