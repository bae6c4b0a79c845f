"""``/dev/clock``: read and move the platform clock (``shared.clock``), on every service, in dev
mode only. Outside dev mode the route answers 404 as if it did not exist: a production platform's
time is the real time."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from . import clock
from .problems import NotFound

router = APIRouter(prefix="/dev", tags=["dev"])


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offset_seconds: float = Field(ge=0, le=10 * 366 * 86400,
                                  description="how far ahead of the real time the platform clock runs; 0 puts it back")


class ClockView(BaseModel):
    now: datetime = Field(description="the platform's time")
    offset_seconds: float


def _dev_only(request: Request) -> None:
    if not request.app.state.settings.dev_mode:
        raise NotFound("the dev clock (dev mode only)")


def _view() -> ClockView:
    return ClockView(now=clock.utcnow(), offset_seconds=clock.offset().total_seconds())


@router.get("/clock", response_model=ClockView, include_in_schema=False)
async def read_clock(request: Request) -> ClockView:
    _dev_only(request)
    return _view()


@router.put("/clock", response_model=ClockView, include_in_schema=False)
async def move_clock(body: ClockIn, request: Request) -> ClockView:
    """Set how far ahead the clock runs (absolute, so repeating a call changes nothing). Workers
    wake at once: a deadline sweep or reminder that became due runs now."""
    _dev_only(request)
    clock.set_offset(timedelta(seconds=body.offset_seconds))
    return _view()
