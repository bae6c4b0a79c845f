"""Two parties sign a settlement with their digital signatures (NCA RK test certificates) in the
browser. NCALayer, the desktop application that holds a person's keys, is replaced here by a
STAND-IN: a small websocket server in this test that speaks NCALayer's documented
``kz.gov.pki.knca.commonUtils`` messages and signs with a test key from ``tests/support/pki.py``.
The client's NCALayer address points at it through ``ODR_AGREEMENTS_NCALAYER_URL``, which only
dev mode honours. The mediator signs with the plain click signature, which stays available."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import uuid

import httpx
import pytest
import websockets
from playwright.async_api import expect
from pypdf import PdfReader

from shared.auth import KeyRing, TokenService
from tests.e2e.support import free_port
from tests.support.pki import NcaTestPki, start_pki

pytestmark = pytest.mark.timeout(300)


class NcaLayerStandIn:
    """Stands in for the NCALayer desktop application: greets with its version, then answers
    ``createCAdESFromBase64`` with a detached CMS made with the key of whoever sits at the
    computer now (``person``)."""

    def __init__(self) -> None:
        self.person = None
        self.requests: list[dict] = []

    async def handle(self, ws) -> None:
        await ws.send(json.dumps({"result": {"version": "1.4-test-stand-in"}}))
        async for raw in ws:
            request = json.loads(raw)
            self.requests.append(request)
            if request.get("module") != "kz.gov.pki.knca.commonUtils" or request.get("method") != "createCAdESFromBase64":
                await ws.send(json.dumps({"code": "500", "message": "unknown method"}))
                continue
            storage, key_type, data, attach = request["args"]
            assert key_type == "SIGNATURE" and attach is False
            cms = self.person.sign(base64.b64decode(data))
            await ws.send(json.dumps({"code": "200", "responseObject": base64.b64encode(cms).decode()}))


@pytest.fixture(scope="module")
def pki():
    pki = start_pki()
    yield pki
    pki.stop()


@pytest.fixture
def ncalayer():
    """The stand-in on its own thread and event loop (the ``odr`` fixture needs its address first)."""
    stand_in = NcaLayerStandIn()
    port = free_port()
    stand_in.url = f"ws://127.0.0.1:{port}"
    loop = asyncio.new_event_loop()
    started, stop = threading.Event(), None

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with websockets.serve(stand_in.handle, "127.0.0.1", port):
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="ncalayer-stand-in", daemon=True)
    thread.start()
    assert started.wait(60), "the NCALayer stand-in did not start"
    yield stand_in
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


@pytest.fixture
def odr_extra_env(tmp_path, pki, ncalayer):
    files = pki.write(tmp_path / "nca")
    return {"ODR_AGREEMENTS_NCA_TRUST_ANCHORS": json.dumps([str(files["root"])]),
            "ODR_AGREEMENTS_NCA_INTERMEDIATES": json.dumps([str(files["intermediate"])]),
            "ODR_AGREEMENTS_NCA_REVOCATION": "require", "ODR_AGREEMENTS_NCALAYER_URL": ncalayer.url}


async def test_two_parties_sign_with_their_digital_signatures_in_the_browser(odr, odr_extra_env, browser, artifacts,
                                                                            ncalayer, pki, tmp_path):
    tokens = TokenService(KeyRing.load(tmp_path / "var" / "keys" / "jwt.json"))
    mediator = {"Authorization": f"Bearer {tokens.issue(subject='mediator-qes', role='mediator', cases=[])}"}
    async with httpx.AsyncClient(base_url=odr) as http:
        admin = (await http.post("/intake/dev/token", json={"subject": "admin-1", "role": "admin"})).json()["access_token"]
        creds = (await http.post("/intake/admin/court-clients", headers={"Authorization": f"Bearer {admin}"},
                                 json={"court_id": "almaty-civil", "name": "Almaty civil court"})).json()
        court = (await http.post("/intake/auth/token", data={
            "grant_type": "client_credentials", "client_id": creds["client_id"],
            "client_secret": creds["client_secret"]})).json()["access_token"]
        referral = (await http.post("/intake/court/v1/referrals", headers={"Authorization": f"Bearer {court}"}, json={
            "jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice",
            "docket_number": f"2-{uuid.uuid4().hex[:4]}/2026", "parties": [
                {"side": "claimant", "kind": "natural_person", "name": "Asqar Zhumabekov", "language": "en",
                 "id_number": NcaTestPki.PERSON_IIN},
                {"side": "respondent", "kind": "legal_entity", "name": "TOO Gharysh", "language": "en",
                 "id_number": NcaTestPki.COMPANY_BIN}]})).json()
        case_id = referral["id"]
        mediator = {"Authorization": f"Bearer {tokens.issue(subject='mediator-qes', role='mediator', cases=[case_id])}"}
        content = {"parties": [{"side": "claimant", "name": "Asqar Zhumabekov", "identifier": NcaTestPki.PERSON_IIN},
                               {"side": "respondent", "name": "TOO Gharysh", "identifier": NcaTestPki.COMPANY_BIN}],
                   "mediator": {"name": "Aliya Bekova", "register_number": "R-1"},
                   "subject": "Unpaid invoice No. 17",
                   "obligations": [{"obligor": "respondent", "obligee": "claimant", "what": "Pay the invoice",
                                    "amount": "400000.00", "currency": "KZT", "deadline": "2030-03-01"}],
                   "consequences": "If not performed voluntarily, the claimant may go to court."}
        for _ in range(150):  # the agreements service learns of the referral from intake's events
            r = await http.post("/agreements/agreements", headers=mediator,
                                json={"case_id": case_id, "language": "en", "content": content})
            if r.status_code != 409:
                break
            await asyncio.sleep(0.2)
        assert r.status_code == 201, r.text
        agreement = r.json()
        r = await http.post(f"/agreements/agreements/{agreement['id']}/signature-request", headers=mediator,
                            json={"version": agreement["version"]})
        assert r.status_code == 200, r.text

    pages = {}
    for side, person in (("claimant", pki.person), ("respondent", pki.company)):
        token = tokens.issue(subject=f"{side}-qes", role="party", cases=[case_id], party_side=side)
        identities = {f"case:{case_id}": {"token": token, "role": "party", "subject": f"{side}-qes", "side": side}}
        context = await browser.new_context(base_url=odr, locale="en-GB", viewport={"width": 1100, "height": 900})
        await context.add_init_script(f"localStorage.setItem('odr.identities', {json.dumps(json.dumps(identities))})")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        await page.goto(f"/cases/{case_id}/agreements/{agreement['id']}")
        await expect(page.locator("#sign-qualified")).to_be_visible()
        await expect(page.locator("#sign")).to_be_visible()  # the plain click signature stays available
        await page.locator("#sign-confirm").check()
        ncalayer.person = person  # this party sits at their own computer, with their own key
        await page.locator("#sign-qualified").click()
        await expect(page.locator("#sign-qualified")).to_have_count(0, timeout=30_000)
        expected = f"IIN {NcaTestPki.PERSON_IIN}" if side == "claimant" else f"BIN {NcaTestPki.COMPANY_BIN}"
        await expect(page.locator("#signatures")).to_contain_text(expected)
        await page.screenshot(path=artifacts / f"{side}-signed-with-digital-signature.png", full_page=True)
        assert not errors, errors
        pages[side] = page
    assert [r["args"][2] for r in ncalayer.requests] == [base64.b64encode(agreement["document_hash"].encode()).decode()] * 2

    async with httpx.AsyncClient(base_url=odr) as http:
        r = await http.post(f"/agreements/agreements/{agreement['id']}/signatures", headers=mediator,
                            json={"version": agreement["version"], "document_hash": agreement["document_hash"]})
        assert r.status_code == 200 and r.json()["status"] == "executed", r.text
        pdf = (await http.get(f"/agreements/agreements/{agreement['id']}/pdf", headers=mediator)).content
        result = (await http.post("/agreements/verify", content=pdf, headers={"content-type": "application/pdf"})).json()
    assert result["valid"] is True, result
    qualified = {s["slot"]: s for s in result["signatures"] if s["method"] == "qualified"}
    assert set(qualified) == {"claimant", "respondent"} and all(s["valid"] for s in qualified.values())
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    assert NcaTestPki.PERSON_IIN in text and NcaTestPki.COMPANY_BIN in text
    (artifacts / "agreement-signed-with-digital-signatures.pdf").write_bytes(pdf)

    page = pages["claimant"]
    await page.reload()
    await expect(page.locator("#agreement-status")).to_contain_text("Signed by everyone")
    await expect(page.locator("#signatures")).to_contain_text(f"BIN {NcaTestPki.COMPANY_BIN}")
    await page.screenshot(path=artifacts / "executed.png", full_page=True)
