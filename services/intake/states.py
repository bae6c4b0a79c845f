"""The case state machine: every status a case can have and every move between them, as one
table, so a move that is not in it cannot happen by accident (it is refused with a 409 problem) and
each move leaves a line in the audit trail (``models.CaseTransition``).

    filed ──invite──▶ awaiting_consent ──all consented──▶ screening ──screened──▶ eligible
      │                     │ declined / silence                 │            ├─▶ needs_review ─▶ eligible | ineligible
      ▼                     ▼                                    │            ├─▶ ineligible
    ineligible          declined                                 │            └─▶ referred_out
    (rules at filing)                                            ▼
    eligible ──mediator accepted──▶ mediator_agreed ──all signed──▶ agreement_signed ──session──▶ in_session
         ▲                                 │ recusal                     │ recusal                     │
         └─────────────────────────────────┴─────────────────────────────┘                             ▼
                                                                  settled / terminated (withdrawn, futile, term expired, no agreement)

A party may withdraw at any time before the end (voluntariness, Law No. 401-IV Art. 4).
"""

from __future__ import annotations

from typing import Literal

from shared.problems import Conflict

Status = Literal["filed", "awaiting_consent", "screening", "needs_review", "eligible", "mediator_agreed",
                 "agreement_signed", "in_session", "declined", "ineligible", "referred_out", "settled", "terminated"]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
TERMINAL = frozenset({"declined", "ineligible", "referred_out", "settled", "terminated"})
OPEN = frozenset(STATUSES) - TERMINAL

# operation -> {from status: to status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "invite": {"filed": "awaiting_consent", "awaiting_consent": "awaiting_consent"},
    "all_consented": {"awaiting_consent": "screening"},
    "decline": {"filed": "declined", "awaiting_consent": "declined"},
    "answer_window_passed": {"awaiting_consent": "declined"},
    "rules_ineligible": {"filed": "ineligible"},
    "screened_eligible": {"screening": "eligible"},
    "screened_needs_review": {"screening": "needs_review"},
    "screened_ineligible": {"screening": "ineligible"},
    "screened_refer_out": {"screening": "referred_out"},
    "review_eligible": {"needs_review": "eligible"},
    "review_ineligible": {"needs_review": "ineligible"},
    "mediator_accepted": {"eligible": "mediator_agreed"},
    "mediator_recused": {"mediator_agreed": "eligible", "agreement_signed": "eligible"},
    "agreement_to_mediate_signed": {"mediator_agreed": "agreement_signed"},
    "session_started": {"agreement_signed": "in_session", "in_session": "in_session"},
    "settled": {"agreement_signed": "settled", "in_session": "settled"},
    "withdrawn": {s: "terminated" for s in sorted(OPEN)},
    "futile": {"agreement_signed": "terminated", "in_session": "terminated"},
    "no_agreement": {"agreement_signed": "terminated", "in_session": "terminated"},
    "term_expired": {"agreement_signed": "terminated", "in_session": "terminated"},
}
OPERATIONS: tuple[str, ...] = tuple(TRANSITIONS)


def next_status(status: str, operation: str) -> str:
    """Where ``operation`` takes a case in ``status``; a 409 problem if it may not happen now."""
    moves = TRANSITIONS.get(operation)
    if moves is None:
        raise ValueError(f"unknown operation {operation}")
    target = moves.get(status)
    if target is None:
        raise Conflict("illegal-transition", f"a case that is {status} cannot be {operation.replace('_', ' ')}",
                       case_status=status, operation=operation, allowed=allowed_operations(status))
    return target


def allowed_operations(status: str) -> list[str]:
    return [op for op, moves in TRANSITIONS.items() if status in moves]


def can(status: str, operation: str) -> bool:
    return status in TRANSITIONS.get(operation, {})
