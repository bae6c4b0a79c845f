"""Intake's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["civil", "family", "labour", "commercial", "administrative", "administrative_offence", "criminal"]


class CaseFiling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. KZ")
    category: Category
    description: str = Field(min_length=1, max_length=20000)


class CourtReferral(CaseFiling):
    docket_number: str = Field(min_length=1, max_length=100)


class CaseView(BaseModel):
    id: str
    jurisdiction: str
    category: str
    status: str
    court_id: str | None
    docket_number: str | None
    filed_at: datetime


class FiledCase(BaseModel):
    case: CaseView
    access_token: str = Field(description="A short-lived token for the filing party, scoped to this case.")


class CourtClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    court_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    name: str = Field(min_length=1, max_length=200)


class CourtClientCreated(BaseModel):
    client_id: str
    court_id: str
    client_secret: str = Field(description="Shown once; only its argon2 hash is kept.")


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class DevTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=100)
    role: Literal["party", "mediator", "court", "admin"]
    cases: list[str] = Field(default_factory=list, max_length=100)
    court: str | None = None
