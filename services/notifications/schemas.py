"""Notifications' request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class NotificationView(BaseModel):
    id: str
    case_id: str
    kind: str
    channel: str
    created_at: datetime


class Feed(BaseModel):
    items: list[NotificationView]
