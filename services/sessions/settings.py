"""Settings of the sessions service, read from ``ODR_SESSIONS_`` environment variables.

They live here rather than in ``shared.config.Settings`` because only this service reads them.
Defaults are the embedded run: no TURN server, so browsers connect directly (host and, where a
STUN server is named, reflexive candidates), which works on one machine and most home networks.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SessionsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ODR_SESSIONS_", extra="ignore")

    stun_urls: list[str] = Field(default_factory=list, description="STUN servers given to browsers (`stun:host:3478`).")
    turn_urls: list[str] = Field(
        default_factory=list,
        description="TURN servers given to browsers (`turn:host:3478?transport=udp`, `turns:host:5349`). Needs `turn_secret`.")
    turn_secret: SecretStr | None = Field(
        None, description="Shared secret of the TURN server's REST API scheme (coturn `static-auth-secret`).")
    turn_ttl_seconds: int = Field(3600, ge=60, le=86400,
                                  description="Lifetime of the TURN credentials a room member gets; the client asks again before they end.")
    ice_transport_policy: Literal["all", "relay"] = Field(
        "all", description="`relay`: browsers use TURN relays only (hides their addresses from each other; needs TURN).")

    @model_validator(mode="after")
    def _turn_needs_secret(self) -> "SessionsSettings":
        if self.turn_urls and self.turn_secret is None:
            raise ValueError("ODR_SESSIONS_TURN_URLS is set without ODR_SESSIONS_TURN_SECRET")
        if self.ice_transport_policy == "relay" and not self.turn_urls:
            raise ValueError("ODR_SESSIONS_ICE_TRANSPORT_POLICY=relay needs ODR_SESSIONS_TURN_URLS")
        return self
