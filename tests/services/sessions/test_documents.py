"""Documents in the room over real HTTP and websockets: a caucus document reaches its caucus only,
the mediator carries it into the joint channel, downloads are attachments typed from the bytes,
hostile uploads are refused leaving nothing behind, nothing readable is stored or logged, and
ending a session without consent destroys its documents (annexes excepted)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from services.sessions import documents
from services.sessions.app import create_app
from services.sessions.models import Document, SessionMessage
from services.sessions.settings import SessionsSettings
from tests.services.sessions.conftest import CLAIMANT, MEDIATOR, RESPONDENT, Client, agree, serve, token
from tests.support import files
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.waiting import eventually

from tests.services.sessions.conftest import DOCUMENT_LIMIT as LIMIT


async def live(r) -> dict[str, Client]:
    """Everyone connected; the session live; both sides admitted to the joint channel."""
    clients = {p: await Client.open(f"{r.ws}/rooms/{r.case_id}/ws?token={t}") for p, t in r.tokens.items()}
    med = clients[MEDIATOR]
    assert (await med.op({"type": "session.start"}))["type"] == "ack"
    assert (await med.op({"type": "admit", "participant_ids": [CLAIMANT, RESPONDENT]}))["type"] == "ack"
    return clients


async def end_session(med: Client) -> None:
    await med.send({"type": "session.end"})
    await med.expect("session.ended")


async def upload(r, who: str, data: bytes, name: str, *, channel: str | None = None,
                 content_type: str = "application/octet-stream", body=None) -> httpx.Response:
    params = {"channel": channel} if channel else {}
    return await r.http.post(f"/rooms/{r.case_id}/documents", params=params, content=body if body is not None else data,
                             headers={"Authorization": f"Bearer {r.tokens[who]}", "Content-Type": content_type,
                                      "X-Document-Name": quote(name)})


async def get(r, who: str, path: str) -> httpx.Response:
    return await r.http.get(f"/rooms/{r.case_id}{path}", headers={"Authorization": f"Bearer {r.tokens[who]}"})


async def post(r, who: str, path: str) -> httpx.Response:
    return await r.http.post(f"/rooms/{r.case_id}{path}", headers={"Authorization": f"Bearer {r.tokens[who]}"})


def stored_files(r) -> list[Path]:
    root = Path(r.data_dir) / "documents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def document_rows(r) -> int:
    """Document rows and the room's ``document`` items."""
    async with r.app.state.runtime.session_factory() as db:
        return ((await db.execute(select(func.count()).select_from(Document))).scalar_one()
                + (await db.execute(select(func.count()).select_from(SessionMessage)
                                    .where(SessionMessage.kind == "document"))).scalar_one())


