"""What the sessions service's own code needs besides the platform runtime: its settings, the KEK
provider of the transcripts, the documents' blob store, the hub (connections and fan-out) and the sequencer. Built once
when the service starts (``ServiceSpec.context``); the room machinery is started by the
``rooms_engine`` background work, routes take ``ctx: Ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.config import Settings
from shared.crypto import KeyProvider
from shared.deps import service_context
from shared.service import ServiceRuntime

from . import transcripts
from .hub import Hub
from .sequencer import Sequencer
from .settings import SessionsSettings
from .storage import BlobStore, create_store


@dataclass(frozen=True)
class SessionsContext:
    settings: SessionsSettings
    keys: KeyProvider
    hub: Hub
    sequencer: Sequencer
    store: BlobStore


def keys(settings: Settings, *, create: bool) -> None:
    """The service's keys (``ServiceSpec.keys``): the transcripts' KEK."""
    transcripts.key_provider(settings.resolved_kek_keyring, create=create)


def build(runtime: ServiceRuntime, settings: SessionsSettings | None = None) -> SessionsContext:
    settings = settings or SessionsSettings()
    keys = transcripts.key_provider(runtime.settings.resolved_kek_keyring, create=runtime.settings.dev_mode)
    hub = Hub(runtime, keys)
    return SessionsContext(settings=settings, keys=keys, hub=hub, sequencer=Sequencer(runtime, hub, keys),
                           store=create_store(settings, runtime.settings.data_dir))


Ctx = Annotated[SessionsContext, Depends(service_context)]
