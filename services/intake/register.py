"""The mediator register: administrators keep mediators' profiles (each mediator has a staff
account), and the parties are offered the mediators who may take their case. Its domain rules:
who may serve in a jurisdiction (its rule set's mediator rules, e.g. register membership and an age
rule), conflicts of interest against the people in a case, and how candidates are ranked.
Proposing a mediator and the answers to it are in ``proposals``.

Conflict reasons name roles and sides, never the matched names, because they are shown to the
parties and to administrators.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, hash_secret_off_loop
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.uow import UnitOfWork

from . import accounts, cases, deadlines, eligibility, personal, states
from .models import Account, Case, Mediator, MediatorProposal, Participant
from .schemas import Category, Input, Language, Name

_PUNCT = re.compile(r"[\"'«»“”„.,()\-]+")
_SPACE = re.compile(r"\s+")


def normalise(name: str | None) -> str:
    """Compare names the way a person would: case, width, punctuation and spacing do not matter."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def age_on(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def mediator_facts(m: Mediator, today: date) -> dict:
    return {"kind": m.kind, "register_number": m.register_number, "registry": m.registry_name,
            "age": age_on(m.birth_date, today), "training": m.training,
            "jurisdictions": list(m.jurisdictions), "languages": list(m.languages)}


def may_serve(m: Mediator, rule_set: eligibility.RuleSet, today: date) -> eligibility.Decision:
    """Eligible unless a mediator rule of the jurisdiction fires, or the mediator does not work there."""
    decision = eligibility.evaluate_mediator(rule_set, mediator_facts(m, today))
    if rule_set.jurisdiction not in m.jurisdictions:
        return eligibility.Decision("ineligible", rule_set.ref, decision.fired)
    return decision


def conflicts(m: Mediator, participants: list[Participant]) -> list[str]:
    """Declared relations and organisations of the mediator against everyone in the case."""
    relation_names = {normalise(r.get("name")) for r in m.relations} - {""}
    relation_ids = {(r.get("id_number") or "").strip().upper() for r in m.relations} - {""}
    organisations = {normalise(o) for o in m.organisations} - {""}
    found: list[str] = []
    for p in participants:
        who = f"{p.role} ({p.side})"
        names = {normalise(p.name)} | {normalise(x) for x in (p.members or [])}
        names.discard("")
        if names & relation_names:
            found.append(f"a declared relation of the mediator matches the {who}")
        if p.id_number and p.id_number.strip().upper() in relation_ids:
            found.append(f"a declared relation's identifier matches the {who}")
        if organisations & ({normalise(p.organisation)} | ({normalise(p.name)} if p.kind != "natural_person" else set())):
            found.append(f"an organisation the mediator declared is the {who} or employs them")
    return sorted(set(found))


@dataclass(frozen=True)
class Ranked:
    mediator: Mediator
    score: float
    reasons: list[tuple[str, dict]]  # (code, params): said in the reader's language by ``reason_text``


def rank(m: Mediator, *, category: str, languages: set[str], load: int) -> Ranked:
    """Language first (every party must understand the mediator), then specialisation, then load."""
    score, reasons = 0.0, []
    spoken = languages & set(m.languages)
    score += 2 * len(spoken)
    if languages and spoken == languages:
        score += 2
        reasons.append(("all_languages", {}))
    elif spoken:
        reasons.append(("some_languages", {}))
    if category in m.specialisations:
        score += 3
        reasons.append(("specialised", {"category": category}))
    score -= 2 * load / max(m.capacity, 1)
    reasons.append(("load", {"load": load, "capacity": m.capacity}))
    return Ranked(m, round(score, 3), reasons)


