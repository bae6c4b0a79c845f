"""The agreement document: its structured content, the canonical form that is hashed and signed,
the templates and required-content rules per jurisdiction (data files in ``templates/``), a
readable text rendering and the diff between versions.

The canonical form is RFC 8785 (JSON Canonicalization Scheme) of the document, so the same content
always has the same SHA-256 no matter how a client ordered its keys; that hash is what parties
sign, what the platform seal covers and what anyone can check a copy against.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import rfc8785
from babel.dates import format_date
from babel.numbers import format_decimal
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.problems import Problem

TEMPLATES = Path(__file__).parent / "templates"
# The language the parties chose for the agreement (not the mediator's interface language); "kk-ru"
# is the bilingual text: every heading and template clause in Kazakh, then in Russian.
Language = Literal["kk", "ky", "ru", "en", "kk-ru"]
LANGUAGES: tuple[str, ...] = ("kk", "ky", "ru", "en", "kk-ru")
Side = Literal["claimant", "respondent"]
SIDES: tuple[str, ...] = ("claimant", "respondent")

_SHORT = {"min_length": 1, "max_length": 300}
_LONG = {"min_length": 1, "max_length": 5000}


class PartyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    side: Side
    name: str = Field(**_SHORT)
    identifier: str | None = Field(None, max_length=32, description="IIN/BIN or another national identifier")
    representative: str | None = Field(None, max_length=300)
    participant_id: str | None = Field(None, max_length=36, description=(
        "the party this entry names (intake's participant id): ties the entry to its signer slot, so "
        "each signature is shown by the party's name"))


class MediatorEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(**_SHORT)
    register_number: str | None = Field(None, max_length=64)


class Obligation(BaseModel):
    """Who owes what to whom, how much, by when and how."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12], pattern=r"^[A-Za-z0-9_-]{1,40}$")
    obligor: Side
    obligee: Side
    what: str = Field(**_LONG)
    amount: str | None = Field(None, pattern=r"^\d{1,15}(\.\d{1,2})?$", description="decimal string, e.g. 150000.00")
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. KZT")
    deadline: date | None = None
    manner: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> "Obligation":
        if (self.amount is None) != (self.currency is None):
            raise ValueError("amount and currency go together")
        if self.obligor == self.obligee:
            raise ValueError("obligor and obligee must be different sides")
        return self


class Annex(BaseModel):
    """A document shared in the mediation room and attached to the agreement: its name and the
    SHA-256 of its bytes (``GET /sessions/rooms/{case}/documents`` gives both), so the sealed
    agreement pins exactly which file it refers to and anyone can check a copy against it."""

    model_config = ConfigDict(extra="forbid")

    document_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    title: str = Field(**_SHORT)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AgreementContent(BaseModel):
    """The structured terms of a settlement agreement. Everything here is confidential: it is
    stored only encrypted and never appears in events or logs."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=300)
    place: str | None = Field(None, max_length=300)
    parties: list[PartyEntry] = Field(default_factory=list, max_length=20)
    mediator: MediatorEntry | None = None
    subject: str | None = Field(None, max_length=5000)
    obligations: list[Obligation] = Field(default_factory=list, max_length=100)
    procedure: str | None = Field(None, max_length=5000)
    consequences: str | None = Field(None, max_length=5000)
    free_text: str | None = Field(None, max_length=20000)
    # None (not []) when there are none: the canonical form leaves out None, so agreements made
    # before annexes existed keep their hashes.
    annexes: list[Annex] | None = Field(None, max_length=50)

    @model_validator(mode="after")
    def _unique_obligation_ids(self) -> "AgreementContent":
        ids = [o.id for o in self.obligations]
        if len(ids) != len(set(ids)):
            raise ValueError("obligation ids must be unique")
        return self


# -- canonical form -------------------------------------------------------------------------------


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON."""
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_document(*, agreement_id: str, case_id: str, version: int, jurisdiction: str, category: str,
                       language: str, content: AgreementContent, case_reference: str | None = None) -> dict:
    """The document that is hashed, signed and sealed: the content bound to its agreement, case and
    version, so a signature on version 2 can never be presented as one on version 3. The case's
    human reference (what the PDF and the parties call it) is signed with it when the case has
    one; documents of cases without one keep their old form, so their hashes still verify."""
    document = {
        "agreement_id": agreement_id, "case_id": case_id, "version": version, "jurisdiction": jurisdiction,
        "category": category, "language": language, "content": content.model_dump(mode="json", exclude_none=True),
    }
    if case_reference:
        document["case_reference"] = case_reference
    return document


def document_hash(document: dict) -> str:
    return sha256_hex(canonical_bytes(document))


# -- jurisdictions and templates ------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    code: str
    check: str
    citation: str
    message: dict[str, str]


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    time_zone: str
    retention_days: int
    source: str
    required: tuple[Requirement, ...]
    labels: dict[str, dict[str, str]]
    name: dict[str, str]

    def labels_for(self, language: str) -> dict[str, str]:
        """The headings in the agreement's language; for a bilingual text each in both."""
        parts = languages_of(language)
        if len(parts) == 1:
            return self.labels[parts[0]]
        return {k: " / ".join(dict.fromkeys(self.labels[p].get(k, v) for p in parts))
                for k, v in self.labels[parts[0]].items()}


