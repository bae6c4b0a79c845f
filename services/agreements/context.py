"""What the agreements use cases need besides a unit of work: the vault (envelope encryption
with the ``agreements`` KEK), the platform sealer and the service's own settings. Built once per
service runtime from its settings, so the gateway's embedded run and a standalone process get
the same objects."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from shared.config import Settings
from shared.crypto import Envelope, LocalKeyring

from .config import AgreementsSettings
from .seal import Sealer
from .vault import Vault


@dataclass
class Context:
    settings: Settings
    config: AgreementsSettings
    vault: Vault
    sealer: Sealer


def build(settings: Settings, config: AgreementsSettings | None = None) -> Context:
    config = config or AgreementsSettings()
    keyring = LocalKeyring(settings.resolved_kek_keyring)
    return Context(settings=settings, config=config, vault=Vault(Envelope(keyring, config.kek_id)),
                   sealer=Sealer.load(config.seal_keyring_path(settings)))


_contexts: "weakref.WeakKeyDictionary[object, Context]" = weakref.WeakKeyDictionary()


def for_runtime(runtime) -> Context:
    ctx = _contexts.get(runtime)
    if ctx is None:
        ctx = _contexts[runtime] = build(runtime.settings)
    return ctx
