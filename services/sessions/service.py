"""Sessions use cases: rooms from intake's events, joining a room, scheduling sessions, and what
the REST API shows (accepted proposals, the mediator's balance view)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.contracts.intake import CaseClosed, CaseFiled, CaseScreened, MediationAgreed, MediatorRecused
from shared.contracts.sessions import SessionEnded, SessionScheduled
from shared.crypto import KeyProvider
from shared.problems import Forbidden, NotFound
from shared.uow import UnitOfWork, unit_of_work_of

from . import protocol, transcripts
from .models import Proposal, Room, RoomSession
from .protocol import Close
from .rooms import Member, RoomState
from .schemas import BalanceView, ProposalView, RoomView, SessionView
from .sequencer import open_proposal, room_info

AWAITING = "awaiting_agreement_to_mediate"
OPEN = "open"
CLOSED = "closed"


# -- consuming intake's events ---------------------------------------------------------------


async def prepare_room(session: AsyncSession, *, event: CaseFiled) -> None:
    """A filed case gets a room record; it opens only after the agreement to mediate is signed."""
    if await session.get(Room, event.case_id) is None:
        session.add(Room(case_id=event.case_id, status=AWAITING, created_at=event.filed_at))


async def record_screening(session: AsyncSession, *, event: CaseScreened) -> None:
    """Safeguards from screening apply to the room (kept even if the agreement repeats them)."""
    room = await _room_for(session, event.case_id)
    room.safeguards = sorted(set(room.safeguards or ()) | set(event.safeguards))


async def open_room(session: AsyncSession, *, event: MediationAgreed) -> None:
    """The agreement to mediate is signed: the room opens for its participants."""
    room = await _room_for(session, event.case_id)
    if room.status == CLOSED:
        return
    room.status = OPEN
    room.mediator_id = event.mediator_id
    room.participants = [p.model_dump(mode="json") for p in event.participants]
    room.safeguards = sorted(set(room.safeguards or ()) | set(event.safeguards))
    room.term_ends_on = event.term_ends_on
    room.time_zone = event.time_zone


async def close_room(session: AsyncSession, *, event: CaseClosed) -> None:
    """The case ended: the room closes and a session still open ends; its transcript key is
    destroyed unless every party consented to keep it. Connections are closed by their hubs."""
    room = await _room_for(session, event.case_id)
    room.status = CLOSED
    if room.current_session_id is None:
        return
    rs = await session.get(RoomSession, room.current_session_id)
    room.current_session_id = None
    if rs is None or rs.status == "ended":
        return
    info = room_info(room)
    state = RoomState.from_json(rs.state, members=info.members, safeguards=info.safeguards)
    kept = state.transcript_kept()
    state.status = "ended"
    rs.state, rs.status, rs.ended_at, rs.transcript_kept = state.to_json(), "ended", datetime.now(timezone.utc), kept
    rs.version = (rs.version or 0) + 1
    if not kept:
        rs.wrapped_key = None
    await _stage(session, SessionEnded(case_id=event.case_id, session_id=rs.id, transcript_kept=kept))


async def remove_mediator(session: AsyncSession, *, event: MediatorRecused) -> None:
    """The mediator recused: no longer a participant of the room, whatever token they hold later.
    Their open connections were closed by the revocation intake published with the recusal
    (4012); the parties stay until a new agreement to mediate names the next mediator."""
    room = await session.get(Room, event.case_id)
    if room is None or room.mediator_id != event.mediator_id:
        return
    room.mediator_id = None
    room.participants = [p for p in room.participants or () if p.get("participant_id") != event.mediator_id]


async def _room_for(session: AsyncSession, case_id: str) -> Room:
    room = await session.get(Room, case_id)
    if room is None:
        room = Room(case_id=case_id, status=AWAITING, created_at=datetime.now(timezone.utc))
        session.add(room)
    return room


async def _stage(session: AsyncSession, evt) -> None:
    """Consumers get a database session; the event goes through its unit of work, so it commits
    with the handler's change and the inbox record."""
    unit_of_work_of(session).publish(evt)


