"""Sessions' request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RoomView(BaseModel):
    case_id: str
    status: str
    created_at: datetime
