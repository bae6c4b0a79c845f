"""Qualified electronic signatures of NCA RK (ЭЦП, НУЦ РК) on a settlement: a detached CMS made
by NCALayer (or any CAdES tool) with the party's key over the agreement's document hash.

What is checked when a party signs (``NcaVerifier.verify``), each failure a problem of its own:

1. the CMS structure and its one signature over the exact content (``cms.py``);
2. the signer's certificate chain up to a configured trust anchor (the NCA root certificates,
   read from files named in the settings, never fetched), valid *now* (the moment the platform
   receives the signature is the signing time; the time the CMS claims is recorded, not trusted),
   with key usage ``nonRepudiation`` (NCA "signature" keys; authentication keys are refused);
3. revocation of every certificate by OCSP or CRL as the settings say (``pyhanko_certvalidator``
   fetches OCSP responses and CRLs from the addresses in the certificates, or uses CRL files);
4. the IIN (``serialNumber=IIN…``) or BIN (``OU=BIN…``) in the certificate equals an identifier the
   agreement gives for that side. An agreement without an identifier for the signer's side cannot
   be signed qualified: the certificate would bind a person to nothing in the document. The mediator
   has no IIN in the document either, so the mediator signs with the platform signature.

Why ``pyhanko_certvalidator``: it is the maintained fork of ``certvalidator`` used by pyHanko for
PAdES/CAdES validation; it does RFC 5280 path validation at a chosen moment, OCSP and CRL with
hard-fail policies, takes trust roots we give it, fetches nothing unless allowed, and lets us plug
our algorithm registry in as its signature validator (so GOST works in the chain too once a
provider is installed).

``NcaVerifier.recheck`` is the offline re-check for public verification: the same CMS and chain
at the recorded signing time, with no network; revocation is reported as it was at signing.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import pem, x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (ExpiredError, InsufficientRevinfoError, InvalidCertificateError,
                                          NotYetValidError, PathBuildingError, PathValidationError, RevokedError,
                                          ValidationError)
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from shared.clock import utcnow
from shared.problems import Problem

from . import cms
from .algorithms import AlgorithmRegistry, AlgorithmUnavailable, UnsupportedAlgorithm

PROVIDER = "kz-nca"
KEY_USAGE = {"non_repudiation"}


@dataclass(frozen=True)
class QualifiedIdentity:
    """Who signed, by their certificate (what a court reads next to the signature)."""

    provider: str
    subject: str
    common_name: str | None
    iin: str | None
    bin: str | None
    organization: str | None
    certificate_serial: str
    issuer: str
    not_before: str
    not_after: str
    algorithm: str
    claimed_signing_time: str | None
    checked_at: str
    revocation: str

    def as_dict(self) -> dict:
        return asdict(self)


def refuse(code: str, detail: str, *, status: int = 422) -> Problem:
    return Problem(status, code, detail)


# -- certificates ---------------------------------------------------------------------------------


def _certificates_in(path: Path) -> list[x509.Certificate]:
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    out = []
    for f in files:
        data = f.read_bytes()
        if pem.detect(data):
            out += [x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                    if kind == "CERTIFICATE"]
        else:
            out.append(x509.Certificate.load(data))
    return out


def load_certificates(paths: list[Path]) -> list[x509.Certificate]:
    """Certificates from PEM or DER files, or every file of a directory."""
    certs = []
    for p in paths:
        certs += _certificates_in(Path(p))
    return certs


def load_crls(paths: list[Path]) -> list[asn1_crl.CertificateList]:
    out = []
    for p in paths:
        data = Path(p).read_bytes()
        ders = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
        out += [asn1_crl.CertificateList.load(d) for d in ders]
    return out


def _readable(name: x509.Name) -> str:
    """``Common Name: …, Serial Number: IIN…, Country: KZ``: what a person reading the PDF understands."""
    return name.human_friendly


def _values(name: x509.Name, field: str) -> list[str]:
    value = name.native.get(field)
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def identity_of(cert: x509.Certificate, *, algorithm: str, claimed: datetime | None, checked_at: datetime,
                revocation: str) -> QualifiedIdentity:
    """The NCA subject layout: ``serialNumber=IIN<12 digits>`` for the person, ``OU=BIN<12 digits>``
    for the company they act for, ``O`` the company's name, ``CN`` the person's name."""
    subject = cert.subject
    iin = next((v[3:] for v in _values(subject, "serial_number") if v.startswith("IIN") and v[3:].isdigit()), None)
    bin_ = next((v[3:] for v in _values(subject, "organizational_unit_name")
                 if v.startswith("BIN") and v[3:].isdigit()), None)
    names = _values(subject, "common_name")
    orgs = _values(subject, "organization_name")
    return QualifiedIdentity(
        provider=PROVIDER, subject=_readable(subject), common_name=names[0] if names else None, iin=iin, bin=bin_,
        organization=orgs[0] if orgs else None, certificate_serial=format(cert.serial_number, "x"),
        issuer=_readable(cert.issuer), not_before=cert.not_valid_before.isoformat(),
        not_after=cert.not_valid_after.isoformat(), algorithm=algorithm,
        claimed_signing_time=claimed.isoformat() if claimed else None, checked_at=checked_at.isoformat(),
        revocation=revocation)


def check_identity(identity: QualifiedIdentity, identifiers: set[str]) -> None:
    """The certificate's IIN or BIN must be one the agreement gives for the signer's side."""
    if not identifiers:
        raise refuse("signer-identifier-missing",
                     "the agreement gives no IIN/BIN for your side, so a digital signature cannot be tied to you; "
                     "ask the mediator to add it, or sign with the platform signature")
    if not ({identity.iin, identity.bin} - {None}) & identifiers:
        raise refuse("signer-identity-mismatch",
                     "the IIN/BIN in your certificate is not the one the agreement gives for your side")


# -- the verifier ---------------------------------------------------------------------------------


@dataclass
class NcaVerifier:
    trust_anchors: list[x509.Certificate]
    intermediates: list[x509.Certificate]
    algorithms: AlgorithmRegistry
    revocation: str = "hard-fail"  # off | soft-fail | hard-fail | require
    fetch_revocation: bool = True
    crls: list[asn1_crl.CertificateList] | None = None
    fetch_timeout: float = 10.0
    provider: str = PROVIDER

    def _context(self, *, moment: datetime, online: bool, fetchers=None) -> ValidationContext:
        checking = online and self.revocation != "off"
        return ValidationContext(
            trust_roots=self.trust_anchors, other_certs=self.intermediates, moment=moment,
            allow_fetching=checking and self.fetch_revocation, fetchers=fetchers if checking else None,
            crls=(self.crls or []) if checking else [],
            revocation_mode=self.revocation if checking else "soft-fail", signature_validator=self.algorithms)

    def _signed(self, cms_der: bytes, content: bytes) -> cms.SignedCms:
        try:
            return cms.verify_detached(cms_der, content=content, algorithms=self.algorithms)
        except cms.MalformedCms as e:
            raise refuse("qualified-signature-malformed", str(e)) from None
        except cms.ContentMismatch:
            raise refuse("qualified-signature-content-mismatch",
                         "the signature is over other content than this agreement's document hash") from None
        except cms.BadSignature as e:
            raise refuse("qualified-signature-invalid", str(e)) from None
        except AlgorithmUnavailable as e:
            raise refuse("signature-algorithm-unavailable",
                         f"the signature uses {e.algorithm} (GOST), and no GOST provider is installed on this "
                         "platform; sign with an RSA or ECDSA key", status=501) from None
        except UnsupportedAlgorithm as e:
            raise refuse("signature-algorithm-unsupported",
                         f"the signature algorithm {e.algorithm} is not supported") from None

    async def _validate(self, signed: cms.SignedCms, context: ValidationContext) -> None:
        others = [c for c in signed.certificates if c.dump() != signed.signer.dump()]
        validator = CertificateValidator(signed.signer, intermediate_certs=others + self.intermediates,
                                         validation_context=context)
        try:
            await validator.async_validate_usage(KEY_USAGE)
        except (ExpiredError, NotYetValidError):
            raise refuse("certificate-expired", "the signing certificate was not valid at the time of signing") \
                from None
        except RevokedError:
            raise refuse("certificate-revoked", "the signing certificate has been revoked") from None
        except InsufficientRevinfoError:
            raise refuse("revocation-status-unavailable",
                         "the revocation status of the signing certificate could not be checked (OCSP/CRL); "
                         "try again shortly", status=503) from None
        except PathBuildingError:
            raise refuse("certificate-untrusted",
                      "the signing certificate does not chain to a trusted NCA root") from None
        except InvalidCertificateError as e:
            raise refuse("certificate-not-for-signing", f"the certificate may not make this signature: {e}") from None
        except (PathValidationError, ValidationError) as e:
            raise refuse("certificate-untrusted", f"the certificate chain does not validate: {e}") from None

    async def verify(self, *, content: bytes, cms_der: bytes) -> QualifiedIdentity:
        """Check a signature being made now; the identity it proves, or a problem."""
        signed = self._signed(cms_der, content)
        now = utcnow()
        if self.revocation != "off" and self.fetch_revocation:
            async with AIOHttpFetcherBackend(per_request_timeout=self.fetch_timeout) as fetchers:
                await self._validate(signed, self._context(moment=now, online=True, fetchers=fetchers))
        else:
            await self._validate(signed, self._context(moment=now, online=True))
        return identity_of(signed.signer, algorithm=signed.signature_algorithm, claimed=signed.claimed_signing_time,
                           checked_at=now, revocation=self._revocation_label())

    def _revocation_label(self) -> str:
        if self.revocation == "off":
            return "not checked"
        how = ("OCSP/CRL from the certificates" if self.fetch_revocation else "") + \
            (" and CRL files" if self.crls else "")
        return f"{self.revocation}: {how.strip(' and') or 'no source'}"

    async def recheck(self, *, content: bytes, cms_der: bytes, signed_at: datetime) -> tuple[dict, QualifiedIdentity | None,
                                                                                           list[str]]:
        """Offline re-check for public verification: ``({check: bool}, identity, reasons)``."""
        checks = {"cms": False, "signature_over_document": False, "chain_at_signing": False}
        try:
            signed = self._signed(cms_der, content)
        except Problem as p:
            checks["cms"] = p.code not in ("qualified-signature-malformed",)
            return checks, None, [p.detail]
        checks["cms"] = checks["signature_over_document"] = True
        identity = identity_of(signed.signer, algorithm=signed.signature_algorithm,
                               claimed=signed.claimed_signing_time, checked_at=signed_at, revocation="")
        try:
            await self._validate(signed, self._context(moment=signed_at, online=False))
        except Problem as p:
            return checks, identity, [p.detail]
        checks["chain_at_signing"] = True
        return checks, identity, []


def decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise refuse("qualified-signature-malformed", "`qualified.cms` is not base64") from None
