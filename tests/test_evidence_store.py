"""Tests for bot.evidence_store: hashing, deduplication, limits, failures and removal."""

from __future__ import annotations

import asyncio
import hashlib
import random
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.evidence_store import EvidenceStore, StoredObject, TooLarge


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


@pytest.fixture
def store(root: Path) -> EvidenceStore:
    return EvidenceStore(root)


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- storing -------------------------------------------------------------------------------


async def test_put_stream_names_the_file_by_its_sha256(store: EvidenceStore, root: Path) -> None:
    data = random.Random(0).randbytes(3 * 1024 * 1024 + 17)
    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]

    stored = await store.put_stream(stream(*chunks))

    digest = hashlib.sha256(data).hexdigest()
    assert stored == StoredObject(
        sha256=digest, size=len(data), path=root / "objects" / digest[:2] / digest, existed=False
    )
    assert stored.path == store.path_for(digest)
    assert stored.path.read_bytes() == data
    assert store.exists(digest)
    assert files_under(root / "tmp") == []


async def test_files_and_directories_are_private(store: EvidenceStore, root: Path) -> None:
    stored = await store.put_bytes(b"screenshot")

    assert mode(stored.path) == 0o600
    for directory in (root, root / "tmp", root / "objects", stored.path.parent):
        assert mode(directory) == 0o700


async def test_empty_content_is_stored(store: EvidenceStore) -> None:
    stored = await store.put_stream(stream())

    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert stored.size == 0
    assert stored.path.read_bytes() == b""


async def test_same_content_is_stored_once(store: EvidenceStore, root: Path) -> None:
    first = await store.put_bytes(b"the same threat")
    second = await store.put_stream(stream(b"the same ", b"threat"))

    assert not first.existed
    assert second.existed
    assert second.sha256 == first.sha256
    assert second.path == first.path
    assert files_under(root / "objects") == [first.path]
    assert files_under(root / "tmp") == []


async def test_put_file_copies_in_chunks(store: EvidenceStore, tmp_path: Path) -> None:
    source = tmp_path / "call.ogg"
    source.write_bytes(b"recorded call " * 1000)

    stored = await store.put_file(source, chunk_size=7)

    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert stored.size == source.stat().st_size
    assert await store.read(stored.sha256) == source.read_bytes()


# -- nothing left behind -------------------------------------------------------------------


async def test_too_large_leaves_nothing(store: EvidenceStore, root: Path) -> None:
    with pytest.raises(TooLarge) as raised:
        await store.put_stream(stream(b"12345", b"67890", b"x"), max_bytes=10)

    assert raised.value.max_bytes == 10
    assert files_under(root) == []


async def test_content_exactly_at_the_limit_is_stored(store: EvidenceStore) -> None:
    stored = await store.put_stream(stream(b"12345", b"67890"), max_bytes=10)

    assert stored.size == 10


async def test_put_file_over_the_limit_leaves_nothing(
    store: EvidenceStore, root: Path, tmp_path: Path
) -> None:
    source = tmp_path / "video.mp4"
    source.write_bytes(b"v" * 100)

    with pytest.raises(TooLarge):
        await store.put_file(source, max_bytes=99, chunk_size=10)

    assert files_under(root) == []
    assert source.read_bytes() == b"v" * 100


async def test_error_mid_stream_leaves_nothing(store: EvidenceStore, root: Path) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"x" * (2 * 1024 * 1024)  # more than one batch: the temp file has content
        raise ConnectionError("download interrupted")

    with pytest.raises(ConnectionError):
        await store.put_stream(failing())

    assert files_under(root) == []


async def test_cancellation_mid_stream_leaves_nothing(store: EvidenceStore, root: Path) -> None:
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


def test_cleanup_temp_removes_stale_temp_files(store: EvidenceStore, root: Path) -> None:
    assert store.cleanup_temp() == 0  # nothing written yet, no tmp directory
    (root / "tmp").mkdir(parents=True)
    (root / "tmp" / "a.part").write_bytes(b"half a screenshot")
    (root / "tmp" / "b.part").write_bytes(b"")

    assert store.cleanup_temp() == 2

    assert files_under(root) == []


async def test_cleanup_temp_keeps_objects(store: EvidenceStore, root: Path) -> None:
    stored = await store.put_bytes(b"kept")
    (root / "tmp" / "stale.part").write_bytes(b"partial")

    assert store.cleanup_temp() == 1

    assert files_under(root) == [stored.path]


# -- reading, checking, removing -----------------------------------------------------------


async def test_read_iterate_and_verify(store: EvidenceStore) -> None:
    data = b"evidence " * 100
    stored = await store.put_bytes(data)

    assert await store.read(stored.sha256) == data
    assert b"".join([chunk async for chunk in store.iter_chunks(stored.sha256, 64)]) == data
    assert await store.verify(stored.sha256)

    stored.path.chmod(0o600)
    stored.path.write_bytes(b"altered")
    assert not await store.verify(stored.sha256)


async def test_missing_objects(store: EvidenceStore) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()

    assert not store.exists(missing)
    assert not await store.verify(missing)
    with pytest.raises(FileNotFoundError):
        await store.read(missing)


async def test_remove_deletes_and_ignores_missing(store: EvidenceStore, root: Path) -> None:
    gone = await store.put_bytes(b"delete me")
    kept = await store.put_bytes(b"keep me")
    never_stored = hashlib.sha256(b"never stored").hexdigest()

    await store.remove([gone.sha256, never_stored])

    assert not store.exists(gone.sha256)
    assert store.exists(kept.sha256)
    assert files_under(root / "objects") == [kept.path]


async def test_remove_checks_every_hash_before_deleting(store: EvidenceStore) -> None:
    stored = await store.put_bytes(b"still here")

    with pytest.raises(ValueError):
        await store.remove([stored.sha256, "../x"])

    assert store.exists(stored.sha256)


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
def test_path_for_rejects_anything_but_a_sha256(store: EvidenceStore, name: str) -> None:
    with pytest.raises(ValueError):
        store.path_for(name)