async def test_a_caucus_document_reaches_its_caucus_only_until_the_mediator_shares_it(docroom):
    r = docroom
    clients = await live(r)
    med, cla, res = clients[MEDIATOR], clients[CLAIMANT], clients[RESPONDENT]
    await med.op({"type": "caucus.open", "side": "claimant"})  # mediator and claimant go to their caucus
    data = files.pdf("Receipt for the repairs")
    got = await upload(r, CLAIMANT, data, "Квитанция ремонт.pdf")
    assert got.status_code == 201, got.text
    doc = got.json()
    assert doc["channel"] == "caucus:claimant" and doc["content_type"] == "application/pdf"
    assert doc["size"] == len(data) and len(doc["sha256"]) == 64
    frame = await med.expect("document", channel="caucus:claimant")
    assert frame["document_id"] == doc["id"] and frame["title"] == "Квитанция ремонт.pdf"
    await cla.expect("document", channel="caucus:claimant")

    # the other side: not told, cannot list, cannot download, cannot share
    assert (await get(r, RESPONDENT, f"/documents/{doc['id']}/content")).status_code == 404
    assert (await get(r, RESPONDENT, "/documents")).json()["items"] == []
    assert (await post(r, RESPONDENT, f"/documents/{doc['id']}/share")).status_code in (403, 404)
    # the claimant cannot carry it into the joint channel either: only the mediator
    assert (await post(r, CLAIMANT, f"/documents/{doc['id']}/share")).status_code == 403

    down = await get(r, MEDIATOR, f"/documents/{doc['id']}/content")
    assert down.status_code == 200 and down.content == data
    assert down.headers["content-type"] == "application/pdf"
    assert down.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" + quote("Квитанция ремонт.pdf", safe="") in down.headers["content-disposition"]
    assert down.headers["x-content-type-options"] == "nosniff"

    # sharing needs the mediator in the joint channel
    refused = await post(r, MEDIATOR, f"/documents/{doc['id']}/share")
    assert refused.status_code == 409 and refused.json()["type"].endswith("/not-in-channel")
    await med.op({"type": "move", "participant_id": MEDIATOR, "to": "joint"})
    shared = await post(r, MEDIATOR, f"/documents/{doc['id']}/share")
    assert shared.status_code == 200, shared.text
    assert (await res.expect("document", channel="joint"))["document_id"] == doc["id"]
    down = await get(r, RESPONDENT, f"/documents/{doc['id']}/content")
    assert down.status_code == 200 and down.content == data
    assert [d["id"] for d in (await get(r, RESPONDENT, "/documents")).json()["items"]] == [doc["id"]]
    # the claimant was in the caucus, not the joint channel: not told of the joint share
    await cla.drain(0.3)
    assert not [f for f in cla.frames if f["type"] == "document" and f.get("channel") == "joint"]
    assert (await post(r, MEDIATOR, f"/documents/{doc['id']}/share")).status_code == 200  # idempotent
    for c in clients.values():
        await c.close()


async def test_a_party_shares_only_in_the_channel_it_is_in(docroom):
    r = docroom
    clients = await live(r)
    got = await upload(r, RESPONDENT, files.png(), "photo.png", channel="caucus:respondent")
    assert got.status_code == 409 and got.json()["type"].endswith("/not-in-channel")
    got = await upload(r, RESPONDENT, files.png(), "photo.png")
    assert got.status_code == 201 and got.json()["channel"] == "joint"
    assert (await get(r, CLAIMANT, f"/documents/{got.json()['id']}/content")).content == files.png()
    assert stored_files(r) and await document_rows(r) == 2
    for c in clients.values():
        await c.close()


HOSTILE = [
    ("oversized", files.pdf(pad=LIMIT), "big.pdf", "application/pdf", 413, "document-too-large"),
    ("empty", b"", "empty.pdf", "application/pdf", 422, "document-empty"),
    ("executable", files.EXE, "setup.exe", "application/octet-stream", 415, "document-type-not-allowed"),
    ("plain zip", files.plain_zip(), "archive.zip", "application/zip", 415, "document-type-not-allowed"),
    ("png named pdf", files.png(), "scan.pdf", "application/pdf", 415, "document-type-mismatch"),
    ("pdf declared png", files.pdf(), "scan.pdf", "image/png", 415, "document-type-mismatch"),
    ("docx named pdf", files.docx(), "terms.pdf", "application/octet-stream", 415, "document-type-mismatch"),
    ("pdf without %%EOF", files.pdf()[:-8], "cut.pdf", "application/pdf", 422, "document-damaged"),
    ("png without IEND", files.png()[:-12], "cut.png", "image/png", 422, "document-damaged"),
    ("docx cut short", files.docx()[:-40], "cut.docx", "application/octet-stream", 422, "document-damaged"),
    ("pdf with a zip appended", files.pdf() + files.plain_zip(), "two.pdf", "application/pdf", 422, "document-polyglot"),
    ("png with a zip appended", files.png() + files.plain_zip(), "two.png", "image/png", 422, "document-polyglot"),
    ("pdf in front of a docx", files.pdf() + files.docx(), "two.docx", "application/octet-stream", 422,
     "document-polyglot"),
    ("html inside a pdf", files.HTML_AS_PDF, "page.pdf", "application/pdf", 422, "document-polyglot"),
]


