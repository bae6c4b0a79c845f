"""A test PKI shaped like NCA RK's, made with ``cryptography``: a root, an intermediate, people's
and a company's signing certificates with the NCA subject layout (``serialNumber=IIN…``,
``OU=BIN…``), one revoked, one expired, one for authentication only, one from a root nobody
trusts, and an OCSP responder on 127.0.0.1 (a small ASGI app under uvicorn, answering with
``cryptography.x509.ocsp``) that the certificates name in their AIA extension.

Detached CMS signatures are made with ``cryptography``'s PKCS#7 builder, the same shape NCALayer's
``createCAdESFromBase64(…, attach=false)`` returns (signed attributes, the signer's certificate).
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

NOW = datetime.now(timezone.utc)


@dataclass
class Issued:
    cert: x509.Certificate
    key: object
    issuer: "Issued | None" = None

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def sign(self, content: bytes, *, with_chain: bool = False) -> bytes:
        """A detached CMS (DER) over ``content``, as NCALayer makes it."""
        builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(self.cert, self.key, hashes.SHA256())
        if with_chain and self.issuer is not None:
            builder = builder.add_certificate(self.issuer.cert)
        return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])

    def sign_b64(self, content: bytes) -> str:
        return base64.b64encode(self.sign(content)).decode()


def _name(*, cn: str, iin: str | None = None, bin_: str | None = None, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if iin:
        attrs += [x509.NameAttribute(NameOID.SURNAME, cn.split()[0]), x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}")]
    attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"))
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if bin_:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"))
    return x509.Name(attrs)


def _ca_name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])


def _rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _issue(subject: x509.Name, key, issuer: Issued | None, *, ca: bool, ocsp_url: str | None,
           not_before: datetime = NOW - timedelta(days=30), not_after: datetime = NOW + timedelta(days=365),
           usage: str = "sign") -> Issued:
    issuer_name = issuer.cert.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if ca:
        usage_ext = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                  data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                  encipher_only=False, decipher_only=False)
    else:
        usage_ext = x509.KeyUsage(digital_signature=True, content_commitment=usage == "sign",
                                  key_encipherment=usage == "auth", data_encipherment=False, key_agreement=False,
                                  key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)
    builder = builder.add_extension(usage_ext, critical=True)
    if ocsp_url and issuer:
        builder = builder.add_extension(x509.AuthorityInformationAccess(
            [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]),
            critical=False)
    return Issued(builder.sign(signing_key, hashes.SHA256()), key, issuer)


# -- the OCSP responder ---------------------------------------------------------------------------


class OcspResponder:
    """Answers for every certificate the PKI issued, signed by that certificate's issuer."""

    def __init__(self) -> None:
        self.known: dict[int, Issued] = {}
        self.revoked: set[int] = set()
        self.requests = 0

    def answer(self, body: bytes) -> bytes:
        self.requests += 1
        try:
            request = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
                serialization.Encoding.DER)
        issued = self.known.get(request.serial_number)
        if issued is None or issued.issuer is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER)
        now = datetime.now(timezone.utc)
        revoked = request.serial_number in self.revoked
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=issued.cert, issuer=issued.issuer.cert, algorithm=request.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - timedelta(minutes=1), next_update=now + timedelta(hours=1),
            revocation_time=now - timedelta(days=1) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, issued.issuer.cert)
        for ext in request.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        return builder.sign(issued.issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "GET":  # RFC 6960 A.1: base64 request in the path
            body = base64.b64decode(scope["path"].rsplit("/", 1)[-1].replace("%2B", "+").replace("%2F", "/")
                                    .replace("%3D", "="))
        out = self.answer(body)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/ocsp-response")]})
        await send({"type": "http.response.body", "body": out})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class NcaTestPki:
    """Everything a test needs; ``write`` puts the trust anchors and intermediates into files."""

    root: Issued
    intermediate: Issued
    person: Issued
    other_person: Issued
    company: Issued
    revoked: Issued
    expired: Issued
    auth_only: Issued
    stranger: Issued
    responder: OcspResponder
    ocsp_url: str
    _server: uvicorn.Server | None = field(default=None, repr=False)

    PERSON_IIN = "900101300123"
    OTHER_IIN = "850505400777"
    COMPANY_BIN = "120340012345"
    EMPLOYEE_IIN = "770707300555"

    def write(self, directory: Path) -> dict[str, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        root, inter = directory / "nca-root.pem", directory / "nca-intermediate.pem"
        root.write_bytes(self.root.pem)
        inter.write_bytes(self.intermediate.pem)
        return {"root": root, "intermediate": inter}

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


def start_pki() -> NcaTestPki:
    """Issue the certificates and start the OCSP responder they name (stop with ``stop()``)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/ocsp"
    root = _issue(_ca_name("НУЦ РК TEST ROOT"), _rsa(), None, ca=True, ocsp_url=None,
                  not_after=NOW + timedelta(days=3650))
    inter = _issue(_ca_name("НУЦ РК TEST (RSA)"), _rsa(), root, ca=True, ocsp_url=url,
                   not_after=NOW + timedelta(days=1825))
    person = _issue(_name(cn="ЖҰМАБЕКОВ АСҚАР", iin=NcaTestPki.PERSON_IIN), _rsa(), inter, ca=False, ocsp_url=url)
    other = _issue(_name(cn="СЕРІКОВ БОЛАТ", iin=NcaTestPki.OTHER_IIN), _rsa(), inter, ca=False, ocsp_url=url)
    company = _issue(_name(cn="ҚАЙРАТОВ ДАНИЯР", iin=NcaTestPki.EMPLOYEE_IIN, bin_=NcaTestPki.COMPANY_BIN,
                           org="ТОО «Ғарыш Құрылыс»"), ec.generate_private_key(ec.SECP256R1()), inter, ca=False,
                     ocsp_url=url)
    revoked = _issue(_name(cn="ЖҰМАБЕКОВ АСҚАР", iin=NcaTestPki.PERSON_IIN), _rsa(), inter, ca=False, ocsp_url=url)
    expired = _issue(_name(cn="ЖҰМАБЕКОВ АСҚАР", iin=NcaTestPki.PERSON_IIN), _rsa(), inter, ca=False, ocsp_url=url,
                     not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=35))
    auth_only = _issue(_name(cn="ЖҰМАБЕКОВ АСҚАР", iin=NcaTestPki.PERSON_IIN), _rsa(), inter, ca=False, ocsp_url=url,
                       usage="auth")
    rogue_root = _issue(_ca_name("НУЦ РК TEST ROOT"), _rsa(), None, ca=True, ocsp_url=None)
    stranger = _issue(_name(cn="ЖҰМАБЕКОВ АСҚАР", iin=NcaTestPki.PERSON_IIN), _rsa(), rogue_root, ca=False, ocsp_url=url)
    responder = OcspResponder()
    for issued in (inter, person, other, company, revoked, expired, auth_only):
        responder.known[issued.cert.serial_number] = issued
    responder.revoked.add(revoked.cert.serial_number)

    server = uvicorn.Server(uvicorn.Config(responder, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, name="test-ocsp-responder", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test OCSP responder did not start")
        time.sleep(0.05)
    return NcaTestPki(root=root, intermediate=inter, person=person, other_person=other, company=company,
                   revoked=revoked, expired=expired, auth_only=auth_only, stranger=stranger, responder=responder,
                   ocsp_url=url, _server=server)
