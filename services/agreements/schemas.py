"""Agreements' request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class CourtCase(BaseModel):
    case_id: str
    jurisdiction: str
    filed_at: datetime


class CourtCaseList(BaseModel):
    items: list[CourtCase]