# Why a mediator is suggested, as the party reads it: a party choosing a mediator reads these
# beside each name, so they are in the party's language, never only in English.
REASONS = {
    "all_languages": {
        "kk": "барлық тараптың тілінде сөйлейді",
        "ky": "бардык тараптардын тилинде сүйлөйт",
        "ru": "говорит на языках всех сторон",
        "en": "speaks every party's language",
    },
    "some_languages": {
        "kk": "тараптардың кейбірінің тілінде сөйлейді",
        "ky": "тараптардын айрымдарынын тилинде сүйлөйт",
        "ru": "говорит на языке части сторон",
        "en": "speaks some of the parties' languages",
    },
    "specialised": {
        "kk": "{category} дауларына маманданған",
        "ky": "{category} талаштарына адистешкен",
        "ru": "специализируется на спорах: {category}",
        "en": "specialises in {category} disputes",
    },
    "load": {
        "kk": "қазір {load}/{capacity} іс жүргізуде",
        "ky": "азыр {load}/{capacity} иш жүргүзүүдө",
        "ru": "сейчас ведёт дел: {load} из {capacity}",
        "en": "{load} of {capacity} cases in progress",
    },
}
CATEGORIES = {
    "civil": {
        "kk": "азаматтық",
        "ky": "жарандык",
        "ru": "гражданских",
        "en": "civil",
    },
    "family": {
        "kk": "отбасылық",
        "ky": "үй-бүлөлүк",
        "ru": "семейных",
        "en": "family",
    },
    "labour": {
        "kk": "еңбек",
        "ky": "эмгек",
        "ru": "трудовых",
        "en": "labour",
    },
    "commercial": {
        "kk": "коммерциялық",
        "ky": "коммерциялык",
        "ru": "коммерческих",
        "en": "commercial",
    },
    "administrative": {
        "kk": "әкімшілік",
        "ky": "административдик",
        "ru": "административных",
        "en": "administrative",
    },
    "administrative_offence": {
        "kk": "әкімшілік құқық бұзушылық",
        "ky": "административдик укук бузуу",
        "ru": "об административных правонарушениях",
        "en": "administrative offence",
    },
    "criminal": {
        "kk": "қылмыстық",
        "ky": "кылмыш",
        "ru": "уголовных",
        "en": "criminal",
    },
}


def reason_text(code: str, params: dict, lang: str) -> str:
    lang = lang if lang in ("kk", "ky", "ru", "en") else "ru"
    if "category" in params:
        params = {**params, "category": CATEGORIES.get(params["category"], {}).get(lang, params["category"])}
    return REASONS[code][lang].format(**params)


class Relation(Input):
    name: str = Name
    id_number: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    relationship: str | None = Field(None, max_length=100)


class MediatorProfile(Input):
    full_name: str = Name
    kind: Literal["professional", "public"]
    register_number: str | None = Field(None, max_length=100)
    registry: str | None = Field(None, max_length=200)
    training: str | None = Field(None, max_length=1000)
    birth_date: date | None = None
    languages: list[Language] = Field(min_length=1, max_length=4)
    specialisations: list[Category] = Field(default_factory=list, max_length=7)
    jurisdictions: list[str] = Field(min_length=1, max_length=10)
    capacity: int = Field(5, ge=1, le=200)
    available: bool = True
    relations: list[Relation] = Field(default_factory=list, max_length=200,
                                      description="people the mediator is related to or works with")
    organisations: list[str] = Field(default_factory=list, max_length=100)


class MediatorCreate(MediatorProfile):
    username: str = accounts.Username
    password: str = accounts.Password


class MediatorView(BaseModel):
    id: str
    full_name: str
    kind: str
    register_number: str | None
    registry: str | None
    languages: list[str]
    specialisations: list[str]
    jurisdictions: list[str]
    capacity: int
    available: bool
    active_cases: int = 0


class Candidate(BaseModel):
    mediator_id: str
    full_name: str
    kind: str
    languages: list[str]
    specialisations: list[str]
    score: float
    reasons: list[str] = Field(description="why this mediator is suggested, in the reader's language")
    reason_codes: list[str] = Field(default_factory=list, description="the same reasons as codes: "
                                    "all_languages, some_languages, specialised, load")


# -- use cases ---------------------------------------------------------------------------------


async def _load(session: AsyncSession, mediator_id: str) -> int:
    return (await session.execute(select(func.count()).select_from(Case).where(
        Case.mediator_id == mediator_id, Case.status.in_(sorted(states.OPEN))))).scalar_one()


def _mediator_view(m: Mediator, load: int) -> MediatorView:
    return MediatorView(id=m.id, full_name=m.full_name, kind=m.kind, register_number=m.register_number,
                        registry=m.registry_name, languages=m.languages, specialisations=m.specialisations,
                        jurisdictions=m.jurisdictions, capacity=m.capacity, available=m.available, active_cases=load)


def _apply_profile(m: Mediator, profile: MediatorProfile) -> None:
    for j in profile.jurisdictions:
        eligibility.current(j)  # 422 for a jurisdiction without a rule set
    m.full_name, m.kind = profile.full_name, profile.kind
    m.register_number, m.registry_name, m.training = profile.register_number, profile.registry, profile.training
    m.birth_date = profile.birth_date
    m.languages, m.specialisations = list(profile.languages), list(profile.specialisations)
    m.jurisdictions, m.capacity, m.available = sorted(set(profile.jurisdictions)), profile.capacity, profile.available
    m.relations = [r.model_dump(exclude_none=True) for r in profile.relations]
    m.organisations = list(profile.organisations)
    m.updated_at = cases.utcnow()


