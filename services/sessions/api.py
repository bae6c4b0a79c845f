"""Sessions routes: the room websocket and a few REST views."""

from __future__ import annotations

from fastapi import APIRouter, Depends, WebSocket

from shared.auth import Principal, current_principal
from shared.deps import unit_of_work
from shared.uow import UnitOfWork

from . import connection, media, service
from .context import Ctx
from .protocol import websocket_asyncapi
from .schemas import BalanceView, IceServers, ProposalView, RoomView, ScheduleSession, SessionView

router = APIRouter()


@router.get("/rooms/{case_id}", response_model=RoomView, tags=["rooms"])
async def get_room(case_id: str, principal: Principal = Depends(current_principal),
                   uow: UnitOfWork = Depends(unit_of_work)) -> RoomView:
    return await service.get_room(uow, case_id=case_id, principal=principal)


@router.post("/rooms/{case_id}/sessions", response_model=SessionView, tags=["rooms"],
             summary="Mediator: schedule the room's next session")
async def schedule_session(case_id: str, body: ScheduleSession, ctx: Ctx,
                           principal: Principal = Depends(current_principal),
                           uow: UnitOfWork = Depends(unit_of_work)) -> SessionView:
    return await service.schedule_session(uow, keys=ctx.keys, case_id=case_id,
                                          principal=principal, starts_at=body.starts_at)


@router.get("/rooms/{case_id}/proposals/{proposal_id}", response_model=ProposalView, tags=["rooms"],
            summary="An accepted proposal's content (case participants)")
async def get_proposal(case_id: str, proposal_id: str, ctx: Ctx,
                       principal: Principal = Depends(current_principal),
                       uow: UnitOfWork = Depends(unit_of_work)) -> ProposalView:
    return await service.get_proposal(uow, keys=ctx.keys, case_id=case_id,
                                      proposal_id=proposal_id, principal=principal)


@router.get("/rooms/{case_id}/balance", response_model=BalanceView, tags=["rooms"],
            summary="Mediator only: talk-time and participation balance per side")
async def get_balance(case_id: str, principal: Principal = Depends(current_principal),
                      uow: UnitOfWork = Depends(unit_of_work)) -> BalanceView:
    return await service.get_balance(uow, case_id=case_id, principal=principal)


@router.get("/rooms/{case_id}/ice-servers", response_model=IceServers, tags=["rooms"],
            summary="Room members: ICE servers for audio and video, with short-lived TURN credentials")
async def get_ice_servers(case_id: str, ctx: Ctx, principal: Principal = Depends(current_principal),
                          uow: UnitOfWork = Depends(unit_of_work)) -> IceServers:
    return await media.ice_servers(uow, settings=ctx.settings, case_id=case_id,
                                   principal=principal)


@router.get("/protocol/asyncapi.json", tags=["rooms"], summary="The websocket protocol (AsyncAPI 3 fragment)")
async def protocol_document() -> dict:
    return websocket_asyncapi()


@router.websocket("/rooms/{case_id}/ws")
async def room_socket(websocket: WebSocket, case_id: str, ctx: Ctx) -> None:
    """Protocol `odr.sessions.v1`; see GET /protocol/asyncapi.json and the README."""
    await connection.serve(websocket, case_id, ctx)
