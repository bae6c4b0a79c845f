"""Calendar invitations (iCalendar, RFC 5545 with iTIP methods, RFC 5546) attached to the emails
about a sitting, built with the ``icalendar`` library.

- The UID is the sitting's (``sitting-<id>@<message id domain>``), the same in every email about
  it, and SEQUENCE is the sitting's change count from intake: so a calendar that received the
  first invitation replaces it with a moved one and removes it on a CANCEL, instead of keeping two.
- Times are in the case's time zone (``DTSTART;TZID=Asia/Almaty``) with its VTIMEZONE, because
  people meet at a local wall-clock time; the calendar shows it in its owner's zone.
- The summary is the notice's subject in the recipient's language; the description is only the
  link. Like every notice, the invitation carries no case content, and it names only its own
  recipient as attendee: the other participants' addresses are theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from shared.clock import utcnow

# notice kind -> iTIP method and event status
KINDS = {"sitting_fixed": ("REQUEST", "CONFIRMED"), "sitting_moved": ("REQUEST", "CONFIRMED"),
         "sitting_cancelled": ("CANCEL", "CANCELLED")}
FILENAME = "invite.ics"


@dataclass(frozen=True)
class Invitation:
    """An ``.ics`` ready to attach: its bytes and iTIP method (the part's ``method`` parameter)."""

    data: bytes
    method: str
    filename: str = FILENAME


def wants_invitation(kind: str) -> bool:
    return kind in KINDS


def uid_for(sitting_id: str, domain: str) -> str:
    return f"sitting-{sitting_id}@{domain}"


def invitation(*, kind: str, params: dict, time_zone: str, summary: str, link: str, organizer: str,
               attendee: str, language: str, domain: str) -> Invitation:
    """The ``.ics`` of one notice about a sitting (``params``: sitting_id, starts_at, ends_at, sequence)."""
    method, status = KINDS[kind]
    zone = ZoneInfo(time_zone)
    cal = Calendar()
    cal.add("prodid", "-//ODR//Mediation sittings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    event = Event()
    event.add("uid", uid_for(params["sitting_id"], domain))
    event.add("sequence", int(params["sequence"]))
    event.add("dtstamp", utcnow())
    event.add("dtstart", datetime.fromisoformat(params["starts_at"]).astimezone(zone))
    event.add("dtend", datetime.fromisoformat(params["ends_at"]).astimezone(zone))
    event.add("summary", summary, parameters={"LANGUAGE": language})
    event.add("description", link)
    event.add("url", link)
    event.add("status", status)
    event.add("transp", "OPAQUE")
    name, address = parseaddr(organizer)
    org = vCalAddress(f"mailto:{address}")
    if name:
        org.params["CN"] = name
    event.add("organizer", org)
    who = vCalAddress(f"mailto:{attendee}")
    who.params.update({"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"})
    event.add("attendee", who)
    cal.add_component(event)
    cal.add_missing_timezones()  # the VTIMEZONE of the case's zone, from the tz database
    return Invitation(data=cal.to_ical(), method=method)
