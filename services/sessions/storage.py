"""Where documents' sealed bytes live: a blob store behind one small streaming interface.

The embedded run keeps blobs in a local directory; production keeps them in S3-compatible object
storage (AWS S3, MinIO, Ceph RGW...) through ``aioboto3``. Both pass one contract suite
(``tests/services/sessions/test_storage_contract.py``). The store only ever sees ciphertext: the
documents module seals every chunk before ``put`` and opens it after ``get``.

The contract:

* ``put(key, chunks)`` consumes an async iterable of byte chunks and stores them under ``key``
  all or nothing: if the iterable raises (an interrupted upload, a refused file) or the store
  fails, nothing is left under ``key`` or anywhere else (no partial file, no unfinished multipart
  upload). A finished ``put`` replaces an earlier blob of the same key.
* ``get(key)`` yields the blob in chunks; ``BlobNotFound`` if there is none.
* ``delete(key)`` removes it; deleting a missing key is not an error.
* ``exists(key)``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

READ_CHUNK = 256 * 1024
S3_PART = 8 * 1024 * 1024  # multipart part size (S3's minimum is 5 MiB except for the last part)
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,250}$")


class BlobNotFound(Exception):
    pass


def _check_key(key: str) -> str:
    if not KEY.match(key) or ".." in key or "//" in key:
        raise ValueError("a blob key is letters, digits and . _ - / without '..'")
    return key


class BlobStore(abc.ABC):
    @abc.abstractmethod
    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the chunks under ``key`` (all or nothing); returns the number of bytes stored."""

    @abc.abstractmethod
    def get(self, key: str) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks (an async generator; ``BlobNotFound`` on first use)."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    async def exists(self, key: str) -> bool: ...

    async def close(self) -> None:
        """Release connections (the S3 client)."""


class LocalStore(BlobStore):
    """Blobs as files under ``root``. A put writes ``<key>.part-<random>`` beside the final name,
    fsyncs it and renames it into place, so a reader never sees half a blob and a failed put
    removes its part file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.part-{uuid.uuid4().hex}")
        size = 0
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                async for chunk in chunks:
                    f.write(chunk)
                    size += len(chunk)
                f.flush()
                await asyncio.to_thread(os.fsync, f.fileno())
            os.replace(part, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
            raise
        return size

    async def get(self, key: str) -> AsyncIterator[bytes]:
        try:
            f = open(self._path(key), "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        with f:
            while chunk := await asyncio.to_thread(f.read, READ_CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Store(BlobStore):
    """Blobs as objects in one bucket of an S3-compatible store (``aioboto3``). Credentials come
    from the usual AWS sources (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, the
    pod's role). A blob up to one part is one ``PutObject``; a bigger one is a multipart upload,
    aborted if the stream fails, so an interrupted upload leaves no object and no parts."""

    def __init__(self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        import aioboto3  # the sessions dependency group; only production needs it

        self.bucket = bucket
        self.prefix = prefix
        self._session = aioboto3.Session()
        self._client_args = {"endpoint_url": endpoint_url, "region_name": region}
        self._stack: contextlib.AsyncExitStack | None = None
        self._client = None
        self._lock = asyncio.Lock()

    async def _s3(self):
        async with self._lock:
            if self._client is None:
                self._stack = contextlib.AsyncExitStack()
                self._client = await self._stack.enter_async_context(self._session.client("s3", **self._client_args))
        return self._client

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        s3 = await self._s3()
        name = self._key(key)
        buf = bytearray()
        size = 0
        upload_id = None
        parts: list[dict] = []
        try:
            async for chunk in chunks:
                buf += chunk
                size += len(chunk)
                if len(buf) >= S3_PART:
                    if upload_id is None:
                        upload_id = (await s3.create_multipart_upload(Bucket=self.bucket, Key=name))["UploadId"]
                    part = bytes(buf[:S3_PART])
                    del buf[:S3_PART]
                    n = len(parts) + 1
                    r = await s3.upload_part(Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=n, Body=part)
                    parts.append({"PartNumber": n, "ETag": r["ETag"]})
            if upload_id is None:
                await s3.put_object(Bucket=self.bucket, Key=name, Body=bytes(buf))
                return size
            if buf or not parts:
                n = len(parts) + 1
                r = await s3.upload_part(Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=n, Body=bytes(buf))
                parts.append({"PartNumber": n, "ETag": r["ETag"]})
            await s3.complete_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id,
                                               MultipartUpload={"Parts": parts})
            return size
        except BaseException:
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id))
            raise

    async def get(self, key: str) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        try:
            obj = await s3.get_object(Bucket=self.bucket, Key=self._key(key))
        except s3.exceptions.NoSuchKey:
            raise BlobNotFound(key) from None
        body = obj["Body"]
        try:
            async for chunk in body.iter_chunks(READ_CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=self.bucket, Key=self._key(key))

    async def exists(self, key: str) -> bool:
        s3 = await self._s3()
        try:
            await s3.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def unfinished_uploads(self) -> int:
        """Multipart uploads started and neither completed nor aborted (the contract says none)."""
        s3 = await self._s3()
        r = await s3.list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix)
        return len(r.get("Uploads", []))

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack, self._client = None, None


def create_store(settings, data_dir: Path) -> BlobStore:
    """The store the settings name (``ODR_SESSIONS_DOCUMENT_STORE``): ``local`` under
    ``document_dir`` (default ``<data_dir>/documents``) or ``s3``."""
    if settings.document_store == "s3":
        return S3Store(bucket=settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
                       region=settings.s3_region)
    return LocalStore(settings.document_dir or data_dir / "documents")
