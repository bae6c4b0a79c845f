"""The eligibility screening engine: jurisdiction rule sets are versioned data files
(``services/intake/rulesets/<JURISDICTION>-<version>.json``), not code, so a lawyer can read and
change them and every decision can name the exact version and rules that produced it.

A rule is ``{id, citation, condition, outcome, explanation}``; its citation and explanation are
texts in every language the rule set declares (``languages``, by default kk, ru and en), so a
refusal cites the law in the reader's language, not in English. A condition is a small
JSON expression over the facts of a case (or of a mediator):

- ``{"fact": "offence.gravity", "eq" | "ne" | "in" | "not_in" | "lt" | "lte" | "gt" | "gte": value}``
- ``{"fact": "register_number", "present": true | false}``
- ``{"fact": "offence.suspect_circumstances", "has_any": [...]}``: a list fact shares an item with the given list
- ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``
- ``{"any_party": {...}}``: the inner condition holds for at least one party of the case

Outcome of a case: any ``ineligible`` rule wins, then any ``needs_review``, then ``eligible`` if an
eligible rule fired; when nothing fired the rule set's ``default_outcome`` applies (a person looks).

A rule may say what a case it admits ``enables`` in law (``{code, article: {kk, ru, en}}``): a
criminal case admitted under Criminal Code Art. 68(1) or 68(2) (Kazakhstan) enables release from
criminal liability under that part, and the referring body is told so with the outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.problems import NotFound, Problem

RULESETS = Path(__file__).parent / "rulesets"
Outcome = Literal["eligible", "ineligible", "needs_review"]
Lang = Literal["kk", "ru", "en"]
LANGUAGES = ("kk", "ru", "en", "ky")
_OPS = {"eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "present", "has_any"}


class Texts(BaseModel):
    """One text in several languages. Which languages are required is the rule set's to say
    (``RuleSet.languages``): a Kazakh rule set carries kk, ru and en, a Kyrgyz one ky, ru and en."""

    model_config = ConfigDict(extra="forbid")

    kk: str | None = Field(None, min_length=1)
    ru: str | None = Field(None, min_length=1)
    en: str | None = Field(None, min_length=1)
    ky: str | None = Field(None, min_length=1)

    def get(self, lang: str) -> str:
        """The text in ``lang``; a language the rule set does not carry reads Russian (the
        language every rule set of the region carries), then English."""
        text = getattr(self, lang, None) if lang in LANGUAGES else None
        return text or self.ru or self.en or ""

    def missing(self, languages: list[str]) -> list[str]:
        return [lang for lang in languages if not getattr(self, lang, None)]


class VersionedText(Texts):
    version: str = Field(min_length=1)


class Enables(BaseModel):
    """What an admitted case enables in law: a stable code and the article, in each language."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")
    article: Texts


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_.-]+$")
    citation: Texts
    condition: dict[str, Any]
    outcome: Outcome
    explanation: Texts
    enables: Enables | None = None

    @field_validator("condition")
    @classmethod
    def _well_formed(cls, condition: dict[str, Any]) -> dict[str, Any]:
        check_condition(condition)
        return condition


class RuleSet(BaseModel):
    """One version of a jurisdiction's rules, plus the process settings that vary by jurisdiction."""

    model_config = ConfigDict(extra="forbid")

    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$")
    version: str = Field(pattern=r"^\d+(\.\d+)*$")
    law: str
    languages: list[Literal["kk", "ru", "en", "ky"]] = Field(default_factory=lambda: ["kk", "ru", "en"], min_length=1)
    time_zone: str
    answer_window_days: int = Field(ge=1, le=90)
    answer_window_citation: Texts
    term_days: int = Field(ge=1, le=365)
    term_citation: Texts
    max_extension_days: int = Field(ge=0, le=365)
    retention_days: int = Field(
        1826, ge=1, le=36500, description="how long after a case closes its personal data and screening answers are "
        "kept before they are crypto-shredded (platform policy: 5 years)")
    default_outcome: Outcome
    consent_text: VersionedText
    agreement_to_mediate_text: VersionedText
    case_rules: list[Rule]
    mediator_rules: list[Rule] = []

    @model_validator(mode="after")
    def _every_text_in_every_language(self) -> "RuleSet":
        """A rule set that lacks a language it declares is refused when it is loaded, not when a
        reader of that language meets an empty explanation."""
        texts: dict[str, Texts] = {"answer_window_citation": self.answer_window_citation,
                                   "term_citation": self.term_citation, "consent_text": self.consent_text,
                                   "agreement_to_mediate_text": self.agreement_to_mediate_text}
        for rule in [*self.case_rules, *self.mediator_rules]:
            texts[f"{rule.id}.citation"] = rule.citation
            texts[f"{rule.id}.explanation"] = rule.explanation
            if rule.enables is not None:
                texts[f"{rule.id}.enables"] = rule.enables.article
        gaps = {where: text.missing(self.languages) for where, text in texts.items() if text.missing(self.languages)}
        if gaps:
            raise ValueError(f"texts missing in a declared language: {gaps}")
        return self

    @property
    def ref(self) -> str:
        return f"{self.jurisdiction}@{self.version}"

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in [*self.case_rules, *self.mediator_rules] if r.id == rule_id), None)


