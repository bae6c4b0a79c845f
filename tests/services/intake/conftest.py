"""Intake fixtures: the app on SQLite + embedded log in dev mode, and a driver that walks a case
through the API the way the parties, a mediator and an administrator would."""

from __future__ import annotations

import itertools

import pytest

from services.intake.app import create_app
from services.intake.screening import QUESTION_IDS
from shared.config import Settings
from tests.support.apps import running

KZ_CONSENT = "KZ-consent-2023.1"
KZ_ATM = "KZ-atm-2023.1"
_names = itertools.count()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def calm_answers(**overrides) -> dict:
    body = {"answers": {q: False for q in QUESTION_IDS}, "fear_level": 0, "safe_in_same_room": True,
            "wants_support_person": False}
    body.update(overrides)
    return body


def parties(claimant="Aigerim Nurlanovna", respondent="TOO Dala Trade", **respondent_extra) -> list[dict]:
    return [
        {"side": "claimant", "kind": "natural_person", "name": claimant, "language": "kk",
         "id_number": "900101300123", "accessibility_needs": ["large_text"],
         "representatives": [{"name": "Serik Bekov", "organisation": "Bekov & Partners"}]},
        {"side": "respondent", "kind": "legal_entity", "name": respondent, "language": "ru",
         "id_number": "180440012345", **respondent_extra},
    ]


def criminal_parties(victim_language="kk", suspect_role="suspect") -> list[dict]:
    """A criminal case's parties: the victim with a representative, and a minor suspect with a
    legal representative (her mother) and a defence counsel."""
    return [
        {"side": "victim", "name": "Aigerim Nurlanovna", "language": victim_language, "id_number": "900101300123",
         "representatives": [{"name": "Serik Bekov", "organisation": "Bekov & Partners"}]},
        {"side": suspect_role, "name": "Daniyar Ospanov", "language": "ru", "id_number": "090505500111",
         "legal_representatives": [{"name": "Gulnara Ospanova"}],
         "representatives": [{"name": "Askar Temirov", "organisation": "Almaty Bar"}]},
    ]


class Driver:
    """Steps of the intake flow over HTTP; each asserts the step worked and returns what it got."""

    def __init__(self, client, prefix: str = "") -> None:
        self.c = client
        self.p = prefix

    async def token(self, role: str, subject: str, cases=()) -> dict[str, str]:
        r = await self.c.post(f"{self.p}/dev/token", json={"subject": subject, "role": role, "cases": list(cases)})
        assert r.status_code == 200, r.text
        return bearer(r.json()["access_token"])

    async def admin(self) -> dict[str, str]:
        return await self.token("admin", "admin-1")

    async def file(self, **body) -> tuple[str, dict[str, str]]:
        filing = {"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice for deliveries",
                  "parties": parties()}
        filing.update(body)
        r = await self.c.post(f"{self.p}/cases", json=filing)
        assert r.status_code == 201, r.text
        return r.json()["case"]["id"], bearer(r.json()["access_token"])

    async def invite(self, case_id: str, claimant: dict, side: str = "respondent") -> dict:
        r = await self.c.post(f"{self.p}/cases/{case_id}/invitations", json={"side": side}, headers=claimant)
        assert r.status_code == 201, r.text
        return r.json()

    async def consent(self, link_token: str, decision: str = "consent") -> dict:
        r = await self.c.post(f"{self.p}/invitations/{link_token}/answer",
                              json={"decision": decision, "text_version": KZ_CONSENT})
        assert r.status_code == 200, r.text
        return r.json()

    async def to_screening(self, **filing) -> tuple[str, dict, dict]:
        case_id, claimant = await self.file(**filing)
        inv = await self.invite(case_id, claimant)
        answered = await self.consent(inv["link_token"])
        assert answered["case"]["status"] == "screening"
        return case_id, claimant, bearer(answered["access_token"])

    async def screen(self, case_id: str, party: dict, **answers) -> dict:
        r = await self.c.post(f"{self.p}/cases/{case_id}/screening", json=calm_answers(**answers), headers=party)
        assert r.status_code == 201, r.text
        return r.json()

    async def to_eligible(self, **filing) -> tuple[str, dict, dict]:
        case_id, claimant, respondent = await self.to_screening(**filing)
        await self.screen(case_id, claimant)
        await self.screen(case_id, respondent)
        return case_id, claimant, respondent

    async def mediator(self, admin: dict, **profile) -> tuple[str, str]:
        """A register entry with a login; returns (mediator id, username)."""
        n = next(_names)
        body = {"username": f"mediator{n}", "password": "correct horse battery", "full_name": f"Mediator {n}",
                "kind": "professional", "register_number": f"R-{n}", "registry": "Republican chamber of mediators",
                "languages": ["kk", "ru"], "specialisations": ["civil"], "jurisdictions": ["KZ"], "capacity": 3}
        body.update(profile)
        r = await self.c.post(f"{self.p}/admin/mediators", json=body, headers=admin)
        assert r.status_code == 201, r.text
        return r.json()["id"], body["username"]

    async def login(self, username: str) -> dict[str, str]:
        r = await self.c.post(f"{self.p}/auth/login", json={"username": username, "password": "correct horse battery"})
        assert r.status_code == 200, r.text
        return bearer(r.json()["access_token"])

    async def assign(self, case_id: str, claimant: dict, respondent: dict, mediator_id: str, username: str) -> dict:
        r = await self.c.post(f"{self.p}/cases/{case_id}/mediator-proposals", json={"mediator_id": mediator_id},
                              headers=claimant)
        assert r.status_code == 201, r.text
        proposal = r.json()["id"]
        r = await self.c.post(f"{self.p}/cases/{case_id}/mediator-proposals/{proposal}/accept", headers=respondent)
        assert r.status_code == 200 and r.json()["respondent_accepted"], r.text
        mediator = await self.login(username)
        r = await self.c.post(f"{self.p}/cases/{case_id}/mediator-proposals/{proposal}/decision", headers=mediator,
                              json={"decision": "accept", "impartiality_declaration": True})
        assert r.status_code == 200, r.text
        return bearer(r.json()["access_token"])

    async def sign(self, case_id: str, who: dict, expect: int = 201) -> dict:
        r = await self.c.post(f"{self.p}/cases/{case_id}/agreement-to-mediate/signatures",
                              json={"text_version": KZ_ATM}, headers=who)
        assert r.status_code == expect, r.text
        return r.json()

    async def status(self, case_id: str, who: dict) -> str:
        r = await self.c.get(f"{self.p}/cases/{case_id}", headers=who)
        assert r.status_code == 200, r.text
        return r.json()["status"]


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path, dev_mode=True, log_format="json")


@pytest.fixture
async def app_client(settings):
    app = create_app(settings, configure_logs=False)
    async with running(app) as c:
        c.app = app
        yield c


@pytest.fixture
def flow(app_client):
    return Driver(app_client)