def languages_of(language: str) -> list[str]:
    """The single languages of an agreement language: "kk-ru" -> ["kk", "ru"]."""
    return language.split("-")


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache
def jurisdiction(code: str) -> Jurisdiction:
    path = TEMPLATES / code / "_jurisdiction.json"
    if not code.isalnum() or not path.exists():
        raise Problem(422, "unsupported-jurisdiction", f"there is no rule set for jurisdiction {code!r}",
                      supported=available_jurisdictions())
    raw = _read(path)
    labels = raw["labels"]
    if isinstance(labels, str):  # reuse another jurisdiction's headings
        labels = jurisdiction(labels).labels
    return Jurisdiction(code=code, time_zone=raw["time_zone"], retention_days=int(raw["retention_days"]),
                        source=raw["source"], labels=labels, name=raw.get("name", {}),
                        required=tuple(Requirement(**{k: r[k] for k in ("code", "check", "citation", "message")})
                                       for r in raw["required"]))


def available_jurisdictions() -> list[str]:
    return sorted(p.parent.name for p in TEMPLATES.glob("*/_jurisdiction.json"))


def available_templates() -> list[dict]:
    out = []
    for code in available_jurisdictions():
        for path in sorted((TEMPLATES / code).glob("[!_]*.json")):
            out.append({"jurisdiction": code, "category": path.stem, "languages": sorted(_read(path)["languages"])})
    return out


@lru_cache
def template(code: str, category: str, language: str) -> dict[str, str]:
    jurisdiction(code)
    path = TEMPLATES / code / f"{category}.json"
    # "_jurisdiction" and other "_" files are rule sets, not templates
    if category.startswith("_") or not category.replace("_", "").isalnum() or not path.exists():
        raise Problem(422, "no-template", f"there is no {code} template for the category {category!r}")
    languages = _read(path)["languages"]
    parts = languages_of(language)
    if language not in LANGUAGES or any(p not in languages for p in parts):
        raise Problem(422, "no-template", f"the {code} {category} template has no {language!r} text")
    if len(parts) == 1:
        return dict(languages[language])
    # bilingual: each clause in every language, one after the other; headings side by side
    out: dict = {}
    for k, first in languages[parts[0]].items():
        if isinstance(first, dict):
            out[k] = {h: " / ".join(dict.fromkeys(languages[p].get(k, {}).get(h, v) for p in parts))
                      for h, v in first.items()}
        else:
            out[k] = ("\n" if k == "title" else "\n\n").join(languages[p][k] for p in parts if languages[p].get(k))
    return out


ONLINE = {"kk": "онлайн-медиация", "ky": "онлайн медиация", "ru": "онлайн-медиация", "en": "online mediation"}


def default_place(code: str, language: str) -> str | None:
    """Where an online agreement is made, unless the mediator writes a city: the jurisdiction and
    that it was made online (Law No. 401-IV Art. 27 wants the place stated)."""
    name = jurisdiction(code).name
    parts = [f"{name[p]}, {ONLINE.get(p, ONLINE['ru'])}" for p in languages_of(language) if name.get(p)]
    return " / ".join(dict.fromkeys(parts)) or None


def category_labels(code: str, category: str, language: str) -> dict[str, str]:
    """The headings a category's template overrides (none when it has no template)."""
    try:
        return dict(template(code, category, language).get("labels") or {})
    except Problem:
        return {}


def from_template(code: str, category: str, language: str, given: AgreementContent | None) -> AgreementContent:
    """A new draft: the template's title and default clauses (a criminal case's reconciliation
    template also its subject and harm-compensation terms) and the place, overridden by whatever
    was given."""
    base = template(code, category, language)
    content = given.model_copy() if given else AgreementContent()
    for field in ("title", "subject", "procedure", "consequences", "free_text"):
        if getattr(content, field) is None and base.get(field):
            setattr(content, field, base[field])
    if content.place is None:
        content.place = default_place(code, language)
    return content


# -- dates and sums as people read them -----------------------------------------------------------


def local_date(value: date | datetime | str, *, language: str, time_zone: str, with_time: bool = False) -> str:
    """A date (or moment) for people: in the case's time zone, written the way the language writes
    dates ("29 ноября 2026 г.", "2026 ж. 29 қараша"), never an ISO or UTC timestamp."""
    from zoneinfo import ZoneInfo

    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    moment = value.astimezone(ZoneInfo(time_zone)) if isinstance(value, datetime) else None
    day = moment.date() if moment is not None else value
    out = []
    for lang in languages_of(language):
        text = format_date(day, "long", locale=lang)
        out.append(f"{text}, {moment:%H:%M}" if with_time and moment is not None else text)
    return _spaces(" / ".join(dict.fromkeys(out)))


