"""Documents shared in a room: evidence exchanged inside the room's confidentiality.

A participant uploads a document into the channel they are in (their side's caucus, or the joint
channel); the mediator may carry a caucus document into the joint channel. Each share is a
sequenced ``document`` item of that channel (the same sequencer as chat), so who may download
it is decided exactly as who hears a message: the item's audience, the members of the channel at
that moment (``rooms.RoomState``). Someone who joins the channel later does not get it.

At rest the bytes are sealed as a stream (``shared.crypto.seal_stream``) under a data key of the
document's own, kept only wrapped by the data key of the session it was shared in; its name, type
and hash are sealed under the same key. Ending a session without every party's consent destroys
the session key (``transcripts``) and with it every document shared in that session: they then
answer 410. A document the mediator attaches to the agreement as an annex is wrapped by the
sessions KEK as well and outlives the transcript. Names never leave the sealed values and the
sealed room frames: not in events, logs, URLs or blob keys.

Uploads stream: the request body is read chunk by chunk (``request.stream()``), inspected
(``filetypes``), hashed and sealed on the way to the blob store (``storage``), never held whole.
A refused or interrupted upload removes what was stored; the row is written only after the file
passed, so nothing of it remains.
"""

from __future__ import annotations

import json
import logging
import unicodedata
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, unquote

from sqlalchemy import and_, delete, exists, literal, or_, select

from shared import crypto
from shared.auth import Principal
from shared.contracts.sessions import DocumentAnnexed
from shared.problems import Conflict, Forbidden, NotFound, Problem

from . import filetypes, transcripts
from .models import Document, Room, RoomSession, SessionMessage
from .rooms import CAUCUSES, CHANNELS, JOINT, Member, RoomState
from .schemas import DocumentView
from .sequencer import room_info
from .service import OPEN, Refused, member_for

log = logging.getLogger("odr.sessions.documents")

NAME_MAX = 200


def blob_key(case_id: str, document_id: str) -> str:
    return f"documents/{case_id}/{document_id}"


def key_aad(case_id: str, document_id: str) -> bytes:
    return crypto.aad("document-key", case_id, document_id)


def meta_aad(case_id: str, document_id: str) -> bytes:
    return crypto.aad("document-meta", case_id, document_id)


def content_aad(case_id: str, document_id: str) -> bytes:
    return crypto.aad("document", case_id, document_id)


def clean_name(raw: str | None) -> str:
    """The file name a client sent (``X-Document-Name``, percent-encoded UTF-8), without any
    path, control characters or surrounding spaces; refused when nothing usable is left."""
    try:
        name = unquote(raw or "", errors="strict")
    except UnicodeDecodeError:
        name = ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    if not name or name in (".", "..") or len(name) > NAME_MAX:
        raise Problem(422, "document-name", f"give the file's name in X-Document-Name (1 to {NAME_MAX} characters, "
                                            "percent-encoded UTF-8)")
    return name


@dataclass
class _Where:
    room: Room
    member: Member
    session: RoomSession
    state: RoomState


async def _where(db, *, case_id: str, principal: Principal) -> _Where:
    room = await db.get(Room, case_id)
    if room is None or room.participants is None or not principal.can_access_case(case_id):
        raise NotFound("the room")
    try:
        member = member_for(room, principal)
    except Refused:
        raise NotFound("the room") from None
    rs = await db.get(RoomSession, room.current_session_id) if room.current_session_id else None
    if room.status != OPEN or rs is None or rs.status != "live" or rs.wrapped_key is None:
        raise Conflict("session-not-live", "documents are shared during a live session")
    info = room_info(room)
    return _Where(room=room, member=member, session=rs,
                  state=RoomState.from_json(rs.state, members=info.members, safeguards=info.safeguards))


def _session_key(ctx, rs: RoomSession) -> bytes:
    return ctx.hub.data_key(rs.id, rs.wrapped_key, rs.kek_version)


async def _announce(ctx, *, case_id: str, session_id: str, actor: str, op: dict) -> dict:
    """Sequence the ``document`` item through the room's sequencer; its ack, or a problem."""
    outcome = await ctx.sequencer.submit(case_id=case_id, session_id=session_id, actor=actor, op=op)
    if outcome.error is not None:
        code, detail = outcome.error
        raise Conflict(code, detail)
    return outcome.reply


# -- upload ----------------------------------------------------------------------------------


