"""Every kind of notice: who gets it, whether it is critical, on which channels, and where its link
points. Data, not code, so the list of notices can be read in one place.

Who gets a notice (``Audience``) is read against the facts of what causes it: the fields of the
event, or a reminder's params. ``service.recipients`` turns an audience and those facts into people.

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
class Audience:
    """Who receives a notice: the case's active people in ``roles``, narrowed to one side (``side``,
    or the side the fact ``side_from`` names) or, with ``other_side_of``, to those not on the side of
    the participant that fact names (and the mediator; nobody when that participant has no side);
    then the one participant the fact ``person`` names (in the language the fact ``language_from``
    names, else the one the directory knows); then the people behind the signer slots the fact
    ``signers_from`` lists."""

    roles: frozenset[str] = frozenset()
    side: str | None = None
    side_from: str | None = None
    other_side_of: str | None = None
    person: str | None = None
    language_from: str | None = None
    signers_from: str | None = None


CASE = Audience(CASE_ROLES)
SESSION = Audience(SESSION_ROLES)
ADDRESSEE = Audience(person="participant_id", language_from="language")


@dataclass(frozen=True)
class Kind:
    name: str
    audience: Audience
    critical: bool = False
    # Channels this kind may use at all; a recipient's preferences narrow it further.
    channels: frozenset[str] = frozenset(ALL_CHANNELS)
    # Link path in the browser client, formatted with the notice's params.
    link: str = "/cases/{case_id}"
    # Sent once its person gives an address, if that is within ``service.CONTACT_GRACE`` of the
    # notice: the filer saves their address with the token the filing returns, so the filing's
    # receipt is usually queued (and found without an address) a moment before it.
    waits_for_contact: bool = False
    # Carries a one-time link for one address: delivered, never listed in a feed.
    private: bool = False


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("case_filed", Audience(person="claimant_participant_id"), waits_for_contact=True),  # the filer's receipt
    Kind("invitation", Audience(person="respondent_participant_id", language_from="language"), critical=True,
         link="/cases/{case_id}/invitation"),
    Kind("invitation_sent", Audience(PARTY_ROLES, side="claimant")),
    Kind("answer_window_closing", ADDRESSEE, critical=True, link="/cases/{case_id}/invitation"),
    Kind("consent_recorded", Audience(CASE_ROLES, other_side_of="participant_id")),
    Kind("screening_requested", ADDRESSEE, link="/cases/{case_id}/screening"),
    # the parties, and the proposed mediator (who is not yet the case's mediator)
    Kind("mediator_proposed", Audience(PARTY_ROLES, person="mediator_id"), link="/cases/{case_id}/mediator"),
    Kind("mediator_assigned", CASE),
    Kind("mediation_started", SESSION),
    Kind("session_scheduled", SESSION, link="/cases/{case_id}/sessions/{session_id}"),
    Kind("session_reminder", SESSION, critical=True, link="/cases/{case_id}/sessions/{session_id}"),
    Kind("session_started", SESSION, channels=frozenset({IN_APP}), link="/cases/{case_id}/sessions/{session_id}"),
    # only that side, and only that the mediator asks them in: no content ever
    # the calendar: the parties answer proposed times; everyone in the sessions gets the invitation
    Kind("sitting_proposed", Audience(PARTY_ROLES)),
    Kind("sitting_fixed", SESSION),
    Kind("sitting_moved", SESSION, critical=True),
    Kind("sitting_cancelled", SESSION, critical=True),
    Kind("sitting_reminder", SESSION, critical=True),
    Kind("caucus_requested", Audience(SESSION_ROLES - MEDIATOR, side_from="side"), channels=frozenset({IN_APP}),
         link="/cases/{case_id}/sessions/{session_id}"),
    Kind("draft_ready", CASE, link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("signature_requested", Audience(signers_from="signer_ids"), link="/cases/{case_id}/agreements/{agreement_id}/sign"),
    Kind("signature_pending", Audience(signers_from="signer_ids"), link="/cases/{case_id}/agreements/{agreement_id}/sign"),
    # the mediator hears of each party's signature as it comes (the parties need not: the
    # agreement's page shows who has signed, and everyone hears when all have)
    Kind("signature_added", Audience(MEDIATOR), link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("agreement_signed", CASE, link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("court_decision", CASE, critical=True, link="/cases/{case_id}/agreements/{agreement_id}"),
    # the owing side
    Kind("obligation_due", Audience(CASE_ROLES - MEDIATOR, side_from="side"), critical=True,
         link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("obligation_overdue", CASE, critical=True, link="/cases/{case_id}/agreements/{agreement_id}"),
    Kind("case_closed", CASE),
    # One-time links (``links``): sent to one address, never in the in-app feed; the token is
    # opened from its sealed form only to render the message being sent.
    Kind("invitation_link", Audience(), critical=True, channels=frozenset({EMAIL, SMS}), link="/invitations/{token}",
         private=True),
    Kind("sign_in_link", Audience(), critical=True, channels=frozenset({EMAIL, SMS}), link="/sign-in/{token}",
         private=True),
]}

PRIVATE_KINDS = frozenset(k.name for k in KINDS.values() if k.private)


def link_for(kind: str, base_url: str, params: dict) -> str:
    try:
        path = KINDS[kind].link.format(**params)
    except KeyError:
        path = "/cases/{case_id}".format(**params)
    return base_url.rstrip("/") + path