def _spaces(text: str) -> str:
    """CLDR puts narrow no-break spaces in dates and sums; the PDF font has none, so plain no-break
    spaces (which it has) stand in."""
    return text.replace("\u202f", "\u00a0")


def money(amount: str, currency: str, *, language: str) -> str:
    """A sum as the language writes its numbers ("150 000,00 KZT"), with the currency's ISO code:
    the PDF font has no tenge sign."""
    number = format_decimal(Decimal(amount), format="#,##0.00", locale=languages_of(language)[0])
    return _spaces(f"{number}\u00a0{currency}")


# -- required content -----------------------------------------------------------------------------


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _parties_on_both_sides(c: AgreementContent) -> bool:
    named = {p.side for p in c.parties if not _blank(p.name)}
    return set(SIDES) <= named


def _terms_present(c: AgreementContent) -> bool:
    return bool(c.obligations) or not _blank(c.free_text)


def _performance_defined(c: AgreementContent) -> bool:
    if not c.obligations:  # terms only as free text: a general procedure, and some terms to perform
        return not _blank(c.procedure) and not _blank(c.free_text)
    return all(o.deadline is not None and (not _blank(o.manner) or not _blank(c.procedure)) for o in c.obligations)


CHECKS = {
    "parties_on_both_sides": _parties_on_both_sides,
    "mediator_named": lambda c: c.mediator is not None and not _blank(c.mediator.name),
    "subject_present": lambda c: not _blank(c.subject),
    "terms_present": _terms_present,
    "performance_defined": _performance_defined,
    "consequences_present": lambda c: not _blank(c.consequences),
}


def missing_content(code: str, content: AgreementContent, language: str = "en") -> list[dict]:
    """What the jurisdiction requires and this content lacks: code, message and citation each."""
    rules = jurisdiction(code)
    missing = []
    for req in rules.required:
        if not CHECKS[req.check](content):
            message = " / ".join(req.message[p] for p in languages_of(language) if p in req.message)
            missing.append({"code": req.code, "message": message or req.message["en"],
                            "citation": req.citation})
    return missing


# -- readable text and diff -----------------------------------------------------------------------


def render_lines(document: dict) -> list[str]:
    """The document as readable lines in its own language, for the diff and the PDF: dates in the
    jurisdiction's time zone and sums as the language writes them. A category's template may name
    the sides and sections its own way (a criminal case: victim and suspect)."""
    rules = jurisdiction(document["jurisdiction"])
    language = document["language"]
    labels = {**rules.labels_for(language),
              **category_labels(document["jurisdiction"], document["category"], language)}
    c = document["content"]
    lines = [c.get("title") or labels["agreement"], f"{labels['version']}: {document['version']}"]
    if c.get("place"):
        lines.append(f"{labels['place']}: {c['place']}")
    lines.append("")
    lines.append(f"{labels['parties']}:")
    for p in c.get("parties", []):
        extra = "".join(f"; {labels[k]}: {p[k]}" for k in ("identifier", "representative") if p.get(k))
        lines.append(f"  {labels[p['side']]}: {p['name']}{extra}")
    if c.get("mediator"):
        m = c["mediator"]
        reg = f"; {labels['register_number']}: {m['register_number']}" if m.get("register_number") else ""
        lines.append(f"{labels['mediator']}: {m['name']}{reg}")
    if c.get("subject"):
        lines += ["", f"{labels['subject']}:", *_wrap(c["subject"])]
    if c.get("obligations"):
        lines += ["", f"{labels['terms']}:"]
        for n, o in enumerate(c["obligations"], 1):
            lines.append(f"  {n}. {labels['obligor']}: {labels[o['obligor']]}; {labels['obligee']}: {labels[o['obligee']]}")
            lines.append(f"     {o['what']}")
            if o.get("amount"):
                lines.append(f"     {labels['amount']}: {money(o['amount'], o['currency'], language=language)}")
            if o.get("deadline"):
                lines.append(f"     {labels['deadline']}: "
                             f"{local_date(o['deadline'], language=language, time_zone=rules.time_zone)}")
            if o.get("manner"):
                lines.append(f"     {labels['manner']}: {o['manner']}")
    for key in ("procedure", "consequences", "free_text"):
        if c.get(key):
            lines += ["", f"{labels[key]}:", *_wrap(c[key])]
    lines += annex_lines(c.get("annexes"), labels)
    return lines


def annex_lines(annexes: list[dict] | None, labels: dict[str, str]) -> list[str]:
    """The annexes section: each document's name and the SHA-256 of its bytes."""
    if not annexes:
        return []
    head = labels.get("annexes", "Annexes")
    return ["", f"{head}:", *(f"  {n}. {a['title']} — SHA-256: {a['sha256']}" for n, a in enumerate(annexes, 1))]


def _wrap(text: str) -> list[str]:
    return [f"  {line}" for line in text.splitlines() or [""]]


def readable_diff(old: dict, new: dict) -> str:
    """A unified diff of the readable text of two versions."""
    return "\n".join(difflib.unified_diff(render_lines(old), render_lines(new), fromfile=f"v{old['version']}",
                                          tofile=f"v{new['version']}", lineterm=""))
