"""Tests for bot.evidence_store: hashing, deduplication, limits, failures and removal, on
the local directory and on an S3 bucket (moto's server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import StorageUnavailable
from bot.evidence_store import BlobStore, EvidenceStore, S3EvidenceStore, StoredObject, TooLarge
from tests.s3 import S3Server


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


@pytest.fixture
def local(root: Path) -> EvidenceStore:
    return EvidenceStore(root)


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, root: Path) -> BlobStore:
    if request.param == "local":
        return EvidenceStore(root)
    server: S3Server = request.getfixturevalue("s3_server")
    return server.store(root, request.getfixturevalue("bucket"))


def stored_hashes(store: BlobStore, request: pytest.FixtureRequest) -> list[str]:
    """The hashes of the objects the store holds, read from its directory or its bucket."""
    if isinstance(store, S3EvidenceStore):
        server: S3Server = request.getfixturevalue("s3_server")
        keys = server.keys(request.getfixturevalue("bucket"))
        return [key.rpartition("/")[2] for key in keys]
    return [path.name for path in files_under(store.root / "objects")]


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- storing -------------------------------------------------------------------------------


async def test_put_stream_names_the_object_by_its_sha256(
    store: BlobStore, root: Path, request: pytest.FixtureRequest
) -> None:
    data = random.Random(0).randbytes(3 * 1024 * 1024 + 17)
    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]

    stored = await store.put_stream(stream(*chunks))

    digest = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, stored.existed) == (digest, len(data), False)
    assert await store.read(digest) == data
    assert await store.exists(digest)
    assert stored_hashes(store, request) == [digest]
    assert files_under(root / "tmp") == []


async def test_the_local_store_keeps_objects_by_path(local: EvidenceStore, root: Path) -> None:
    stored = await local.put_bytes(b"a screenshot")

    digest = hashlib.sha256(b"a screenshot").hexdigest()
    path = root / "objects" / digest[:2] / digest
    assert stored == StoredObject(sha256=digest, size=12, path=path, existed=False)
    assert local.path_for(digest) == path
    assert path.read_bytes() == b"a screenshot"


async def test_the_bucket_keeps_objects_under_its_prefix(
    s3_server: S3Server, bucket: str, root: Path
) -> None:
    store = s3_server.store(root, bucket, prefix="bot/evidence")

    stored = await store.put_bytes(b"a screenshot")

    digest = stored.sha256
    assert stored.path is None
    assert s3_server.keys(bucket) == [f"bot/evidence/objects/{digest[:2]}/{digest}"]
    assert await store.read(digest) == b"a screenshot"


async def test_files_and_directories_are_private(local: EvidenceStore, root: Path) -> None:
    stored = await local.put_bytes(b"screenshot")

    assert stored.path is not None
    assert mode(stored.path) == 0o600
    for directory in (root, root / "tmp", root / "objects", stored.path.parent):
        assert mode(directory) == 0o700


async def test_empty_content_is_stored(store: BlobStore) -> None:
    stored = await store.put_stream(stream())

    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert stored.size == 0
    assert await store.read(stored.sha256) == b""


async def test_same_content_is_stored_once(
    store: BlobStore, root: Path, request: pytest.FixtureRequest
) -> None:
    first = await store.put_bytes(b"the same threat")
    second = await store.put_stream(stream(b"the same ", b"threat"))

    assert not first.existed
    assert second.existed
    assert second.sha256 == first.sha256
    assert second.path == first.path
    assert stored_hashes(store, request) == [first.sha256]
    assert files_under(root / "tmp") == []


async def test_put_file_copies_in_chunks(store: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "call.ogg"
    source.write_bytes(b"recorded call " * 1000)

    stored = await store.put_file(source, chunk_size=7)

    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert stored.size == source.stat().st_size
    assert await store.read(stored.sha256) == source.read_bytes()


# -- nothing left behind -------------------------------------------------------------------


async def test_too_large_leaves_nothing(
    store: BlobStore, root: Path, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(TooLarge) as raised:
        await store.put_stream(stream(b"12345", b"67890", b"x"), max_bytes=10)

    assert raised.value.max_bytes == 10
    assert files_under(root) == []
    assert stored_hashes(store, request) == []


async def test_content_exactly_at_the_limit_is_stored(store: BlobStore) -> None:
    stored = await store.put_stream(stream(b"12345", b"67890"), max_bytes=10)

    assert stored.size == 10


async def test_put_file_over_the_limit_leaves_nothing(
    store: BlobStore, root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / "video.mp4"
    source.write_bytes(b"v" * 100)

    with pytest.raises(TooLarge):
        await store.put_file(source, max_bytes=99, chunk_size=10)

    assert files_under(root) == []
    assert stored_hashes(store, request) == []
    assert source.read_bytes() == b"v" * 100


async def test_error_mid_stream_leaves_nothing(
    store: BlobStore, root: Path, request: pytest.FixtureRequest
) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"x" * (2 * 1024 * 1024)  # more than one batch: the temp file has content
        raise ConnectionError("download interrupted")

    with pytest.raises(ConnectionError):
        await store.put_stream(failing())

    assert files_under(root) == []
    assert stored_hashes(store, request) == []


async def test_cancellation_mid_stream_leaves_nothing(
    store: BlobStore, root: Path, request: pytest.FixtureRequest
) -> None:
    started = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield b"x" * (2 * 1024 * 1024)
        started.set()
        await asyncio.Event().wait()
        yield b"never"

    task = asyncio.create_task(store.put_stream(stalled()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert files_under(root) == []
    assert stored_hashes(store, request) == []


async def test_an_unreachable_bucket_is_unavailable_storage_and_leaves_nothing(
    s3_server: S3Server, root: Path
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    store = S3EvidenceStore(
        root,
        "s3://evidence",
        endpoint=f"http://127.0.0.1:{port}",
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    digest = hashlib.sha256(b"kept for later").hexdigest()

    with pytest.raises(StorageUnavailable):
        await store.put_bytes(b"kept for later")
    with pytest.raises(StorageUnavailable):
        await store.exists(digest)
    with pytest.raises(StorageUnavailable):
        await store.remove([digest])

    assert files_under(root) == []


def test_cleanup_temp_removes_stale_temp_files(store: BlobStore, root: Path) -> None:
    assert store.cleanup_temp() == 0  # nothing written yet, no tmp directory
    (root / "tmp").mkdir(parents=True)
    (root / "tmp" / "a.part").write_bytes(b"half a screenshot")
    (root / "tmp" / "b.part").write_bytes(b"")

    assert store.cleanup_temp() == 2

    assert files_under(root) == []


async def test_cleanup_temp_keeps_objects(
    store: BlobStore, root: Path, request: pytest.FixtureRequest
) -> None:
    stored = await store.put_bytes(b"kept")
    (root / "tmp" / "stale.part").write_bytes(b"partial")

    assert store.cleanup_temp() == 1

    assert files_under(root / "tmp") == []
    assert stored_hashes(store, request) == [stored.sha256]


# -- reading, checking, removing -----------------------------------------------------------


async def test_read_iterate_and_verify(store: BlobStore) -> None:
    data = b"evidence " * 100
    stored = await store.put_bytes(data)

    assert await store.read(stored.sha256) == data
    assert b"".join([chunk async for chunk in store.iter_chunks(stored.sha256, 64)]) == data
    assert await store.verify(stored.sha256)


async def test_verify_finds_an_altered_object(
    store: BlobStore, s3_server: S3Server, request: pytest.FixtureRequest
) -> None:
    stored = await store.put_bytes(b"evidence")

    if isinstance(store, EvidenceStore):
        assert stored.path is not None
        stored.path.write_bytes(b"altered")
    else:
        bucket = request.getfixturevalue("bucket")
        key = S3EvidenceStore.key_for(stored.sha256)
        s3_server.put(bucket, key, b"altered")  # behind the store's back

    assert not await store.verify(stored.sha256)


async def test_local_copy_is_the_content_and_is_removed_after(
    store: BlobStore, root: Path
) -> None:
    stored = await store.put_bytes(b"a voice note")
    missing = hashlib.sha256(b"never stored").hexdigest()

    async with store.local_copy(stored.sha256) as path:
        assert path is not None
        assert path.read_bytes() == b"a voice note"
    async with store.local_copy(missing) as none:
        assert none is None

    assert files_under(root / "tmp") == []


async def test_missing_objects(store: BlobStore) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()

    assert not await store.exists(missing)
    assert not await store.verify(missing)
    with pytest.raises(FileNotFoundError):
        await store.read(missing)


async def test_remove_deletes_and_ignores_missing(
    store: BlobStore, request: pytest.FixtureRequest
) -> None:
    gone = await store.put_bytes(b"delete me")
    kept = await store.put_bytes(b"keep me")
    never_stored = hashlib.sha256(b"never stored").hexdigest()

    await store.remove([gone.sha256, never_stored])

    assert not await store.exists(gone.sha256)
    assert await store.exists(kept.sha256)
    assert stored_hashes(store, request) == [kept.sha256]


async def test_remove_checks_every_hash_before_deleting(store: BlobStore) -> None:
    stored = await store.put_bytes(b"still here")

    with pytest.raises(ValueError):
        await store.remove([stored.sha256, "../x"])

    assert await store.exists(stored.sha256)


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "",
        "ab",
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "A" * 64,
        "a" * 64 + "\n",
        "../" + "a" * 61,
        "/" + "a" * 63,
    ],
)
def test_names_are_nothing_but_a_sha256(local: EvidenceStore, name: str) -> None:
    with pytest.raises(ValueError):
        local.path_for(name)
    with pytest.raises(ValueError):
        S3EvidenceStore.key_for(name)