async def test_hostile_uploads_are_refused_and_leave_no_trace(docroom):
    r = docroom
    clients = await live(r)
    for label, data, name, ctype, status, code in HOSTILE:
        got = await upload(r, CLAIMANT, data, name, content_type=ctype)
        assert got.status_code == status, (label, got.status_code, got.text)
        problem = got.json()
        assert problem["type"].endswith("/" + code) and problem["detail"], (label, problem)
        assert got.headers["content-type"].startswith("application/problem+json")

    async def chunked():  # no Content-Length: the limit is enforced while the bytes stream
        for _ in range(LIMIT // 8192 + 2):
            yield b"%PDF-1.4\n" + b"x" * 8183
    got = await upload(r, CLAIMANT, b"", "stream.pdf", body=chunked())
    assert got.status_code == 413 and got.json()["type"].endswith("/document-too-large")
    for bad_name in ("", "%FF%FE.pdf", "../", "x" * 300 + ".pdf"):
        got = await r.http.post(f"/rooms/{r.case_id}/documents", content=files.pdf(),
                                headers={"Authorization": f"Bearer {r.tokens[CLAIMANT]}", "X-Document-Name": bad_name})
        assert got.status_code == 422 and got.json()["type"].endswith("/document-name"), (bad_name, got.text)

    assert stored_files(r) == [] and await document_rows(r) == 0
    await clients[CLAIMANT].drain(0.3)
    assert not [f for f in clients[CLAIMANT].frames if f["type"] == "document"]
    for c in clients.values():
        await c.close()


async def test_a_path_in_the_name_is_reduced_to_the_file_name(docroom):
    r = docroom
    clients = await live(r)
    got = await upload(r, CLAIMANT, files.pdf(), "../../etc/passwd.pdf")
    assert got.status_code == 201 and got.json()["name"] == "passwd.pdf"
    down = await get(r, RESPONDENT, f"/documents/{got.json()['id']}/content")
    assert down.status_code == 200 and "passwd.pdf" in down.headers["content-disposition"]
    assert "/" not in down.headers["content-disposition"]
    assert [p.name for p in stored_files(r)] == [got.json()["id"]]
    for c in clients.values():
        await c.close()


async def test_an_upload_never_announced_is_purged(docroom, monkeypatch):
    """The process stops between storing an upload and announcing it: nobody was shown it, and
    the purge removes it an hour later."""
    r = docroom
    clients = await live(r)

    async def stopped(*a, **kw):
        raise asyncio.CancelledError()  # as if the process stopped here
    monkeypatch.setattr(documents, "_forget", lambda *a, **kw: asyncio.sleep(0))
    monkeypatch.setattr(documents, "_announce", stopped)
    with pytest.raises(BaseException):
        await documents.upload(r.app.state.runtime.context, case_id=r.case_id,
                               principal=r.app.state.runtime.tokens.verify(r.tokens[CLAIMANT]),
                               channel=None, raw_name="lost.pdf", declared_type="application/pdf",
                               content_length=None, body=_once(files.pdf()))
    assert len(stored_files(r)) == 1 and await document_rows(r) == 1
    ctx = r.app.state.runtime.context
    assert await documents.purge(ctx) == 0
    assert await documents.purge(ctx, now=datetime.now(timezone.utc) + timedelta(hours=2)) == 1
    assert stored_files(r) == [] and await document_rows(r) == 0
    for c in clients.values():
        await c.close()


async def test_an_upload_streams_to_storage_as_it_arrives(docroom):
    """Sealed bytes reach the store while the body is still arriving: the file is never held whole."""
    r = docroom
    clients = await live(r)
    data = files.pdf(pad=200_000)
    written_before_the_end = []

    async def body():
        for i in range(0, len(data), 8192):
            if i >= 150_000 and not written_before_the_end:
                parts = [p for p in stored_files(r) if ".part-" in p.name]
                written_before_the_end.append(parts[0].stat().st_size if parts else 0)
            yield data[i:i + 8192]

    view = await documents.upload(r.app.state.runtime.context, case_id=r.case_id,
                                  principal=r.app.state.runtime.tokens.verify(r.tokens[CLAIMANT]), channel=None,
                                  raw_name="big.pdf", declared_type="application/pdf", content_length=None, body=body())
    assert view.size == len(data)
    assert written_before_the_end and written_before_the_end[0] >= 64 * 1024
    assert (await get(r, RESPONDENT, f"/documents/{view.id}/content")).content == data
    for c in clients.values():
        await c.close()


async def _once(data: bytes):
    yield data


async def test_an_interrupted_upload_leaves_nothing_behind(docroom):
    r = docroom
    clients = await live(r)
    host, port = r.http.base_url.host, r.http.base_url.port
    reader, writer = await asyncio.open_connection(host, port)
    total = 200_000
    writer.write((f"POST /rooms/{r.case_id}/documents HTTP/1.1\r\nHost: {host}\r\n"
                  f"Authorization: Bearer {r.tokens[CLAIMANT]}\r\nContent-Type: application/pdf\r\n"
                  f"X-Document-Name: half.pdf\r\nContent-Length: {total}\r\n\r\n").encode())
    writer.write(b"%PDF-1.4\n" + b"y" * 150_000)
    await writer.drain()
    # the upload is under way: its part file exists...
    await eventually(lambda: any(".part-" in p.name for p in stored_files(r)), message="the upload to start")
    writer.close()  # ...and the client goes away mid-body
    await eventually(lambda: stored_files(r) == [], message="the part file to be removed")
    assert await document_rows(r) == 0
    ok = await upload(r, CLAIMANT, files.pdf(), "after.pdf")  # the room still works
    assert ok.status_code == 201
    for c in clients.values():
        await c.close()


async def test_no_document_content_or_name_is_stored_or_logged_in_clear(docroom, caplog):
    r = docroom
    caplog.set_level(logging.DEBUG)
    clients = await live(r)
    secret, name = "SECRET-EVIDENCE-7f3a", "Тайный-договор-9c1e.docx"
    await clients[MEDIATOR].op({"type": "caucus.open", "side": "respondent"})
    data = files.docx(secret)
    got = await upload(r, RESPONDENT, data, name)
    assert got.status_code == 201, got.text
    doc = got.json()
    await clients[MEDIATOR].op({"type": "move", "participant_id": MEDIATOR, "to": "joint"})
    assert (await post(r, MEDIATOR, f"/documents/{doc['id']}/share")).status_code == 200
    assert (await get(r, CLAIMANT, f"/documents/{doc['id']}/content")).content == data
    assert (await post(r, MEDIATOR, f"/documents/{doc['id']}/annex")).status_code == 200
    await eventually(lambda: any(b"odr.document.annexed.v1" in p.read_bytes()  # the log and its WAL
                                 for p in Path(r.data_dir).glob("bus.sqlite3*")), message="the annex event on the bus")
    await end_session(clients[MEDIATOR])

    needles = [secret.encode(), name.encode(), name.encode("utf-16-le"), quote(name).encode(), b"word/document.xml"]
    scanned = 0
    for path in Path(r.data_dir).rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            scanned += 1
            for needle in needles:
                assert needle not in blob, (path.name, needle)
    assert scanned >= 3  # sessions database, the event log, the sealed blob (at least)
    # the service's logs (the test's own HTTP and websocket clients log what they receive: that is theirs)
    clients_logs = ("websockets.client", "httpcore", "httpx")
    logged = "\n".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records
                        if not rec.name.startswith(clients_logs))
    for needle in (secret, name, quote(name)):
        assert needle not in logged, [(rec.name, rec.getMessage()[:300]) for rec in caplog.records
                                      if needle in f"{rec.getMessage()} {rec.__dict__}"][:3]
    for c in clients.values():
        await c.close()


