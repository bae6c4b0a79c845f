"""Qualified electronic signatures (NCA RK) on a settlement, against a test PKI made here
(``tests/support/pki.py``: root, intermediate, a person's and a company's certificates in the
NCA subject layout, one revoked, one expired, one for authentication only, one from an untrusted
root) and its OCSP responder on 127.0.0.1: two parties sign with their certificates, the sealed
document, the PDF, public verification and the court feed name who signed with which
certificate, and every bad signature is refused with its own problem."""

from __future__ import annotations

import base64
import io
import json

import pytest
from asn1crypto import cms as asn1_cms
from pypdf import PdfReader

from services.agreements.algorithms import AlgorithmRegistry, RsaEcdsa, UnsupportedAlgorithm
from services.agreements.app import create_app
from tests.support.apps import running
from tests.support.pki import NcaTestPki, start_pki

from .conftest import Harness, complete_content, settings_for

COMPANY = "ТОО «Ғарыш Құрылыс»"


@pytest.fixture(scope="module")
def pki():
    pki = start_pki()
    yield pki
    pki.stop()


@pytest.fixture
async def qes(tmp_path, monkeypatch, pki: NcaTestPki):
    """The agreements app with the test PKI's root as its NCA trust anchor, revocation required."""
    files = pki.write(tmp_path / "nca")
    monkeypatch.delenv("ODR_AGREEMENTS_DATABASE_URL", raising=False)
    monkeypatch.setenv("ODR_AGREEMENTS_NCA_TRUST_ANCHORS", json.dumps([str(files["root"])]))
    monkeypatch.setenv("ODR_AGREEMENTS_NCA_INTERMEDIATES", json.dumps([str(files["intermediate"])]))
    monkeypatch.setenv("ODR_AGREEMENTS_NCA_REVOCATION", "require")
    app = create_app(settings_for(tmp_path), configure_logs=False)
    async with running(app) as client:
        yield Harness(app, client)


def content_with_ids(**overrides) -> dict:
    return complete_content(parties=[
        {"side": "claimant", "name": "Асқар Нұрланұлы Жұмабеков", "identifier": NcaTestPki.PERSON_IIN},
        {"side": "respondent", "name": COMPANY, "identifier": NcaTestPki.COMPANY_BIN, "representative": "Д. Қайратов"},
    ], **overrides)


async def open_agreement(h: Harness, *, court: str | None = None, content: dict | None = None) -> dict:
    case_id = await h.case(court=court)
    draft = await h.draft(case_id, content=content or content_with_ids())
    return await h.send_for_signature(draft)


async def sign_qualified(h: Harness, agreement: dict, headers: dict, cms_b64: str):
    return await h.client.post(f"/agreements/{agreement['id']}/signatures", headers=headers, json={
        "version": agreement["version"], "document_hash": agreement["document_hash"], "method": "qualified",
        "qualified": {"provider": "kz-nca", "cms": cms_b64}})


def over(agreement: dict) -> bytes:
    """What the party's NCALayer signs: the document hash the platform shows them."""
    return agreement["document_hash"].encode()


async def test_two_parties_sign_with_their_certificates_and_everyone_can_check_it(qes, pki):
    agreement = await open_agreement(qes, court="almaty-civil")
    case_id = agreement["case_id"]
    r = await sign_qualified(qes, agreement, qes.claimant(case_id), pki.person.sign_b64(over(agreement)))
    assert r.status_code == 200, r.text
    mine = r.json()["signatures"][0]
    assert mine["method"] == "qualified" and mine["assurance"]["iin"] == NcaTestPki.PERSON_IIN
    assert mine["assurance"]["cms"] and mine["assurance"]["revocation"].startswith("require")
    r = await sign_qualified(qes, agreement, qes.respondent(case_id), pki.company.sign_b64(over(agreement)))
    assert r.status_code == 200, r.text
    done = await qes.sign(agreement, qes.mediator(case_id))  # the mediator signs with the platform signature
    assert done["status"] == "executed"
    assert pki.responder.requests > 0  # revocation was asked of the OCSP responder

    sealed = (await qes.client.get(f"/agreements/{done['id']}/document", headers=qes.claimant(case_id))).json()
    by_slot = {s["slot"]: s for s in sealed["signatures"]}
    assert by_slot["respondent"]["assurance"]["bin"] == NcaTestPki.COMPANY_BIN
    assert by_slot["respondent"]["assurance"]["organization"] == COMPANY
    assert base64.b64decode(by_slot["claimant"]["assurance"]["cms"])  # the party's own CMS is kept
    sealed_signers = {s["slot"]: s for s in sealed["seal"]["payload"]["signers"]}
    assert sealed_signers["claimant"]["cms_sha256"] == by_slot["claimant"]["assurance"]["cms_sha256"]

    result = (await qes.client.post("/verify", json=sealed)).json()
    assert result["valid"] is True and result["checks"]["qualified_signatures"] is True, result
    checked = {s["slot"]: s for s in result["signatures"]}
    assert checked["claimant"]["valid"] and all(checked["claimant"]["checks"].values())
    assert checked["claimant"]["certificate"]["iin"] == NcaTestPki.PERSON_IIN
    assert checked["respondent"]["certificate"]["bin"] == NcaTestPki.COMPANY_BIN
    assert checked["respondent"]["certificate"]["issuer"].startswith("Common Name: НУЦ РК TEST (RSA)")
    assert checked["mediator"]["method"] == "platform"

    pdf = (await qes.client.get(f"/agreements/{done['id']}/pdf", headers=qes.claimant(case_id))).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (NcaTestPki.PERSON_IIN, NcaTestPki.COMPANY_BIN, format(pki.person.cert.serial_number, "x"),
                     format(pki.company.cert.serial_number, "x"), "НУЦ РК TEST (RSA)"):
        assert expected in text.replace("\n", ""), expected
    result = (await qes.client.post("/verify", content=pdf, headers={"content-type": "application/pdf"})).json()
    assert result["valid"] is True and len([s for s in result["signatures"] if s["method"] == "qualified"]) == 2

    feed = (await qes.client.get("/court/v1/feed", headers=qes.court("almaty-civil"))).json()
    signed = next(i for i in feed["items"] if i["agreement_id"] == done["id"] and i["signatures"])
    carried = {s["slot"]: s for s in signed["signatures"]}
    assert carried["claimant"]["iin"] == NcaTestPki.PERSON_IIN and carried["claimant"]["cms"]
    assert carried["respondent"]["bin"] == NcaTestPki.COMPANY_BIN and carried["mediator"]["method"] == "platform"


