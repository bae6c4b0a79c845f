"""Safety screening, MASIC-style: each party answers privately about psychological abuse, coercive
control, threats of severe violence, physical and sexual violence, stalking and fear. The score
decides how the mediation may go on: proceed; proceed with safeguards (shuttle only, no joint
session, staggered joining, a support person); or refer out.

The questions are our own wording of the MASIC domains (Pokman, Rossi, Holtzworth-Munroe et al.),
not the instrument itself. Answers are sealed with envelope encryption (``shared.crypto``) bound to
the case and participant, and only the assigned mediator can open them. Only the outcome and the
safeguards ever leave this module: events, logs and the other party never see answers.

Screening is per person: every party of the case (each co-claimant and co-respondent) answers for
itself, and mediation waits until every party has. Screening is also where the case's eligibility
and safety meet: when every party has answered, the case goes on, is referred out, or waits for a
person to review what the rules could not decide.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.auth import Principal
from shared.contracts.intake import CaseScreened
from shared import crypto
from shared.crypto import Envelope, aad, create_keyring
from shared.problems import Conflict, Forbidden, Problem
from shared.uow import UnitOfWork

from . import cases, personal
from .models import EligibilityDecision, Screening
from .schemas import CaseView, Input

KEK_ID = "intake-screening"
Safety = Literal["proceed", "proceed_with_safeguards", "refer_out"]
SAFEGUARDS = ("shuttle_only", "no_joint_session", "staggered_join", "support_person")
_RANK = {"proceed": 0, "proceed_with_safeguards": 1, "refer_out": 2}


@dataclass(frozen=True)
class Question:
    id: str
    domain: str
    weight: int  # added to the score when answered yes
    severe: bool  # a yes refers the case out whatever the score
    text: dict[str, str]


QUESTIONS: tuple[Question, ...] = (
    Question("insults", "psychological_abuse", 1, False, {
        "kk": "Екінші тарап сізді жиі қорлады, кемсітті немесе қорқытты ма?",
        "ky": "Экинчи тарап сизди көп кордоп, басмырлап же коркутуп турдубу?",
        "ru": "Другая сторона часто оскорбляла, унижала или запугивала вас?",
        "en": "Has the other party often insulted, humiliated or intimidated you?"}),
    Question("controls_life", "coercive_control", 2, False, {
        "kk": "Екінші тарап сіздің ақшаңызды, телефоныңызды, жүріп-тұруыңызды немесе байланыстарыңызды бақылады ма?",
        "ky": "Экинчи тарап сиздин акчаңызды, телефонуңузду, жүрүм-турумуңузду же байланыштарыңызды көзөмөлдөдүбү?",
        "ru": "Другая сторона контролировала ваши деньги, телефон, передвижения или общение?",
        "en": "Has the other party controlled your money, phone, movements or contacts?"}),
    Question("cannot_disagree", "coercive_control", 2, False, {
        "kk": "Салдарсыз келіспеу немесе өз шешіміңізді қабылдау мүмкін емес деп санайсыз ба?",
        "ky": "Кесепетсиз каршы чыга албайм же өзүм чече албайм деп сезесизби?",
        "ru": "Вы чувствуете, что не можете возражать или решать сами без последствий?",
        "en": "Do you feel you cannot disagree or decide for yourself without consequences?"}),
    Question("threats", "threats", 3, False, {
        "kk": "Екінші тарап сізге, балаларыңызға немесе жақындарыңызға зиян келтіремін деп қорқытты ма?",
        "ky": "Экинчи тарап сизге, балдарыңызга же жакындарыңызга зыян келтирем деп коркуттубу?",
        "ru": "Другая сторона угрожала причинить вред вам, вашим детям или близким?",
        "en": "Has the other party threatened to harm you, your children or people close to you?"}),
    Question("threat_to_kill_or_weapon", "threats_of_severe_violence", 0, True, {
        "kk": "Екінші тарап сізді өлтіремін деп қорқытты ма немесе сізге қарсы қару қолданды ма (қолданамын деді ме)?",
        "ky": "Экинчи тарап сизди өлтүрөм деп коркуттубу же сизге каршы курал колдондубу (колдоном дедиби)?",
        "ru": "Другая сторона угрожала вас убить или применяла (угрожала применить) против вас оружие?",
        "en": "Has the other party threatened to kill you, or used or threatened to use a weapon against you?"}),
    Question("physical", "physical_violence", 3, False, {
        "kk": "Екінші тарап сізді итерді, ұрды немесе басқаша дене жарақатын келтірді ме?",
        "ky": "Экинчи тарап сизди түрттүбү, урдубу же башкача дене жаракатын келтирдиби?",
        "ru": "Другая сторона толкала, била вас или иначе причиняла физический вред?",
        "en": "Has the other party pushed, hit or otherwise physically hurt you?"}),
    Question("strangulation", "physical_violence", 0, True, {
        "kk": "Екінші тарап сізді тұншықтырды ма немесе буындырды ма?",
        "ky": "Экинчи тарап качандыр бир сизди муунтуп көрдүбү?",
        "ru": "Другая сторона когда-либо душила вас?",
        "en": "Has the other party ever choked or strangled you?"}),
    Question("sexual", "sexual_violence", 4, False, {
        "kk": "Екінші тарап сізді жыныстық әрекеттерге мәжбүрледі ме немесе қысым жасады ма?",
        "ky": "Экинчи тарап сизди жыныстык аракеттерге мажбурладыбы же кысым көрсөттүбү?",
        "ru": "Другая сторона принуждала вас или давила на вас, добиваясь сексуальных действий?",
        "en": "Has the other party forced or pressured you into sexual acts?"}),
    Question("stalking", "stalking", 3, False, {
        "kk": "Екінші тарап сіздің еркіңізге қарсы сізді аңдыды, бақылады немесе қайта-қайта хабарласты ма?",
        "ky": "Экинчи тарап сиздин эркиңизге каршы сизди аңдыдыбы, байкап жүрдүбү же кайра-кайра байланышка чыктыбы?",
        "ru": "Другая сторона преследовала, следила за вами или неоднократно связывалась с вами против вашей воли?",
        "en": "Has the other party followed, watched or repeatedly contacted you against your wishes?"}),
)
QUESTION_IDS = tuple(q.id for q in QUESTIONS)
EXTRA_TEXT = {
    "fear_level": {"kk": "Екінші тараптан қаншалықты қорқасыз? (0 — мүлдем қорықпаймын, 3 — қатты қорқамын)",
                   "ky": "Экинчи тараптан канчалык коркосуз? (0 — такыр коркпойм, 3 — абдан коркомун)",
                   "ru": "Насколько вы боитесь другой стороны? (0 — не боюсь, 3 — очень боюсь)",
                   "en": "How afraid are you of the other party? (0 not at all, 3 very)"},
    "safe_in_same_room": {"kk": "Екінші тараппен бір (виртуалды) бөлмеде болу сізге қауіпсіз бе?",
                          "ky": "Экинчи тарап менен бир (виртуалдык) бөлмөдө болуу сиз үчүн коопсузбу?",
                          "ru": "Безопасно ли вам находиться в одной (виртуальной) комнате с другой стороной?",
                          "en": "Do you feel safe in the same (virtual) room as the other party?"},
    "wants_support_person": {"kk": "Қасыңызда қолдау көрсететін адам болғанын қалайсыз ба?",
                             "ky": "Жаныңызда колдоо көрсөткөн адам болушун каалайсызбы?",
                             "ru": "Хотите ли вы, чтобы рядом с вами был человек для поддержки?",
                             "en": "Would you like a support person with you?"},
}


class ScreeningAnswers(BaseModel):
    """One party's private answers. Every yes/no question must be answered."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[Literal[QUESTION_IDS], bool] = Field(  # type: ignore[valid-type]
        description="yes/no for every question id of GET /screening/questionnaire")
    fear_level: int = Field(ge=0, le=3)
    safe_in_same_room: bool
    wants_support_person: bool = False
    note: str | None = Field(None, max_length=2000, description="Anything else the mediator should know (private).")

    def missing(self) -> list[str]:
        return [q for q in QUESTION_IDS if q not in self.answers]


