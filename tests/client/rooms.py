"""An open mediation room on a running `odr dev`, reached through the public APIs the way a court
referral goes (the browser journey to get there is tested in test_mediation_in_the_browser.py),
and browser windows that already know who they are."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass

import httpx
from playwright.async_api import Page, expect

from tests.services.intake.conftest import KZ_ATM, KZ_CONSENT, calm_answers, parties

PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    role: str  # claimant | respondent | mediator
    id: str
    token: str

    def identity(self, case_id: str) -> dict:
        """What the client keeps in localStorage (identity.js) after consenting or signing in."""
        if self.role == "mediator":
            return {"mediator": {"token": self.token, "role": "mediator", "subject": self.id}}
        return {f"case:{case_id}": {"token": self.token, "role": "party", "subject": self.id, "side": self.role}}


async def open_room(base_url: str) -> tuple[str, dict[str, Person]]:
    """A court-referred case whose agreement to mediate everyone signed; (case id, people)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        async def call(method, path, expected=200, headers=None, **kw):
            r = await http.request(method, path, headers=headers, **kw)
            assert r.status_code == expected, (path, r.status_code, r.text)
            return r.json()

        def bearer(token):
            return {"Authorization": f"Bearer {token}"}

        admin = bearer((await call("POST", "/intake/dev/token", json={"subject": "admin-av", "role": "admin"}))["access_token"])
        creds = await call("POST", "/intake/admin/court-clients", 201, headers=admin,
                           json={"court_id": f"court-{uuid.uuid4().hex[:8]}", "name": "Almaty civil court"})
        granted = await call("POST", "/intake/auth/token", data={"grant_type": "client_credentials",
                                                                 "client_id": creds["client_id"],
                                                                 "client_secret": creds["client_secret"]})
        court = bearer(granted["access_token"])
        case = await call("POST", "/intake/court/v1/referrals", 201, headers=court,
                          json={"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice",
                                "docket_number": "2-19/2026", "parties": parties()})
        case_id = case["id"]
        tokens = {}
        for side in ("claimant", "respondent"):
            inv = await call("POST", f"/intake/cases/{case_id}/invitations", 201, headers=court, json={"side": side})
            answered = await call("POST", f"/intake/invitations/{inv['link_token']}/answer",
                                  json={"decision": "consent", "text_version": KZ_CONSENT})
            tokens[side] = answered["access_token"]
        for side in ("claimant", "respondent"):
            await call("POST", f"/intake/cases/{case_id}/screening", 201, headers=bearer(tokens[side]), json=calm_answers())
        username = f"av-{uuid.uuid4().hex[:8]}"
        mediator = await call("POST", "/intake/admin/mediators", 201, headers=admin, json={
            "username": username, "password": PASSWORD, "full_name": "Aliya Bekova", "kind": "professional",
            "register_number": f"R-{uuid.uuid4().hex[:6]}", "registry": "Republican chamber of mediators",
            "languages": ["kk", "ru", "en"], "specialisations": ["civil"], "jurisdictions": ["KZ"], "capacity": 3})
        proposal = await call("POST", f"/intake/cases/{case_id}/mediator-proposals", 201,
                              headers=bearer(tokens["claimant"]), json={"mediator_id": mediator["id"]})
        await call("POST", f"/intake/cases/{case_id}/mediator-proposals/{proposal['id']}/accept",
                   headers=bearer(tokens["respondent"]))
        login = await call("POST", "/intake/auth/login", json={"username": username, "password": PASSWORD})
        decided = await call("POST", f"/intake/cases/{case_id}/mediator-proposals/{proposal['id']}/decision",
                             headers=bearer(login["access_token"]),
                             json={"decision": "accept", "impartiality_declaration": True})
        tokens["mediator"] = decided["access_token"]
        for side in ("claimant", "respondent", "mediator"):
            await call("POST", f"/intake/cases/{case_id}/agreement-to-mediate/signatures", 201,
                       headers=bearer(tokens[side]), json={"text_version": KZ_ATM})
        return case_id, {role: Person(role=role, id=_subject(tok), token=tok) for role, tok in tokens.items()}


def _subject(token: str) -> str:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["sub"]


async def enter(page: Page, case_id: str, person: Person) -> None:
    """This browser is ``person`` (as after consenting or signing in) and opens the room."""
    await page.goto("/")
    await page.evaluate("([key, value]) => { localStorage.setItem(key, value); localStorage.setItem('odr.debug', '1'); }",
                        ["odr.identities", json.dumps(person.identity(case_id))])
    await page.goto(f"/cases/{case_id}/room")
    await expect(page.locator("#where")).to_be_visible(timeout=30_000)