async def upload(ctx, *, case_id: str, principal: Principal, channel: str | None, raw_name: str | None,
                 declared_type: str | None, content_length: int | None,
                 body: AsyncIterable[bytes]) -> DocumentView:
    settings, store, runtime = ctx.settings, ctx.store, ctx.sequencer.runtime
    name = clean_name(raw_name)
    if content_length is not None and content_length > settings.document_max_bytes:
        raise filetypes.TooLarge(settings.document_max_bytes)
    async with runtime.session_factory() as db:
        where = await _where(db, case_id=case_id, principal=principal)
    here = where.state.location(where.member.id)
    channel = channel or here
    if channel not in CHANNELS or channel != here:
        raise Conflict("not-in-channel", "you can share a document only in the channel you are in")
    sid = where.session.id
    session_key = _session_key(ctx, where.session)

    doc_id = uuid.uuid4().hex
    doc_key = crypto.new_data_key()
    inspector = filetypes.Inspector(max_bytes=settings.document_max_bytes)

    async def inspected() -> AsyncIterator[bytes]:
        async for chunk in body:
            inspector.feed(chunk)
            yield chunk

    key = blob_key(case_id, doc_id)
    await store.put(key, crypto.seal_stream(doc_key, inspected(), content_aad(case_id, doc_id)))
    try:
        verdict = inspector.verdict(name=name, declared=declared_type, allowed=settings.document_types)
        meta = {"name": name, "content_type": verdict.content_type, "size": verdict.size, "sha256": verdict.sha256}
        now = datetime.now(timezone.utc)
        async with runtime.uow() as uow:
            uow.session.add(Document(
                id=doc_id, case_id=case_id, session_id=sid, uploader_id=where.member.id, channel=channel,
                created_at=now,
                meta=crypto.seal_with_key(doc_key, json.dumps(meta).encode(), meta_aad(case_id, doc_id)),
                wrapped_key=crypto.seal_with_key(session_key, doc_key, key_aad(case_id, doc_id))))
            await uow.commit()
    except BaseException:
        await store.delete(key)
        raise
    try:
        await _announce(ctx, case_id=case_id, session_id=sid, actor=where.member.id,
                        op={"type": "document", "id": upload_id(doc_id), "channel": channel,
                            "document_id": doc_id, "title": name})
    except BaseException:
        await _forget(runtime, store, doc_id, key)
        raise
    async with runtime.session_factory() as db:
        doc = await db.get(Document, doc_id)
    log.info("document shared", extra={"case_id": case_id, "document_id": doc_id, "channel": channel,
                                       "bytes": verdict.size})
    return _view(doc, meta, shared_in=[channel])


async def _forget(runtime, store, doc_id: str, key: str) -> None:
    async with runtime.uow() as uow:
        doc = await uow.session.get(Document, doc_id)
        if doc is not None:
            await uow.session.delete(doc)
        await uow.commit()
    await store.delete(key)


# -- who may see a document --------------------------------------------------------------------


def upload_id(document_id: str) -> str:
    """The client id of the upload's ``document`` item (its uploader is the sender)."""
    return f"doc-{document_id}"


def share_id(document_id: str) -> str:
    """The client id of the mediator's ``document`` item carrying it into the joint channel."""
    return f"share-{document_id}"


async def _shares(db, doc: Document, mediator_id: str | None) -> list[tuple[str, list[str]]]:
    """Where the document was said: (channel, audience) of each of its sequenced ``document``
    items, the upload's (sent by the uploader) and the mediator's share into the joint channel.
    They are found by their senders' client ids, through the unique index that deduplicates
    frames, in the sessions of the document's case. Being the room's own items, they exist from
    the moment anyone was told (the item is committed before it is sent)."""
    wanted = [and_(SessionMessage.session_id == doc.session_id, SessionMessage.sender_id == doc.uploader_id,
                   SessionMessage.client_id == upload_id(doc.id))]
    if mediator_id:
        wanted.append(and_(SessionMessage.sender_id == mediator_id, SessionMessage.client_id == share_id(doc.id)))
    sessions = select(RoomSession.id).where(RoomSession.case_id == doc.case_id)
    rows = await db.execute(select(SessionMessage.channel, SessionMessage.audience)
                            .where(SessionMessage.session_id.in_(sessions), SessionMessage.kind == "document",
                                   or_(*wanted)))
    return [(r.channel, json.loads(r.audience)) for r in rows]


async def _visible_in(db, doc: Document, member_id: str, mediator_id: str | None) -> list[str]:
    """The channels in which ``member_id`` was told of the document (was in the audience)."""
    return sorted({channel for channel, audience in await _shares(db, doc, mediator_id) if member_id in audience})