@dataclass(frozen=True)
class SafetyResult:
    safety: Safety
    safeguards: tuple[str, ...]


def score(answers: ScreeningAnswers) -> SafetyResult:
    """Thresholds: any severe item, or a score of 10 or more, refers out; a score of 4 or more, fear
    of 2 or more, or not feeling safe in one room means shuttle mediation (no joint session,
    staggered joining) with a support person; any lower positive score staggers joining."""
    yes = [q for q in QUESTIONS if answers.answers.get(q.id)]
    if any(q.severe for q in yes):
        return SafetyResult("refer_out", ())
    total = sum(q.weight for q in yes) + answers.fear_level
    if total >= 10:
        return SafetyResult("refer_out", ())
    safeguards: set[str] = set()
    if total >= 4 or answers.fear_level >= 2 or not answers.safe_in_same_room:
        safeguards |= {"shuttle_only", "no_joint_session", "staggered_join", "support_person"}
    elif total >= 1:
        safeguards.add("staggered_join")
    if answers.wants_support_person:
        safeguards.add("support_person")
    ordered = tuple(s for s in SAFEGUARDS if s in safeguards)
    return SafetyResult("proceed_with_safeguards" if ordered else "proceed", ordered)


def combine(results: list[SafetyResult]) -> SafetyResult:
    """The case gets the most protective outcome of its parties and every safeguard any of them needs."""
    worst = max((r.safety for r in results), key=_RANK.__getitem__, default="proceed")
    if worst == "refer_out":
        return SafetyResult("refer_out", ())
    union = {s for r in results for s in r.safeguards}
    return SafetyResult(worst, tuple(s for s in SAFEGUARDS if s in union))


