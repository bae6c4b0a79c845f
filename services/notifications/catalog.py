"""Every kind of notice: who gets it, whether it is critical, on which channels, and where its link
points. Data, not code, so the list of notices can be read in one place.

Critical notices (deadlines, court decisions, time-bound session reminders) bypass quiet hours.
A notice carries a link and a status; whatever else a recipient needs they read in the client
with their own rights.
"""

from __future__ import annotations

from dataclasses import dataclass

# Roles in the recipient directory (shared.contracts.intake.Participant.role).
PARTY_ROLES = frozenset({"party", "representative"})
SESSION_ROLES = frozenset({"party", "representative", "interpreter", "support_person", "mediator"})
CASE_ROLES = frozenset({"party", "representative", "mediator"})
MEDIATOR = frozenset({"mediator"})

IN_APP, EMAIL, SMS = "in_app", "email", "sms"
ALL_CHANNELS = (IN_APP, EMAIL, SMS)


@dataclass(frozen=True)
class Kind:
    name: str
    critical: bool = False
    # Channels this kind may use at all; a recipient's preferences narrow it further.
    channels: frozenset[str] = frozenset(ALL_CHANNELS)
    # Link path in the browser client, formatted with the notice's params.
    link: str = "/cases/{case_id}"


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("case_filed"),
    Kind("invitation", critical=True, link="/cases/{case_id}/invitation"),
    Kind("invitation_sent"),
    Kind("answer_window_closing", critical=True, link="/cases/{case_id}/invitation"),
    Kind("consent_recorded"),
    Kind("screening_requested", link="/cases/{case_id}/screening"),
    Kind("mediator_proposed", link="/cases/{case_id}/mediator"),
    Kind("mediator_assigned"),
    Kind("mediation_started"),
    Kind("session_scheduled", link="/cases/{case_id}/sessions/{session_id}"),
    Kind("session_reminder", critical=True, link="/cases/{case_id}/sessions/{session_id}"),
    Kind("session_started", channels=frozenset({IN_APP}), link="/cases/{case_id}/sessions/{session_id}"),
    Kind("caucus_requested", channels=frozenset({IN_APP}), link="/cases/{case_id}/sessions/{session_id}"),
    Kind("draft_ready", link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("signature_requested", link="/cases/{case_id}/agreements/{agreement_id}/sign"),
    Kind("signature_pending", link="/cases/{case_id}/agreements/{agreement_id}/sign"),
    Kind("agreement_signed", link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("court_decision", critical=True, link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("obligation_due", critical=True, link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("obligation_overdue", critical=True, link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("case_closed"),
]}


def link_for(kind: str, base_url: str, params: dict) -> str:
    try:
        path = KINDS[kind].link.format(**params)
    except KeyError:
        path = "/cases/{case_id}".format(**params)
    return base_url.rstrip("/") + path
