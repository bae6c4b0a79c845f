"""Settings of the sessions service, read from ``ODR_SESSIONS_`` environment variables.

They live here rather than in ``shared.config.Settings`` because only this service reads them.
Defaults are the embedded run: no TURN server, so browsers connect directly (host and, where a
STUN server is named, reflexive candidates), which works on one machine and most home networks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


# The document types the platform knows how to check (``services.sessions.filetypes``).
DOCUMENT_TYPES = (
    "application/pdf", "image/png", "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/msword", "application/vnd.ms-excel",
)


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

    document_max_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024,
                                    description="Largest document a room member may upload (bytes; 20 MB by default).")
    document_types: list[str] = Field(
        default_factory=lambda: list(DOCUMENT_TYPES),
        description="Document types accepted, as sniffed from the bytes: any of " + ", ".join(f"`{t}`" for t in DOCUMENT_TYPES) + ".")
    document_store: Literal["local", "s3"] = Field(
        "local", description="Where sealed documents are kept: `local` (a directory) or `s3` (S3-compatible object storage).")
    document_dir: Path | None = Field(None, description="`local` store directory. Default: data_dir/documents.")
    s3_bucket: str | None = Field(None, description="`s3` store: the bucket (it must exist).")
    s3_prefix: str = Field("", description="`s3` store: a key prefix, e.g. `documents/`.")
    s3_endpoint_url: str | None = Field(None, description="`s3` store: the endpoint of an S3-compatible service (MinIO...); "
                                        "unset for AWS. Credentials: the standard `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.")
    s3_region: str | None = Field(None, description="`s3` store: the region.")

    @model_validator(mode="after")
    def _documents(self) -> "SessionsSettings":
        unknown = set(self.document_types) - set(DOCUMENT_TYPES)
        if unknown:
            raise ValueError(f"ODR_SESSIONS_DOCUMENT_TYPES names unknown types: {sorted(unknown)}")
        if self.document_store == "s3" and not self.s3_bucket:
            raise ValueError("ODR_SESSIONS_DOCUMENT_STORE=s3 needs ODR_SESSIONS_S3_BUCKET")
        return self

    @model_validator(mode="after")
    def _turn_needs_secret(self) -> "SessionsSettings":
        if self.turn_urls and self.turn_secret is None:
            raise ValueError("ODR_SESSIONS_TURN_URLS is set without ODR_SESSIONS_TURN_SECRET")
        if self.ice_transport_policy == "relay" and not self.turn_urls:
            raise ValueError("ODR_SESSIONS_ICE_TRANSPORT_POLICY=relay needs ODR_SESSIONS_TURN_URLS")
        return self