def questionnaire(lang: str) -> dict:
    return {
        "questions": [{"id": q.id, "domain": q.domain, "text": q.text[lang]} for q in QUESTIONS],
        "fear_level": EXTRA_TEXT["fear_level"][lang],
        "safe_in_same_room": EXTRA_TEXT["safe_in_same_room"][lang],
        "wants_support_person": EXTRA_TEXT["wants_support_person"][lang],
    }


class Vault(crypto.Vault):
    """The screening KEK's vault (``shared.crypto.Vault``) over the keyring at ``keyring_path``."""

    def __init__(self, keyring_path) -> None:
        super().__init__(Envelope(create_keyring(keyring_path), KEK_ID))


def answers_aad(case_id: str, participant_id: str) -> bytes:
    """Screening answers belong to one case and participant."""
    return aad("screening", case_id, participant_id)


class ScreeningReceived(BaseModel):
    side: str
    participant_id: str = Field(description="the party whose answers these are")
    received_at: datetime
    all_screened: bool = Field(description="every party of the case has answered")


class ScreeningReport(BaseModel):
    """For the assigned mediator only: one party's answers, under its name."""

    side: str
    participant_id: str
    name: str | None = Field(None, description="the party's name (absent once shredded)")
    answered_by: str = Field(description="party: the party itself; representative: its representative for it "
                                         "(a legal entity, state body or group)")
    safety: str
    safeguards: list[str]
    answers: dict[str, Any]
    answered_at: datetime


class EligibilityReview(Input):
    outcome: Literal["eligible", "ineligible"]
    reason: str = Field(min_length=1, max_length=2000)


# -- use cases ---------------------------------------------------------------------------------


# Who may answer for a party. A person answers about their own experience of abuse, fear and safety:
# no one else can know it, and the one answering for them might be the very person they fear (a
# relative acting as representative), so a natural person's screening is theirs alone (MASIC is
# held privately with each party; DESIGN.md, "Safety screening"). A legal entity, state body or
# group has no experience of its own: the person who attends for it answers, whether that is its
# own sign-in or its representative.
ANSWERS_ONLY_FOR_ITSELF = ("natural_person", None)


def _who_answers(principal: Principal, party) -> str:
    """'party' or 'representative', or 403 for a representative of a natural person."""
    if principal.acting == "party":
        return "party"
    if party.kind in ANSWERS_ONLY_FOR_ITSELF:
        raise Forbidden("a person answers the safety screening themselves, privately; a representative "
                        "cannot answer it for them")
    return "representative"


