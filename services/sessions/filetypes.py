"""What an uploaded document really is, decided from its bytes while it streams past.

An ``Inspector`` is fed every chunk of an upload (it keeps only the first and last bytes and a
SHA-256, never the whole file) and, at the end, names the type or refuses the file with a problem
a person can act on:

* ``document-too-large`` (413): more bytes than the limit (checked as they arrive);
* ``document-empty`` (422): no bytes;
* ``document-type-not-allowed`` (415): the bytes are of a type this platform does not take
  (or the settings turned it off);
* ``document-type-mismatch`` (415): the file name's extension or the declared ``Content-Type``
  says something else than the bytes (a file lying about itself);
* ``document-damaged`` (422): the bytes start like an allowed type but the file is cut short or
  does not open (a PDF without ``%%EOF``, a PNG without ``IEND``, a zip whose central directory
  is missing or inconsistent, an OLE file not made of whole sectors);
* ``document-polyglot`` (422): the bytes are also something else (a zip appended to a PDF or an
  image, data in front of an office file's zip, HTML or script near the start).

The family comes from ``puremagic`` (magic numbers, pure Python); the zip-based office formats
are told apart by their parts list read from the central directory, which sits in the kept tail.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass

import puremagic

from shared.problems import Problem

HEAD = 64 * 1024
TAIL = 1024 * 1024

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"

EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg"), DOCX: (".docx",), XLSX: (".xlsx",),
              ODT: (".odt",), DOC: (".doc",), XLS: (".xls",)}
GENERIC_DECLARED = {"", "application/octet-stream", "binary/octet-stream"}
MARKUP = (b"<html", b"<script", b"<!doctype", b"<svg", b"<?xml-stylesheet", b"<body", b"<iframe")
ZIP_EOCD = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class TooLarge(Problem):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "document-too-large",
                         f"the document is larger than {limit // (1024 * 1024) or 1} MB, the limit here", limit=limit)


def _refused(status: int, code: str, detail: str) -> Problem:
    return Problem(status, code, detail)


@dataclass(frozen=True)
class Verdict:
    content_type: str
    size: int
    sha256: str


class Inspector:
    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.head = bytearray()
        self.tail = bytearray()
        self.hash = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(self.max_bytes)
        self.hash.update(chunk)
        if len(self.head) < HEAD:
            self.head += chunk[:HEAD - len(self.head)]
        self.tail += chunk
        if len(self.tail) > TAIL:
            del self.tail[:len(self.tail) - TAIL]

    def verdict(self, *, name: str, declared: str | None, allowed: list[str] | tuple[str, ...]) -> Verdict:
        if self.size == 0:
            raise _refused(422, "document-empty", "the file is empty")
        head, tail = bytes(self.head), bytes(self.tail)
        if any(m in head[:1024].lower() for m in MARKUP):
            raise _refused(422, "document-polyglot", "the file holds web page markup or script")
        ext = os.path.splitext(name)[1].lower()
        kind = self._kind(head, tail, ext)
        if kind not in allowed:
            raise _refused(415, "document-type-not-allowed",
                           "this kind of file is not accepted here: send a PDF, an image (PNG, JPEG) or an office "
                           "document (DOCX, XLSX, ODT, DOC, XLS)")
        if ext not in EXTENSIONS[kind]:
            raise _refused(415, "document-type-mismatch",
                           f"the file's name says {ext or 'nothing'} but its content is {EXTENSIONS[kind][0]}")
        base = (declared or "").split(";")[0].strip().lower()
        if base not in GENERIC_DECLARED and base != kind:
            raise _refused(415, "document-type-mismatch", "the declared type does not match the file's content")
        return Verdict(content_type=kind, size=self.size, sha256=self.hash.hexdigest())

    # -- per family ------------------------------------------------------------------------------

    def _kind(self, head: bytes, tail: bytes, ext: str) -> str:
        try:
            matches = puremagic.magic_string(head)
        except puremagic.PureError:
            matches = []
        family = matches[0].mime_type if matches else ""
        if head.startswith(b"%PDF-") or family == PDF:
            return self._pdf(head, tail)
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return self._image(PNG, tail, tail.endswith(b"IEND\xaeB`\x82"))
        if head.startswith(b"\xff\xd8\xff"):
            return self._image(JPEG, tail, tail.rstrip(b"\x00").endswith(b"\xff\xd9"))
        if head.startswith(b"PK\x03\x04") or "openxmlformats" in family:
            return self._zip(head, tail)
        if head.startswith(OLE_MAGIC):
            if self.size % 512 or self.size < 1536:
                raise _refused(422, "document-damaged", "the office file is cut short or damaged")
            return XLS if ext == ".xls" else DOC
        if ZIP_EOCD in tail[-65_600:]:
            raise _refused(422, "document-polyglot", "the file hides an archive behind other data")
        return family or "application/octet-stream"

    def _pdf(self, head: bytes, tail: bytes) -> str:
        if not head.startswith(b"%PDF-"):
            raise _refused(422, "document-polyglot", "the file has data in front of its PDF header")
        if b"%%EOF" not in tail[-2048:]:
            raise _refused(422, "document-damaged", "the PDF is cut short (it has no end-of-file marker)")
        if ZIP_EOCD in tail[-65_600:]:
            raise _refused(422, "document-polyglot", "the PDF hides an archive")
        return PDF

    def _image(self, kind: str, tail: bytes, complete: bool) -> str:
        if not complete:
            if ZIP_EOCD in tail[-65_600:]:
                raise _refused(422, "document-polyglot", "the image hides an archive")
            raise _refused(422, "document-damaged", "the image is cut short")
        return kind

    def _zip(self, head: bytes, tail: bytes) -> str:
        try:
            with zipfile.ZipFile(_Sparse(head, tail, self.size)) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise _refused(422, "document-damaged", "the office document does not open (cut short or damaged)") from None
        if not infos or min(i.header_offset for i in infos) != 0 or not head.startswith(b"PK\x03\x04"):
            raise _refused(422, "document-polyglot", "the office document has other data in front of it")
        names = {i.filename for i in infos}
        if head[30:38] == b"mimetype" and head[38:38 + len(ODT)] == ODT.encode():
            return ODT
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
        return "application/zip"


class _Sparse(io.RawIOBase):
    """A read-only file of ``size`` bytes of which only the head and the tail are known: enough
    for ``zipfile`` to read the end record and the central directory. Reading anything else
    fails, so a zip whose directory is not in the tail is refused rather than guessed."""

    def __init__(self, head: bytes, tail: bytes, size: int) -> None:
        self._head, self._tail, self._size = head, tail, size
        self._tail_at = size - len(tail)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        if base + offset < 0:
            raise OSError("seek before start")
        self._pos = base + offset
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = self._size if n is None or n < 0 else min(self._size, self._pos + n)
        start = self._pos
        if start >= end:
            return b""
        if start >= self._tail_at:
            out = self._tail[start - self._tail_at:end - self._tail_at]
        elif end <= len(self._head):
            out = self._head[start:end]
        else:
            raise OSError("outside the inspected bytes")
        self._pos = end
        return out