# -- joining ---------------------------------------------------------------------------------


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class Joined:
    session_id: str
    member: Member
    room: Room


def member_for(room: Room, principal: Principal) -> Member:
    """The room member a token stands for: its subject must be a participant of the agreement,
    a mediator token for the mediator, a party token for anyone else, and the sides must match."""
    if principal.role not in ("party", "mediator") or not principal.can_access_case(room.case_id):
        raise Refused(Close.FORBIDDEN, "this token is not for this case")
    member = room_info(room).members.get(principal.subject)
    if member is None or member.is_mediator != (principal.role == "mediator"):
        raise Refused(Close.FORBIDDEN, "you are not a participant of this room")
    if principal.party_side and member.side and principal.party_side != member.side:
        raise Refused(Close.FORBIDDEN, "the token's side does not match")
    return member


async def join(runtime, *, keys: KeyProvider, case_id: str, principal: Principal) -> Joined:
    async with runtime.uow() as uow:
        room = await uow.session.get(Room, case_id)
        if room is None or room.status != OPEN:
            raise Refused(Close.ROOM_NOT_OPEN, "the room is not open")
        member = member_for(room, principal)
        session_id = await current_session(uow, room, keys=keys)
        await uow.commit()
    return Joined(session_id=session_id, member=member, room=room)