async def submit_screening(uow: UnitOfWork, *, case_id: str, principal: Principal, answers: ScreeningAnswers,
                           vault: Vault, now: datetime | None = None) -> ScreeningReceived:
    """A party's private answers, sealed at once, for the party the caller is (or represents, when
    the party is not a natural person: ``_who_answers``). The party learns only that they were
    received; when every party of the case has answered, the case is screened (eligibility +
    safety). Interpreters and support persons never answer (``cases.access``)."""
    case, relation = await cases.access(uow.session, case_id, principal, to_act=True)
    if relation != "party":
        raise Forbidden("each party answers the safety screening for themselves")
    if case.status != "screening":
        raise Conflict("illegal-transition", f"a case that is {case.status} is not being screened", case_status=case.status)
    missing = answers.missing()
    if missing:
        raise Problem(422, "screening-incomplete", "answer every question", missing=missing)
    people = await cases.participants(uow.session, case.id)
    party = next((p for p in people if p.id == principal.party_id and p.role == "party"
                  and p.side == principal.party_side), None)
    if party is None:
        raise Forbidden("your sign-in does not act for a party of this case")
    answered_by = _who_answers(principal, party)
    existing = (await uow.session.execute(select(Screening).where(
        Screening.case_id == case.id, Screening.participant_id == party.id))).scalar_one_or_none()
    if existing is not None:
        raise Conflict("already-screened", "this party has already answered the screening")
    now = now or cases.utcnow()
    result = score(answers)
    sealed = vault.seal(answers.model_dump_json().encode(), aad=answers_aad(case.id, party.id))
    uow.session.add(Screening(id=str(uuid.uuid4()), case_id=case.id, side=party.side, participant_id=party.id,
                              answered_by=answered_by, safety=result.safety, safeguards=list(result.safeguards),
                              sealed=sealed, answered_at=now))
    await uow.session.flush()
    rows = (await uow.session.execute(select(Screening).where(Screening.case_id == case.id))).scalars().all()
    done = {r.participant_id for r in rows} >= {p.id for p in people if p.role == "party"}
    if done:
        combined = combine([SafetyResult(r.safety, tuple(r.safeguards)) for r in rows])
        case.safety, case.safeguards = combined.safety, list(combined.safeguards)
        uow.publish(CaseScreened(case_id=case.id, eligibility=case.eligibility, safety=combined.safety,
                                 safeguards=list(combined.safeguards), rule_set=case.rule_set,
                                 rules_fired=list(case.rules_fired or [])))
        if combined.safety == "refer_out":
            await cases.close(uow, case, "screened_refer_out", "referred_out", actor="screening", now=now)
        elif case.eligibility == "ineligible":
            await cases.close(uow, case, "screened_ineligible", "ineligible", actor="rules", now=now)
        elif case.eligibility == "needs_review":
            cases.move(uow, case, "screened_needs_review", actor="rules", now=now)
        else:
            cases.move(uow, case, "screened_eligible", actor="screening", now=now)
    await uow.commit()
    return ScreeningReceived(side=party.side, participant_id=party.id, received_at=now, all_screened=done)


async def read_screenings(uow: UnitOfWork, *, case_id: str, principal: Principal, vault: Vault,
                          personal_vault: personal.Vault) -> list[ScreeningReport]:
    """Each party's answers under its name, opened for the assigned mediator only (not admins, not
    courts, not parties: a co-party on the same side reads no more than the other side does)."""
    case, relation = await cases.access(uow.session, case_id, principal)
    if relation != "mediator":
        raise Forbidden("screening answers are for the assigned mediator only")
    if case.shredded_at is not None:
        raise Problem(410, "shredded", "the retention period ended and the answers were crypto-shredded")
    people = await cases.people(uow.session, case.id, personal_vault)
    order = {p.id: (cases.SIDES.index(p.side) if p.side in cases.SIDES else 9, p.position) for p in people}
    names = {p.id: p.name for p in people}
    rows = sorted((await uow.session.execute(select(Screening).where(Screening.case_id == case.id))).scalars(),
                  key=lambda r: order.get(r.participant_id, (9, 0)))
    return [ScreeningReport(side=r.side, participant_id=r.participant_id, name=names.get(r.participant_id),
                            answered_by=r.answered_by or "party", safety=r.safety, safeguards=r.safeguards,
                            answers=json.loads(vault.open(r, aad=answers_aad(case.id, r.participant_id))),
                            answered_at=r.answered_at) for r in rows]


async def review_eligibility(uow: UnitOfWork, *, case_id: str, review: EligibilityReview,
                             principal: Principal, personal_vault: personal.Vault) -> CaseView:
    """A person decides a case the rules sent for review; the decision is recorded beside the rules'."""
    case = await cases.load(uow.session, case_id)
    now = cases.utcnow()
    operation = "review_eligible" if review.outcome == "eligible" else "review_ineligible"
    if review.outcome == "eligible":
        cases.move(uow, case, operation, actor=principal.subject, reason="eligibility review", now=now)
    else:
        await cases.close(uow, case, operation, "ineligible", actor=principal.subject, reason="eligibility review", now=now)
    case.eligibility = review.outcome
    uow.session.add(EligibilityDecision(id=str(uuid.uuid4()), case_id=case.id, rule_set=case.rule_set,
                                        outcome=review.outcome, rules_fired=list(case.rules_fired or []),
                                        decided_by=principal.subject, reason=review.reason, decided_at=now))
    uow.publish(CaseScreened(case_id=case.id, eligibility=review.outcome, safety=case.safety or "proceed",
                             safeguards=list(case.safeguards or []), rule_set=case.rule_set,
                             rules_fired=list(case.rules_fired or [])))
    await uow.commit()
    return cases.view(case, await cases.people(uow.session, case.id, personal_vault), principal, "admin")
