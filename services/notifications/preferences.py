"""Quiet hours: local times in the case's time zone during which non-critical email and SMS wait.
A window may cross midnight (22:00-08:00). In-app notices are never held: the feed is the
record, and nobody is woken by it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, *, start: str | None, end: str | None, time_zone: str) -> datetime | None:
    """If ``now`` (aware) falls in the quiet window, the aware instant the window ends; else None."""
    if not start or not end or start == end:
        return None
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    s, e = parse_hhmm(start), parse_hhmm(end)
    t = local.time().replace(second=0, microsecond=0)
    if s < e:
        inside = s <= t < e
        end_day = local.date()
    else:  # crosses midnight
        inside = t >= s or t < e
        end_day = local.date() + timedelta(days=1) if t >= s else local.date()
    if not inside:
        return None
    # Wall-clock end in the zone (fold-aware through zoneinfo), back to an aware instant.
    return datetime.combine(end_day, e, tzinfo=zone)
