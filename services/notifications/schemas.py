"""Notifications' request and response bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Channel = Literal["in_app", "email", "sms"]
Language = Literal["kk", "ky", "ru", "en"]

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class NotificationView(BaseModel):
    id: str
    case_id: str
    case_reference: str | None = Field(None, description="what people call the case, e.g. KZ-2026-000123")
    kind: str
    channel: str
    created_at: datetime
    title: str = ""
    language: str | None = Field(None, description="the language the title is written in: the recipient's")
    link: str = ""
    critical: bool = False
    read: bool = False


class Feed(BaseModel):
    items: list[NotificationView]


class ContactIn(BaseModel):
    """Contact details of a participant. Omit a field to keep it, send null to erase it."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, max_length=254, description="An address (no display name).")
    phone: str | None = Field(None, max_length=16, description="E.164, e.g. +77011234567.")

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL.match(v):
            raise ValueError("not an email address")
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise ValueError("not an E.164 phone number")
        return v


class ContactView(BaseModel):
    """Masked: the API never echoes a full address back."""

    participant_id: str
    email: str | None = None
    phone: str | None = None


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(..., description="HH:MM local time in the case's time zone")
    end: str = Field(..., description="HH:MM; may be earlier than start (crosses midnight)")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError("use HH:MM (24 h)")
        return v


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Channel] = Field(default_factory=lambda: ["in_app", "email"], max_length=3)
    language: Language | None = None
    quiet_hours: QuietHours | None = None


class PreferencesView(PreferencesIn):
    subject: str


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., max_length=2000)
    event_types: list[str] = Field(default_factory=list, max_length=20,
                                   description="CloudEvents types to receive; empty means every court event.")


class WebhookEndpointView(BaseModel):
    id: str
    court_id: str
    url: str
    event_types: list[str]
    status: str
    disabled_reason: str | None = None
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointView):
    secret: str = Field(..., description="`whsec_` signing secret; shown only now.")


class RotateSecretIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int | None = Field(None, ge=0, le=7 * 86400,
                                      description="How long the old secret keeps signing (default one day).")


class SecretRotated(BaseModel):
    secret: str
    previous_expires_at: datetime


class WebhookAttemptView(BaseModel):
    attempt: int
    attempted_at: datetime
    outcome: str
    status_code: int | None
    duration_ms: int
    error: str | None
    trigger: str


class WebhookMessageView(BaseModel):
    id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[WebhookAttemptView] = []


class WebhookMessages(BaseModel):
    items: list[WebhookMessageView]
