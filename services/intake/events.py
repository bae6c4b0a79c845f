"""What intake publishes (``shared.contracts.intake``) and consumes (nothing yet)."""

from __future__ import annotations

from shared.contracts.intake import CaseFiled

PUBLISHES = [CaseFiled]
SUBSCRIPTIONS: list = []