async def test_one_flipped_byte_in_a_kept_signature_fails_public_verification(qes, pki):
    agreement = await open_agreement(qes)
    case_id = agreement["case_id"]
    assert (await sign_qualified(qes, agreement, qes.claimant(case_id),
                                 pki.person.sign_b64(over(agreement)))).status_code == 200
    await qes.sign(agreement, qes.respondent(case_id))
    done = await qes.sign(agreement, qes.mediator(case_id))
    sealed = (await qes.client.get(f"/agreements/{done['id']}/document", headers=qes.claimant(case_id))).json()
    claimant = next(s for s in sealed["signatures"] if s["slot"] == "claimant")
    der = bytearray(base64.b64decode(claimant["assurance"]["cms"]))
    der[-5] ^= 0x01  # inside the signature value, at the end of the SignerInfo
    claimant["assurance"]["cms"] = base64.b64encode(bytes(der)).decode()
    result = (await qes.client.post("/verify", json=sealed)).json()
    assert result["valid"] is False and result["checks"]["qualified_signatures"] is False
    checked = next(s for s in result["signatures"] if s["slot"] == "claimant")
    assert checked["valid"] is False and checked["checks"]["signature_over_document"] is False


def _flip(der: bytes, index: int) -> str:
    data = bytearray(der)
    data[index] ^= 0x01
    return base64.b64encode(bytes(data)).decode()


def _with_signature_algorithm(der: bytes, oid: str) -> str:
    info = asn1_cms.ContentInfo.load(der)
    signer = info["content"]["signer_infos"][0]
    signer["signature_algorithm"] = {"algorithm": oid}
    return base64.b64encode(info.dump(force=True)).decode()