def check_condition(cond: Any) -> None:
    """Refuse a malformed condition when the rule set is loaded, not when a case hits it."""
    if not isinstance(cond, dict) or len(cond) == 0:
        raise ValueError("a condition is a non-empty object")
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        if len(cond) != 1 or not isinstance(cond[key], list) or not cond[key]:
            raise ValueError(f"`{key}` takes a non-empty list and nothing else")
        for c in cond[key]:
            check_condition(c)
    elif "not" in cond or "any_party" in cond:
        key = "not" if "not" in cond else "any_party"
        if len(cond) != 1:
            raise ValueError(f"`{key}` takes one condition and nothing else")
        check_condition(cond[key])
    elif "fact" in cond:
        ops = set(cond) - {"fact"}
        if len(ops) != 1 or not ops <= _OPS:
            raise ValueError(f"a fact test needs exactly one of {sorted(_OPS)}")
        if "has_any" in ops and not isinstance(cond["has_any"], list):
            raise ValueError("`has_any` takes a list")
    else:
        raise ValueError(f"unknown condition keys {sorted(cond)}")


def _fact(facts: dict[str, Any], path: str) -> Any:
    value: Any = facts
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def holds(cond: dict[str, Any], facts: dict[str, Any]) -> bool:
    if "all" in cond:
        return all(holds(c, facts) for c in cond["all"])
    if "any" in cond:
        return any(holds(c, facts) for c in cond["any"])
    if "not" in cond:
        return not holds(cond["not"], facts)
    if "any_party" in cond:
        return any(holds(cond["any_party"], p) for p in facts.get("parties") or [])
    value = _fact(facts, cond["fact"])
    (op, expected), = ((k, v) for k, v in cond.items() if k != "fact")
    if op == "present":
        return (value is not None and value != "" and value != []) == expected
    if value is None:
        return False  # a missing fact satisfies no comparison (use `present` to test for it)
    if op == "eq":
        return value == expected
    if op == "ne":
        return value != expected
    if op == "in":
        return value in expected
    if op == "not_in":
        return value not in expected
    if op == "has_any":
        return isinstance(value, list) and any(v in expected for v in value)
    try:
        return {"lt": value < expected, "lte": value <= expected, "gt": value > expected, "gte": value >= expected}[op]
    except TypeError:
        return False


@dataclass(frozen=True)
class FiredRule:
    id: str
    citation: Texts
    outcome: str
    explanation: Texts
    enables: Enables | None = None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    rule_set: str
    fired: tuple[FiredRule, ...]

    @property
    def rules_fired(self) -> list[str]:
        return [r.id for r in self.fired]

    @property
    def legal_effect(self) -> dict[str, Any] | None:
        """What the case enables in law when it is admitted: the first deciding rule that says so."""
        rule = next((r for r in self.fired if r.outcome == self.outcome == "eligible" and r.enables), None)
        return rule.enables.model_dump(exclude_none=True) if rule else None

    def explain(self, lang: str) -> list[dict[str, str]]:
        """The rules behind the outcome, in the reader's language (the deciding rules first)."""
        deciding = [r for r in self.fired if r.outcome == self.outcome] + [r for r in self.fired if r.outcome != self.outcome]
        return [{"rule": r.id, "outcome": r.outcome, "citation": r.citation.get(lang),
                 "explanation": r.explanation.get(lang)}
                for r in deciding]


def _combine(rules: list[Rule], facts: dict[str, Any], default: Outcome, ref: str) -> Decision:
    fired = tuple(FiredRule(r.id, r.citation, r.outcome, r.explanation, r.enables)
                  for r in rules if holds(r.condition, facts))
    outcomes = {r.outcome for r in fired}
    outcome: Outcome = ("ineligible" if "ineligible" in outcomes else "needs_review" if "needs_review" in outcomes
                        else "eligible" if "eligible" in outcomes else default)
    return Decision(outcome=outcome, rule_set=ref, fired=fired)


def evaluate_case(rule_set: RuleSet, facts: dict[str, Any]) -> Decision:
    return _combine(rule_set.case_rules, facts, rule_set.default_outcome, rule_set.ref)


def evaluate_mediator(rule_set: RuleSet, facts: dict[str, Any]) -> Decision:
    """A mediator may serve in a jurisdiction unless one of its mediator rules makes them ineligible."""
    return _combine(rule_set.mediator_rules, facts, "eligible", rule_set.ref)


# -- loading ------------------------------------------------------------------------------------


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


@lru_cache(maxsize=8)
def load_rule_sets(directory: Path = RULESETS) -> dict[str, dict[str, RuleSet]]:
    """Every rule set file, validated: {jurisdiction: {version: rule set}}. A broken file stops the
    service at start rather than deciding cases with half a rule set."""
    sets: dict[str, dict[str, RuleSet]] = {}
    for path in sorted(directory.glob("*.json")):
        rs = RuleSet.model_validate(json.loads(path.read_text(encoding="utf-8")))
        if path.stem != f"{rs.jurisdiction}-{rs.version}":
            raise ValueError(f"{path.name} must be named {rs.jurisdiction}-{rs.version}.json")
        ids = [r.id for r in [*rs.case_rules, *rs.mediator_rules]]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{path.name}: rule ids must be unique")
        sets.setdefault(rs.jurisdiction, {})[rs.version] = rs
    return sets


def jurisdictions() -> list[str]:
    return sorted(load_rule_sets())


def current(jurisdiction: str) -> RuleSet:
    """The newest rule set version of a jurisdiction; 422 for a jurisdiction we have no rules for."""
    versions = load_rule_sets().get(jurisdiction)
    if not versions:
        raise Problem(422, "unknown-jurisdiction", f"there is no rule set for jurisdiction {jurisdiction!r}",
                      supported=jurisdictions())
    return versions[max(versions, key=_version_key)]


def by_ref(ref: str) -> RuleSet:
    """The exact version a decision was taken under (``KZ@2023.1``)."""
    jurisdiction, _, version = ref.partition("@")
    rs = load_rule_sets().get(jurisdiction, {}).get(version)
    if rs is None:
        raise NotFound(f"rule set {ref}")
    return rs
