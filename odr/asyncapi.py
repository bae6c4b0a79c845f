"""The platform's AsyncAPI 3 document: every event (``shared.asyncapi``), which service sends it
(each service's ``events.PUBLISHES``), and every service's own protocol (such as the sessions
websocket)."""

from __future__ import annotations

from typing import Any

from shared.asyncapi import asyncapi_document

from .services import SERVICES, app_module, events_module


def platform_asyncapi() -> dict[str, Any]:
    specs = [app_module(name).SPEC for name in SERVICES]
    return asyncapi_document(parts=[spec.asyncapi() for spec in specs if spec.asyncapi is not None],
                             publishers={name: events_module(name).PUBLISHES for name in SERVICES})