REFUSALS = {
    # name: (how to make the CMS from (pki, agreement), who signs, status, problem type)
    "wrong content": (lambda pki, a: pki.person.sign_b64(b"0" * 64), "claimant", 422,
                      "qualified-signature-content-mismatch"),
    "one flipped byte in the signature": (lambda pki, a: _flip(pki.person.sign(over(a)), -5), "claimant", 422,
                                          "qualified-signature-invalid"),
    "expired certificate": (lambda pki, a: pki.expired.sign_b64(over(a)), "claimant", 422, "certificate-expired"),
    "revoked certificate": (lambda pki, a: pki.revoked.sign_b64(over(a)), "claimant", 422, "certificate-revoked"),
    "untrusted chain": (lambda pki, a: pki.stranger.sign_b64(over(a)), "claimant", 422, "certificate-untrusted"),
    "authentication key": (lambda pki, a: pki.auth_only.sign_b64(over(a)), "claimant", 422,
                           "certificate-not-for-signing"),
    "IIN mismatch": (lambda pki, a: pki.other_person.sign_b64(over(a)), "claimant", 422, "signer-identity-mismatch"),
    "a person's IIN on the company's side": (lambda pki, a: pki.person.sign_b64(over(a)), "respondent", 422,
                                             "signer-identity-mismatch"),
    "malformed CMS": (lambda pki, a: base64.b64encode(b"\x30\x03\x02\x01\x01").decode(), "claimant", 422,
                      "qualified-signature-malformed"),
    "truncated CMS": (lambda pki, a: base64.b64encode(pki.person.sign(over(a))[:-40]).decode(), "claimant", 422,
                      "qualified-signature-malformed"),
    "not base64": (lambda pki, a: "not*base64!", "claimant", 422, "qualified-signature-malformed"),
    "GOST without a provider": (lambda pki, a: _with_signature_algorithm(pki.person.sign(over(a)),
                                                                         "1.2.398.3.10.1.1.2.3.1"),
                                "claimant", 501, "signature-algorithm-unavailable"),
    "unknown algorithm": (lambda pki, a: _with_signature_algorithm(pki.person.sign(over(a)), "1.3.6.1.4.1.99999.1"),
                          "claimant", 422, "signature-algorithm-unsupported"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_a_bad_signature_is_refused_with_its_own_problem(qes, pki, case):
    make, side, status, problem = REFUSALS[case]
    agreement = await open_agreement(qes)
    headers = qes.claimant(agreement["case_id"]) if side == "claimant" else qes.respondent(agreement["case_id"])
    r = await sign_qualified(qes, agreement, headers, make(pki, agreement))
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"].endswith("/" + problem) and body["detail"], body
    assert r.headers["content-type"].startswith("application/problem+json")
    view = (await qes.client.get(f"/agreements/{agreement['id']}", headers=headers)).json()
    assert view["signatures"] == []  # nothing was recorded


async def test_a_side_without_an_identifier_cannot_sign_qualified(qes, pki):
    content = content_with_ids()
    content["parties"][0].pop("identifier")
    agreement = await open_agreement(qes, content=content)
    r = await sign_qualified(qes, agreement, qes.claimant(agreement["case_id"]), pki.person.sign_b64(over(agreement)))
    assert r.status_code == 422 and r.json()["type"].endswith("/signer-identifier-missing")
    # the click signature stays available
    signed = await qes.sign(agreement, qes.claimant(agreement["case_id"]))
    assert signed["signatures"][0]["method"] == "platform"


async def test_a_signature_over_another_version_is_refused(qes, pki):
    agreement = await open_agreement(qes)
    stale = dict(agreement, document_hash="0" * 64)
    r = await sign_qualified(qes, stale, qes.claimant(agreement["case_id"]), pki.person.sign_b64(b"0" * 64))
    assert r.status_code == 409 and r.json()["type"].endswith("/document-changed")


def test_algorithms_are_pluggable_providers():
    """A GOST provider, once installed, is asked; without one the registry refuses clearly."""

    class FakeGost:
        name = "gost-test"
        signatures = frozenset({"1.2.398.3.10.1.1.2.3.1"})
        digests = frozenset({"1.2.398.3.10.1.3.2"})
        seen: list = []

        def verify(self, *, signature, data, public_key, algorithm, digest_algorithm):
            self.seen.append(algorithm["algorithm"].dotted)

        def digest(self, algorithm, data):
            return b"d"

    from asn1crypto import algos

    gost = algos.SignedDigestAlgorithm({"algorithm": "1.2.398.3.10.1.1.2.3.1"})
    with pytest.raises(UnsupportedAlgorithm):
        AlgorithmRegistry([RsaEcdsa()]).verify(signature=b"", data=b"", public_key=None, algorithm=gost,
                                               digest_algorithm=None)
    provider = FakeGost()
    registry = AlgorithmRegistry([RsaEcdsa(), provider])
    registry.verify(signature=b"", data=b"", public_key=None, algorithm=gost, digest_algorithm=None)
    assert provider.seen == ["1.2.398.3.10.1.1.2.3.1"] and registry.digest("1.2.398.3.10.1.3.2", b"x") == b"d"


async def test_after_retention_the_signers_certificate_identity_is_shredded_too(qes, pki):
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import select

    from services.agreements import maintenance
    from services.agreements.models import Signature

    agreement = await open_agreement(qes)
    case_id = agreement["case_id"]
    for headers, holder in ((qes.claimant(case_id), pki.person), (qes.respondent(case_id), pki.company)):
        r = await sign_qualified(qes, agreement, headers, holder.sign_b64(over(agreement)))
        assert r.status_code == 200, r.text
    done = await qes.sign(agreement, qes.mediator(case_id))
    sealed = (await qes.client.get(f"/agreements/{done['id']}/document", headers=qes.claimant(case_id))).json()
    later = datetime.now(timezone.utc) + timedelta(days=5 * 366)
    assert (await maintenance.run_once(qes.app.state.runtime, now=later)).shredded == 1
    async with qes.app.state.runtime.session_factory() as s:
        kept = (await s.execute(select(Signature.assurance).where(
            Signature.agreement_id == done["id"], Signature.method == "qualified"))).scalars().all()
    assert len(kept) == 2
    for assurance in kept:
        text = json.dumps(assurance, ensure_ascii=False)
        for personal in (NcaTestPki.PERSON_IIN, NcaTestPki.COMPANY_BIN, COMPANY, "Common Name"):
            assert personal not in text
        assert "cms" not in assurance and len(assurance["cms_sha256"]) == 64
    # a copy someone already holds still verifies, its CMS matched by the sealed hash
    result = (await qes.client.post("/verify", json=sealed)).json()
    assert result["valid"] is True and result["checks"]["qualified_signatures"] is True, result
