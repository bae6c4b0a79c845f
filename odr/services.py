"""The platform's services, by name. Each is imported only when it is asked for: a service's
image holds the platform and that one service, and ``odr serve`` must run there."""

from __future__ import annotations

import importlib
from types import ModuleType

SERVICES = ("intake", "sessions", "agreements", "notifications")


def app_module(name: str) -> ModuleType:
    """The service's ``app`` module (``SPEC``, ``create_app``)."""
    if name == "intake":
        from services.intake import app
    elif name == "sessions":
        from services.sessions import app
    elif name == "agreements":
        from services.agreements import app
    elif name == "notifications":
        from services.notifications import app
    else:
        raise ValueError(f"no service {name!r}; the services are {', '.join(SERVICES)}")
    return app


def events_module(name: str) -> ModuleType:
    """The service's ``events`` module: what it publishes (``PUBLISHES``) and consumes."""
    if name not in SERVICES:
        raise ValueError(f"no service {name!r}; the services are {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.events")


def keys_module(name: str) -> ModuleType | None:
    """The service's ``keys`` module (its key-encryption-key chores), if it keeps re-wrappable
    data keys."""
    if name == "agreements":
        from services.agreements import keys

        return keys
    return None