async def current_session(uow: UnitOfWork, room: Room, *, keys: KeyProvider,
                          starts_at: datetime | None = None) -> str:
    """The room's current session, created (scheduled, with a fresh data key) if there is none.
    Replicas racing to create one agree through a conditional update of the room row."""
    db = uow.session
    for _ in range(3):
        if room.current_session_id is not None:
            rs = await db.get(RoomSession, room.current_session_id)
            if rs is not None and rs.status != "ended":
                return rs.id
        sid = str(uuid.uuid4())
        old = room.current_session_id
        claimed = await db.execute(update(Room).where(Room.case_id == room.case_id,
                                                      Room.current_session_id.is_(None) if old is None
                                                      else Room.current_session_id == old)
                                   .values(current_session_id=sid).execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            now = datetime.now(timezone.utc)
            wrapped, version = transcripts.wrap(keys, transcripts.new_data_key(), sid)
            info = room_info(room)
            state = RoomState(members=info.members, safeguards=info.safeguards)
            db.add(RoomSession(id=sid, case_id=room.case_id, status="scheduled", version=0, state=state.to_json(),
                               starts_at=starts_at or now, created_at=now, wrapped_key=wrapped,
                               kek_id=transcripts.KEK_ID, kek_version=version))
            uow.publish(SessionScheduled(case_id=room.case_id, session_id=sid, starts_at=starts_at or now))
            await db.flush()
            room.current_session_id = sid
            return sid
        await db.refresh(room)
    raise Refused(Close.INTERNAL, "could not create the session; reconnect")


async def session_state(runtime, session_id: str) -> RoomState:
    async with runtime.session_factory() as db:
        rs = await db.get(RoomSession, session_id)
        room = await db.get(Room, rs.case_id)
    info = room_info(room)
    return RoomState.from_json(rs.state, members=info.members, safeguards=info.safeguards)


def welcome(joined: Joined, state: RoomState) -> dict:
    loc = state.location(joined.member.id)
    frame = {"type": "welcome", "protocol": protocol.PROTOCOL, "participant_id": joined.member.id,
             "role": joined.member.role, "side": joined.member.side, "session_id": joined.session_id,
             "status": state.status, "mode": state.mode, "location": loc,
             "heads": {loc: state.heads.get(loc, 0)} if loc != "waiting" else {},
             "members": list(state.in_channel(loc)) if loc != "waiting" else []}
    if joined.member.is_mediator:
        frame.update(locations=state.locations, caucuses=sorted(state.caucuses), heads=state.heads,
                     safeguards=sorted(state.safeguards), media=state.media, online=state.online_ids())
    return frame


# -- REST ------------------------------------------------------------------------------------


async def _member_room(uow: UnitOfWork, case_id: str, principal: Principal) -> tuple[Room, Member | None]:
    room = await uow.session.get(Room, case_id)
    if room is None or principal.role not in ("party", "mediator", "admin") or not principal.can_access_case(case_id):
        raise NotFound("the room")
    if principal.role == "admin":
        return room, None
    if room.participants is None:
        return room, None
    try:
        return room, member_for(room, principal)
    except Refused:
        raise NotFound("the room") from None


async def get_room(uow: UnitOfWork, *, case_id: str, principal: Principal) -> RoomView:
    room, member = await _member_room(uow, case_id, principal)
    session = None
    if room.current_session_id:
        rs = await uow.session.get(RoomSession, room.current_session_id)
        if rs is not None:
            session = SessionView(id=rs.id, status=rs.status, starts_at=rs.starts_at, started_at=rs.started_at)
    mode = None
    if room.participants is not None:
        info = room_info(room)
        mode = "shuttle" if RoomState(members=info.members, safeguards=info.safeguards).mode == "shuttle" else "joint"
    return RoomView(case_id=room.case_id, status=room.status, created_at=room.created_at, mode=mode,
                    session=session, websocket=f"rooms/{room.case_id}/ws" if room.status == OPEN else None)


async def schedule_session(uow: UnitOfWork, *, keys: KeyProvider, case_id: str, principal: Principal,
                           starts_at: datetime) -> SessionView:
    room, member = await _member_room(uow, case_id, principal)
    if member is None or not member.is_mediator:
        raise Forbidden("only the mediator schedules sessions")
    if room.status != OPEN:
        raise NotFound("an open room")
    sid = await current_session(uow, room, keys=keys, starts_at=starts_at)
    rs = await uow.session.get(RoomSession, sid)
    if rs.status == "scheduled" and rs.starts_at != starts_at:
        rs.starts_at = starts_at
        uow.publish(SessionScheduled(case_id=case_id, session_id=sid, starts_at=starts_at))
    await uow.commit()
    return SessionView(id=rs.id, status=rs.status, starts_at=rs.starts_at, started_at=rs.started_at)


async def get_proposal(uow: UnitOfWork, *, keys: KeyProvider, case_id: str, proposal_id: str,
                       principal: Principal) -> ProposalView:
    """An accepted proposal's content, for the case's participants (and admins/agreements):
    both sides accepted it, so both have seen it. Open proposals stay in their channels."""
    await _member_room(uow, case_id, principal)
    prop = await uow.session.get(Proposal, proposal_id)
    if prop is None or prop.case_id != case_id or prop.status != "accepted":
        raise NotFound("the accepted proposal")
    content = open_proposal(transcripts.proposals_vault(keys), prop)
    return ProposalView(id=prop.id, case_id=case_id, session_id=prop.session_id, status=prop.status,
                        summary=content["summary"], terms=content["terms"], accepted_at=prop.accepted_at)


async def get_balance(uow: UnitOfWork, *, case_id: str, principal: Principal) -> BalanceView:
    room, member = await _member_room(uow, case_id, principal)
    if member is None or not member.is_mediator:
        raise Forbidden("the participation balance is visible to the mediator only")
    rs = None
    if room.current_session_id:
        rs = await uow.session.get(RoomSession, room.current_session_id)
    if rs is None:
        rs = (await uow.session.execute(select(RoomSession).where(RoomSession.case_id == case_id)
                                        .order_by(RoomSession.created_at.desc()).limit(1))).scalar()
    if rs is None:
        raise NotFound("a session")
    info = room_info(room)
    state = RoomState.from_json(rs.state, members=info.members, safeguards=info.safeguards)
    return BalanceView(session_id=rs.id, **state.balance())
