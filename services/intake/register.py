"""The mediator register's domain rules: who may serve in a jurisdiction (its rule set's mediator
rules, e.g. register membership and an age rule), conflicts of interest against the people in a
case, and how candidates are ranked.

Conflict reasons name roles and sides, never the matched names, because they are shown to the
parties and to administrators.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from . import eligibility
from .models import Mediator, Participant

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
            "age": age_on(m.birth_date, today), "jurisdictions": list(m.jurisdictions), "languages": list(m.languages)}


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
    reasons: list[str]


def rank(m: Mediator, *, category: str, languages: set[str], load: int) -> Ranked:
    """Language first (every party must understand the mediator), then specialisation, then load."""
    score, reasons = 0.0, []
    spoken = languages & set(m.languages)
    score += 2 * len(spoken)
    if languages and spoken == languages:
        score += 2
        reasons.append("speaks every party's language")
    elif spoken:
        reasons.append("speaks some of the parties' languages")
    if category in m.specialisations:
        score += 3
        reasons.append(f"specialises in {category} disputes")
    score -= 2 * load / max(m.capacity, 1)
    reasons.append(f"{load} of {m.capacity} cases in progress")
    return Ranked(m, round(score, 3), reasons)
