"""The platform's clock: times are aware and in UTC everywhere (shown in a case's time zone only
when rendered).

Dev mode and tests can move it forward (``set_offset``, behind the dev-only ``/dev/clock`` route of
every service, ``shared.devclock``), so answer windows, terms of mediation, reminders and link
expiry can be tried end to end without waiting days. Everything that decides by the platform's
time reads ``utcnow()``; background workers are woken when the clock moves (``on_change``), so a
sweep or a reminder that became due fires at once instead of at its next poll. Access tokens, rate
limits and the event log keep the real time: they protect the platform, not a case's calendar.

The offset is per process: in ``odr dev`` (one process) it moves every service; with ``odr serve``
each service's clock is set through its own route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

log = logging.getLogger("odr.clock")

_offset = timedelta(0)
_listeners: set[Callable[[], None]] = set()


def utcnow() -> datetime:
    return datetime.now(timezone.utc) + _offset


def offset() -> timedelta:
    return _offset


def set_offset(value: timedelta) -> None:
    """Put the clock ``value`` ahead of the real time (dev mode and tests only: the one caller in
    the running platform is the dev route, which refuses outside dev mode), then tell the listeners."""
    global _offset
    if value < timedelta(0):
        raise ValueError("the platform clock only moves ahead of the real time")
    _offset = value
    for listener in list(_listeners):
        try:
            listener()
        except Exception:  # one listener's failure must not keep the others asleep
            log.exception("a platform clock listener failed")


def on_change(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener`` whenever the clock is moved; returns the function that stops it."""
    _listeners.add(listener)
    return lambda: _listeners.discard(listener)