async def test_ending_without_consent_destroys_documents_but_not_annexes(docroom):
    r = docroom
    clients = await live(r)
    kept = (await upload(r, CLAIMANT, files.pdf("Annex A"), "annex.pdf")).json()
    lost = (await upload(r, RESPONDENT, files.png(), "photo.png")).json()
    annexed = await post(r, MEDIATOR, f"/documents/{kept['id']}/annex")
    assert annexed.status_code == 200 and annexed.json()["annexed"] is True
    await end_session(clients[MEDIATOR])
    gone = await get(r, CLAIMANT, f"/documents/{lost['id']}/content")
    assert gone.status_code == 410 and gone.json()["type"].endswith("/document-shredded")
    for who in (CLAIMANT, RESPONDENT, MEDIATOR):
        down = await get(r, who, f"/documents/{kept['id']}/content")
        assert down.status_code == 200 and down.content == files.pdf("Annex A")
    listed = {d["id"]: d for d in (await get(r, RESPONDENT, "/documents")).json()["items"]}
    assert listed[kept["id"]]["sha256"] == kept["sha256"] and listed[lost["id"]]["available"] is False

    # an hour on, the purge frees the storage of what can no longer be read; annexes stay
    ctx = r.app.state.runtime.context
    assert await documents.purge(ctx) == 0  # not yet
    assert await documents.purge(ctx, now=datetime.now(timezone.utc) + timedelta(hours=2)) == 1
    assert [p.name for p in stored_files(r)] == [kept["id"]]
    assert (await get(r, CLAIMANT, f"/documents/{lost['id']}/content")).status_code == 404
    assert (await get(r, CLAIMANT, f"/documents/{kept['id']}/content")).status_code == 200
    for c in clients.values():
        await c.close()


