"""One contract for every document store: the local directory of the embedded run and S3-compatible
object storage (a real S3 HTTP API: moto's server on localhost, or ``ODR_TEST_S3_ENDPOINT`` with
``ODR_TEST_S3_BUCKET`` for a real MinIO/S3). Sealed documents round-trip through each, and a put
that fails half-way leaves nothing: no object, no part file, no unfinished multipart upload."""

from __future__ import annotations

import os
import uuid

import pytest

from services.sessions.storage import S3_PART, BlobNotFound, LocalStore, S3Store
from shared import crypto


@pytest.fixture(params=["local", "s3"])
async def store(request, tmp_path):
    if request.param == "local":
        s = LocalStore(tmp_path / "blobs")
        s.leftovers = lambda: [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    else:
        endpoint, bucket = request.getfixturevalue("s3_endpoint")
        s = S3Store(bucket=bucket, prefix=f"t-{uuid.uuid4().hex}/", endpoint_url=endpoint, region="us-east-1")
    yield s
    await s.close()


async def chunks_of(data: bytes, size: int = 100_000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def read(store, key: str) -> bytes:
    return b"".join([c async for c in store.get(key)])


class Interrupted(Exception):
    pass


async def failing_after(data: bytes):
    async for c in chunks_of(data):
        yield c
    raise Interrupted()


@pytest.mark.parametrize("size", [0, 1, 70_000, S3_PART + 123_457])
async def test_put_get_delete_round_trip(store, size):
    data = os.urandom(size)
    key = f"documents/case/{uuid.uuid4().hex}"
    assert not await store.exists(key)
    assert await store.put(key, chunks_of(data)) == size
    assert await store.exists(key)
    assert await read(store, key) == data
    await store.delete(key)
    assert not await store.exists(key)
    with pytest.raises(BlobNotFound):
        await read(store, key)
    await store.delete(key)  # deleting twice is fine


async def test_a_later_put_replaces_the_blob(store):
    key = "documents/case/replaced"
    await store.put(key, chunks_of(b"first"))
    await store.put(key, chunks_of(b"second"))
    assert await read(store, key) == b"second"


@pytest.mark.parametrize("size", [10, S3_PART * 2 + 5])
async def test_an_interrupted_put_leaves_nothing(store, size):
    key = f"documents/case/{uuid.uuid4().hex}"
    with pytest.raises(Interrupted):
        await store.put(key, failing_after(os.urandom(size)))
    assert not await store.exists(key)
    if isinstance(store, S3Store):
        assert await store.unfinished_uploads() == 0
    else:
        assert store.leftovers() == []


async def test_sealed_streams_round_trip_and_refuse_tampering(store):
    key_ = crypto.new_data_key()
    data = os.urandom(300_000)
    aad = crypto.aad("document", "case", "d1")
    await store.put("documents/case/d1", crypto.seal_stream(key_, chunks_of(data, 7_777), aad))
    sealed = await read(store, "documents/case/d1")
    assert data[:64] not in sealed
    opened = b"".join([c async for c in crypto.open_stream(key_, store.get("documents/case/d1"), aad)])
    assert opened == data

    async def opened_from(blob: bytes, aad=aad):
        return b"".join([c async for c in crypto.open_stream(key_, chunks_of(blob, 5_000), aad)])

    segment = crypto.STREAM_SEGMENT + 16
    header = len(crypto.STREAM_MAGIC) + 7
    for bad in (sealed[:-1],  # cut inside the last segment
                sealed[:header + segment],  # cut at a segment boundary
                sealed[:header + 10] + bytes([sealed[header + 10] ^ 1]) + sealed[header + 11:],  # a flipped bit
                sealed[:header] + sealed[header + segment:header + 2 * segment] + sealed[header:header + segment]
                + sealed[header + 2 * segment:]):  # two segments swapped
        with pytest.raises(crypto.DecryptionError):
            await opened_from(bad)
    with pytest.raises(crypto.DecryptionError):
        await opened_from(sealed, aad=crypto.aad("document", "case", "d2"))  # moved to another document


def test_keys_cannot_escape_the_store(tmp_path):
    store = LocalStore(tmp_path)
    for bad in ("../x", "/etc/passwd", "a/../../b", "", "a//b"):
        with pytest.raises(ValueError):
            store._path(bad)