async def create_mediator(uow: UnitOfWork, *, request: MediatorCreate) -> MediatorView:
    await accounts.unique_username(uow.session, request.username)
    now = cases.utcnow()
    mediator_id = f"med-{secrets.token_hex(6)}"
    uow.session.add(Account(id=mediator_id, username=request.username, role="mediator",
                            password_hash=await hash_secret_off_loop(request.password), created_at=now))
    m = Mediator(id=mediator_id, created_at=now)
    _apply_profile(m, request)
    uow.session.add(m)
    await uow.commit()
    return _mediator_view(m, 0)


async def update_mediator(uow: UnitOfWork, *, mediator_id: str, profile: MediatorProfile) -> MediatorView:
    m = await uow.session.get(Mediator, mediator_id)
    if m is None:
        raise NotFound("the mediator")
    _apply_profile(m, profile)
    await uow.commit()
    return _mediator_view(m, await _load(uow.session, m.id))


async def list_mediators(uow: UnitOfWork) -> list[MediatorView]:
    rows = (await uow.session.execute(select(Mediator).order_by(Mediator.full_name))).scalars().all()
    return [_mediator_view(m, await _load(uow.session, m.id)) for m in rows]


@dataclass
class Fit:
    ok: bool
    problem: Problem | None
    ranked: Ranked | None = None


async def fit(session: AsyncSession, m: Mediator, case: Case, people: list[Participant], now: datetime) -> Fit:
    """Can ``m`` serve in ``case``? The first obstacle as a problem, else the ranking."""
    rs = eligibility.by_ref(case.rule_set)
    decision = may_serve(m, rs, deadlines.local_today(now, rs.time_zone))
    if decision.outcome == "ineligible":
        return Fit(False, Problem(422, "mediator-not-eligible",
                                  "the mediator may not serve in this jurisdiction",
                                  rules=[e for e in decision.explain("en") if e["outcome"] == "ineligible"]))
    found = conflicts(m, people)
    if found:
        return Fit(False, Conflict("conflict-of-interest", "the mediator has a declared conflict of interest",
                                   conflicts=found))
    earlier = (await session.execute(select(MediatorProposal.status).where(
        MediatorProposal.case_id == case.id, MediatorProposal.mediator_id == m.id,
        MediatorProposal.status.in_(["declined", "recused", "rejected"])))).first()
    if earlier is not None:
        return Fit(False, Conflict("mediator-excluded", f"this mediator was {earlier[0]} on this case before"))
    load = await _load(session, m.id)
    if not m.available or load >= m.capacity:
        return Fit(False, Conflict("mediator-unavailable", "the mediator is not taking new cases"))
    languages = {p.language for p in people if p.role == "party"}
    return Fit(True, None, rank(m, category=case.category, languages=languages, load=load))


async def candidates(uow: UnitOfWork, *, case_id: str, principal: Principal,
                     personal_vault: personal.Vault, lang: str | None = None) -> list[Candidate]:
    """Mediators who may take the case, best first; those with a conflict are left out."""
    case, relation = await cases.access(uow.session, case_id, principal)
    if relation not in ("party", "admin"):
        raise Forbidden("the parties and administrators choose the mediator")
    people = await cases.people(uow.session, case.id, personal_vault)
    lang = cases.viewer_language(case, people, principal, lang)
    now = cases.utcnow()
    rows = (await uow.session.execute(select(Mediator))).scalars().all()
    fits = [f for f in [await fit(uow.session, m, case, people, now) for m in rows if case.jurisdiction in m.jurisdictions]
            if f.ok]
    fits.sort(key=lambda f: (-f.ranked.score, f.ranked.mediator.full_name))
    return [Candidate(mediator_id=f.ranked.mediator.id, full_name=f.ranked.mediator.full_name,
                      kind=f.ranked.mediator.kind, languages=f.ranked.mediator.languages,
                      specialisations=f.ranked.mediator.specialisations, score=f.ranked.score,
                      reasons=[reason_text(code, params, lang) for code, params in f.ranked.reasons],
                      reason_codes=[code for code, _ in f.ranked.reasons]) for f in fits]