async def test_production_shape_postgresql_and_s3(settings, s3_endpoint):
    """The same flow on PostgreSQL with the S3 store: a caucus document, the mediator's share, a
    refused upload that leaves no object behind."""
    endpoint, bucket = s3_endpoint
    name, url = await create_pg_database()
    prefix = f"t-{uuid.uuid4().hex}/"
    sessions = SessionsSettings(document_max_bytes=LIMIT, document_store="s3", s3_bucket=bucket, s3_prefix=prefix,
                                s3_endpoint_url=endpoint, s3_region="us-east-1")
    app = create_app(settings.model_copy(update={"database_url": url}), sessions=sessions, configure_logs=False)
    try:
        async with serve(app) as (ws_base, http_base):
            case_id = str(uuid.uuid4())
            await agree(app, case_id)
            tokens = {p: token(app, p, case_id, side=s) for p, s in
                      ((MEDIATOR, None), (CLAIMANT, "claimant"), (RESPONDENT, "respondent"))}
            async with httpx.AsyncClient(base_url=http_base, timeout=30) as http:
                r = type("DocRoom", (), {"app": app, "case_id": case_id, "ws": ws_base, "http": http,
                                         "tokens": tokens})
                clients = await live(r)
                await clients[MEDIATOR].op({"type": "caucus.open", "side": "respondent"})
                data = files.docx("Payment schedule")
                got = await upload(r, RESPONDENT, data, "schedule.docx")
                assert got.status_code == 201, got.text
                doc = got.json()
                assert (await get(r, CLAIMANT, f"/documents/{doc['id']}/content")).status_code == 404
                await clients[MEDIATOR].op({"type": "move", "participant_id": MEDIATOR, "to": "joint"})
                assert (await post(r, MEDIATOR, f"/documents/{doc['id']}/share")).status_code == 200
                down = await get(r, CLAIMANT, f"/documents/{doc['id']}/content")
                assert down.content == data and down.headers["content-type"] == files_docx_type()
                refused = await upload(r, CLAIMANT, files.pdf()[:-8], "cut.pdf")
                assert refused.status_code == 422
                store = app.state.runtime.context.store
                keys = await store._s3()
                listed = await keys.list_objects_v2(Bucket=bucket, Prefix=prefix)
                assert [o["Key"] for o in listed.get("Contents", [])] == [f"{prefix}documents/{case_id}/{doc['id']}"]
                assert await store.unfinished_uploads() == 0
                # the purge's queries on PostgreSQL: nothing unreadable or unannounced here
                assert await documents.purge(app.state.runtime.context,
                                             now=datetime.now(timezone.utc) + timedelta(hours=2)) == 0
                for c in clients.values():
                    await c.close()
    finally:
        await drop_pg_database(name)


def files_docx_type() -> str:
    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