async def _member(db, case_id: str, principal: Principal) -> tuple[Room, Member]:
    room = await db.get(Room, case_id)
    if room is None or room.participants is None or not principal.can_access_case(case_id):
        raise NotFound("the room")
    try:
        return room, member_for(room, principal)
    except Refused:
        raise NotFound("the room") from None


async def _document_for(db, *, room: Room, document_id: str, member: Member) -> tuple[Document, list[str]]:
    """The document if ``member`` may see it; otherwise 404 (whether it exists is not told)."""
    doc = await db.get(Document, document_id)
    if doc is None or doc.case_id != room.case_id:
        raise NotFound("the document")
    channels = await _visible_in(db, doc, member.id, room.mediator_id)
    if not channels and doc.annexed_at is None:
        raise NotFound("the document")
    return doc, channels


async def _doc_key(ctx, db, doc: Document) -> bytes:
    """The document's data key: by the annex wrapping, else by its session's key; 410 when the
    session's transcript key was destroyed (crypto-shredded) and it is not an annex."""
    if doc.annex_wrapped_key is not None:
        return ctx.keys.unwrap(transcripts.KEK_ID, doc.annex_wrapped_key, doc.annex_kek_version,
                               context=key_aad(doc.case_id, doc.id))
    rs = await db.get(RoomSession, doc.session_id)
    if rs is None or rs.wrapped_key is None:
        raise Problem(410, "document-shredded",
                      "this document was destroyed with the session's transcript (the parties did not keep it)")
    return crypto.open_with_key(_session_key(ctx, rs), doc.wrapped_key, key_aad(doc.case_id, doc.id))


def _open_meta(doc: Document, doc_key: bytes) -> dict:
    return json.loads(crypto.open_with_key(doc_key, doc.meta, meta_aad(doc.case_id, doc.id)))


def _view(doc: Document, meta: dict | None, *, shared_in: list[str]) -> DocumentView:
    return DocumentView(id=doc.id, uploader_id=doc.uploader_id, channel=doc.channel, shared_in=sorted(shared_in),
                        created_at=doc.created_at, annexed=doc.annexed_at is not None,
                        available=meta is not None, name=meta and meta["name"],
                        content_type=meta and meta["content_type"], size=meta and meta["size"],
                        sha256=meta and meta["sha256"])


# -- reading ---------------------------------------------------------------------------------


async def list_documents(ctx, *, case_id: str, principal: Principal) -> list[DocumentView]:
    runtime = ctx.sequencer.runtime
    async with runtime.session_factory() as db:
        room, member = await _member(db, case_id, principal)
        docs = (await db.execute(select(Document).where(Document.case_id == case_id)
                                 .order_by(Document.created_at))).scalars().all()
        out = []
        for doc in docs:
            channels = await _visible_in(db, doc, member.id, room.mediator_id)
            if not channels and doc.annexed_at is None:
                continue
            try:
                meta = _open_meta(doc, await _doc_key(ctx, db, doc))
            except Problem:
                meta = None
            out.append(_view(doc, meta, shared_in=channels))
    return out


@dataclass
class Download:
    name: str
    content_type: str
    size: int
    chunks: AsyncIterator[bytes]

    @property
    def disposition(self) -> str:
        """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 8187)."""
        ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in self.name)
        return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.name, safe='')}"


async def download(ctx, *, case_id: str, document_id: str, principal: Principal) -> Download:
    runtime, store = ctx.sequencer.runtime, ctx.store
    async with runtime.session_factory() as db:
        room, member = await _member(db, case_id, principal)
        doc, _ = await _document_for(db, room=room, document_id=document_id, member=member)
        doc_key = await _doc_key(ctx, db, doc)
    meta = _open_meta(doc, doc_key)
    plain = crypto.open_stream(doc_key, store.get(blob_key(case_id, doc.id)), content_aad(case_id, doc.id))
    try:
        first = await anext(plain)  # a missing or altered blob fails here, before any header is sent
    except StopAsyncIteration:
        first = b""
    except Exception:
        log.error("document unreadable", extra={"case_id": case_id, "document_id": doc.id})
        raise Problem(500, "document-unreadable", "the document could not be read; the administrator was told") from None

    async def chunks() -> AsyncIterator[bytes]:
        yield first
        async for chunk in plain:
            yield chunk

    return Download(name=meta["name"], content_type=meta["content_type"], size=meta["size"], chunks=chunks())


# -- the mediator's acts -----------------------------------------------------------------------


