"""Sessions routes: the room websocket and a few REST views."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket
from fastapi.responses import StreamingResponse

from shared.auth import Principal, current_principal
from shared.deps import unit_of_work
from shared.uow import UnitOfWork

from . import connection, documents, media, service
from .context import Ctx
from .protocol import ChannelName, websocket_asyncapi
from .schemas import (BalanceView, DocumentList, DocumentView, IceServers, ProposalView, RoomView, ScheduleSession,
                      SessionView)

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


DOCUMENT_CHANNEL = Query(None, description="The channel you are in; default: the one you are in.")


@router.post("/rooms/{case_id}/documents", response_model=DocumentView, status_code=201, tags=["documents"],
             summary="Share a document in the channel you are in (the raw file is the request body)",
             openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
                 "schema": {"type": "string", "format": "binary"}}}}})
async def upload_document(case_id: str, request: Request, ctx: Ctx, principal: Principal = Depends(current_principal),
                          channel: ChannelName | None = DOCUMENT_CHANNEL,
                          x_document_name: str | None = Header(None, description="The file's name, percent-encoded UTF-8."),
                          ) -> DocumentView:
    """The body streams to storage (never whole in memory), sealed; the type is sniffed from the
    bytes and must agree with the name and ``Content-Type``. Problems: 413 `document-too-large`,
    415 `document-type-not-allowed` / `document-type-mismatch`, 422 `document-empty` /
    `document-damaged` / `document-polyglot` / `document-name`, 409 `session-not-live` /
    `not-in-channel`."""
    length = request.headers.get("content-length")
    return await documents.upload(ctx, case_id=case_id, principal=principal, channel=channel, raw_name=x_document_name,
                                  declared_type=request.headers.get("content-type"),
                                  content_length=int(length) if length and length.isdigit() else None,
                                  body=request.stream())


@router.get("/rooms/{case_id}/documents", response_model=DocumentList, tags=["documents"],
            summary="The documents you were shown in this room (and the agreement's annexes)")
async def list_documents(case_id: str, ctx: Ctx, principal: Principal = Depends(current_principal)) -> DocumentList:
    return DocumentList(items=await documents.list_documents(ctx, case_id=case_id, principal=principal))


@router.get("/rooms/{case_id}/documents/{document_id}/content", tags=["documents"],
            response_class=StreamingResponse, summary="Download a document you were shown (as an attachment)")
async def download_document(case_id: str, document_id: str, ctx: Ctx,
                            principal: Principal = Depends(current_principal)) -> StreamingResponse:
    """``Content-Type`` is the type sniffed from the bytes at upload, never the name's; 410
    `document-shredded` once the session's transcript key was destroyed."""
    got = await documents.download(ctx, case_id=case_id, document_id=document_id, principal=principal)
    return StreamingResponse(got.chunks, media_type=got.content_type, headers={
        "Content-Disposition": got.disposition, "Content-Length": str(got.size), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; sandbox"})


@router.post("/rooms/{case_id}/documents/{document_id}/share", response_model=DocumentView, tags=["documents"],
             summary="Mediator: share a caucus document with the joint channel (where you are)")
async def share_document(case_id: str, document_id: str, ctx: Ctx,
                         principal: Principal = Depends(current_principal)) -> DocumentView:
    return await documents.share_to_joint(ctx, case_id=case_id, document_id=document_id, principal=principal)


@router.post("/rooms/{case_id}/documents/{document_id}/annex", response_model=DocumentView, tags=["documents"],
             summary="Mediator: attach a document shared in the joint channel to the agreement as an annex")
async def annex_document(case_id: str, document_id: str, ctx: Ctx,
                         principal: Principal = Depends(current_principal)) -> DocumentView:
    return await documents.annex(ctx, case_id=case_id, document_id=document_id, principal=principal)


@router.get("/protocol/asyncapi.json", tags=["rooms"], summary="The websocket protocol (AsyncAPI 3 fragment)")
async def protocol_document() -> dict:
    return websocket_asyncapi()


@router.websocket("/rooms/{case_id}/ws")
async def room_socket(websocket: WebSocket, case_id: str, ctx: Ctx) -> None:
    """Protocol `odr.sessions.v1`; see GET /protocol/asyncapi.json and the README."""
    await connection.serve(websocket, case_id, ctx)