async def share_to_joint(ctx, *, case_id: str, document_id: str, principal: Principal) -> DocumentView:
    """The mediator carries a caucus document into the joint channel, where they are now; its
    audience is the joint channel's members at that moment."""
    runtime = ctx.sequencer.runtime
    async with runtime.session_factory() as db:
        where = await _where(db, case_id=case_id, principal=principal)
        if not where.member.is_mediator:
            raise Forbidden("only the mediator shares a caucus document with the joint channel")
        doc, channels = await _document_for(db, room=where.room, document_id=document_id, member=where.member)
        if doc.channel not in CAUCUSES:
            raise Conflict("already-joint", "this document was shared in the joint channel already")
        if where.state.location(where.member.id) != JOINT:
            raise Conflict("not-in-channel", "go to the joint channel first, then share the document there")
        doc_key = await _doc_key(ctx, db, doc)
    meta = _open_meta(doc, doc_key)
    await _announce(ctx, case_id=case_id, session_id=where.session.id, actor=where.member.id,
                    op={"type": "document", "id": share_id(doc.id), "channel": JOINT,
                        "document_id": doc.id, "title": meta["name"]})
    log.info("document shared", extra={"case_id": case_id, "document_id": doc.id, "channel": JOINT})
    return _view(doc, meta, shared_in=sorted({*channels, JOINT}))


async def annex(ctx, *, case_id: str, document_id: str, principal: Principal) -> DocumentView:
    """The mediator marks a document as an annex of the agreement: it must have been shared in
    the joint channel (both sides have seen it). Its key is wrapped by the sessions KEK as well,
    so it outlives the transcript; every participant of the case may download it from then on.
    ``odr.document.annexed.v1`` (id and SHA-256) lets agreements accept it in a draft."""
    runtime = ctx.sequencer.runtime
    async with runtime.uow() as uow:
        db = uow.session
        room, member = await _member(db, case_id, principal)
        if not member.is_mediator:
            raise Forbidden("only the mediator attaches documents to the agreement")
        doc, channels = await _document_for(db, room=room, document_id=document_id, member=member)
        if JOINT not in {channel for channel, _ in await _shares(db, doc, room.mediator_id)}:
            raise Conflict("not-joint", "share the document in the joint channel before attaching it to the agreement")
        doc_key = await _doc_key(ctx, db, doc)
        meta = _open_meta(doc, doc_key)
        if doc.annexed_at is None:
            doc.annex_wrapped_key, doc.annex_kek_version = ctx.keys.wrap(transcripts.KEK_ID, doc_key,
                                                                          context=key_aad(case_id, doc.id))
            doc.annexed_at = datetime.now(timezone.utc)
            uow.publish(DocumentAnnexed(case_id=case_id, session_id=doc.session_id, document_id=doc.id,
                                        sha256=meta["sha256"]))
        await uow.commit()
    return _view(doc, meta, shared_in=channels)


# -- tidying the store ---------------------------------------------------------------------------

PURGE_AFTER = timedelta(hours=1)
PURGE_BATCH = 200


async def purge(ctx, *, now: datetime | None = None) -> int:
    """Delete the blobs and rows nobody can read any more, an hour after they became so:

    * documents of a session whose key was destroyed (crypto-shredded: the ciphertext is already
      unreadable; this frees the storage), unless they are annexes;
    * uploads that were stored but never announced in their channel (the process stopped between
      the two), which nobody was ever shown.

    Returns how many it removed. Runs in the background of every sessions process; replicas may
    overlap harmlessly (deleting twice is fine)."""
    runtime, store = ctx.sequencer.runtime, ctx.store
    before = (now or datetime.now(timezone.utc)) - PURGE_AFTER
    announced = exists().where(SessionMessage.session_id == Document.session_id,
                               SessionMessage.sender_id == Document.uploader_id,
                               SessionMessage.client_id == literal("doc-") + Document.id)
    async with runtime.session_factory() as db:
        shredded = select(Document.id, Document.case_id).join(RoomSession, RoomSession.id == Document.session_id).where(
            RoomSession.wrapped_key.is_(None), RoomSession.ended_at < before, Document.annex_wrapped_key.is_(None))
        orphans = select(Document.id, Document.case_id).where(Document.created_at < before, ~announced)
        rows = [*(await db.execute(shredded.limit(PURGE_BATCH))).all(), *(await db.execute(orphans.limit(PURGE_BATCH))).all()]
    for doc_id, case_id in rows:
        await store.delete(blob_key(case_id, doc_id))
        async with runtime.uow() as uow:
            await uow.session.execute(delete(Document).where(Document.id == doc_id, Document.annex_wrapped_key.is_(None)))
            await uow.commit()
    if rows:
        log.info("documents purged", extra={"documents": len(rows)})
    return len(rows)
