"""Evidence files, stored once per content under their SHA-256.

An object lives at ``root/objects/<first 2 hex>/<sha256>`` and is never modified. It is written
to a temporary file in ``root/tmp/`` (same filesystem) while its hash is computed, synced, and
renamed into place; the directory is then synced. A crash therefore leaves either a complete
object or a stray temporary file, which :meth:`EvidenceStore.cleanup_temp` removes at start-up.
Only then may the caller record the object in the database.

Files are created with mode 0o600 and directories with 0o700: the contents are sensitive.

Exceptions: :class:`TooLarge` when a stream exceeds its limit; ``ValueError`` for a malformed
hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_SHA256: Final = re.compile(r"[0-9a-f]{64}")
_DIR_MODE: Final = 0o700
_BATCH_BYTES: Final = 1 << 20
"""Small chunks are gathered up to this size before a write (one thread hop per batch)."""
CHUNK_BYTES: Final = 1 << 20


class TooLarge(Exception):
    """The content exceeds the allowed size; nothing was stored."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"content exceeds {max_bytes} bytes")
        self.max_bytes = max_bytes


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A stored file: its hash, size, path, and whether the same content was already there."""

    sha256: str
    size: int
    path: Path
    existed: bool


class _TempFile:
    """A temporary file being filled and hashed, written from worker threads one at a time."""

    def __init__(self, directory: Path) -> None:
        fd, name = tempfile.mkstemp(dir=directory, suffix=".part")  # mode 0o600
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        # A cancelled asyncio.to_thread leaves its thread running: discard() waits for it.
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._file.write(data)
            self._hash.update(data)

    def finish(self) -> str:
        """Flush, sync and close the file; return its hex digest."""
        with self._lock:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            return self._hash.hexdigest()

    def discard(self) -> None:
        with self._lock:
            self._file.close()
            self.path.unlink(missing_ok=True)


class EvidenceStore:
    """Content-addressed evidence files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._objects = root / "objects"
        self._tmp = root / "tmp"

    def path_for(self, sha256: str) -> Path:
        """Return where the object with this hash lives; reject anything but 64 lower-case hex."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self._objects / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        """Return whether the object with this hash is stored."""
        return self.path_for(sha256).is_file()

    async def put_stream(
        self, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None
    ) -> StoredObject:
        """Store the streamed content; raise TooLarge (storing nothing) past ``max_bytes``."""
        temp = await asyncio.to_thread(self._new_temp)
        try:
            size = 0
            batch = bytearray()
            async for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(max_bytes)
                batch += chunk
                if len(batch) >= _BATCH_BYTES:
                    await asyncio.to_thread(temp.write, bytes(batch))
                    batch.clear()
            if batch:
                await asyncio.to_thread(temp.write, bytes(batch))
            sha256 = await asyncio.to_thread(temp.finish)
            path, existed = await asyncio.to_thread(self._commit, temp.path, sha256)
        except BaseException:
            # Synchronous on purpose: it must run even when the task is being cancelled.
            temp.discard()
            raise
        return StoredObject(sha256=sha256, size=size, path=path, existed=existed)

    async def put_bytes(self, data: bytes, *, max_bytes: int | None = None) -> StoredObject:
        """Store ``data``."""
        return await self.put_stream(_once(data), max_bytes=max_bytes)

    async def put_file(
        self, path: Path, *, max_bytes: int | None = None, chunk_size: int = CHUNK_BYTES
    ) -> StoredObject:
        """Store a copy of the file at ``path``, read in chunks."""
        async with aclosing(_read_chunks(path, chunk_size)) as chunks:
            return await self.put_stream(chunks, max_bytes=max_bytes)

    async def read(self, sha256: str) -> bytes:
        """Return the content of the object; raise FileNotFoundError if it is not stored."""
        return await asyncio.to_thread(self.path_for(sha256).read_bytes)

    async def iter_chunks(
        self, sha256: str, chunk_size: int = CHUNK_BYTES
    ) -> AsyncIterator[bytes]:
        """Yield the content of the object in chunks (for exports and uploads)."""
        async with aclosing(_read_chunks(self.path_for(sha256), chunk_size)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def verify(self, sha256: str) -> bool:
        """Return whether the stored object still hashes to its name (False if missing)."""
        path = self.path_for(sha256)
        return await asyncio.to_thread(_hash_file, path) == sha256

    async def remove(self, sha256s: Iterable[str]) -> None:
        """Delete these objects; missing ones are ignored. All hashes are checked first."""
        paths = [self.path_for(sha256) for sha256 in sha256s]
        await asyncio.to_thread(_unlink_all, paths)

    def cleanup_temp(self, *, older_than: float = 0.0) -> int:
        """Delete leftover temporary files (call at start-up, before any put); with
        ``older_than``, only those that many seconds old (another process may be writing the
        younger ones). Return how many."""
        if not self._tmp.is_dir():
            return 0
        cutoff = time.time() - older_than
        leftovers = [
            path
            for path in self._tmp.iterdir()
            if path.is_file() and (not older_than or path.stat().st_mtime <= cutoff)
        ]
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)

    # -- in worker threads ----------------------------------------------------------------

    def _new_temp(self) -> _TempFile:
        _make_dir(self.root)
        _make_dir(self._tmp)
        return _TempFile(self._tmp)

    def _commit(self, temp: Path, sha256: str) -> tuple[Path, bool]:
        """Move the synced temp file to its object path unless the content is already there."""
        target = self.path_for(sha256)
        _make_dir(self._objects)
        _make_dir(target.parent)
        existed = target.exists()
        if existed:
            temp.unlink()
        else:
            os.replace(temp, target)
        # The entries must be durable before the caller records the object.
        _fsync_dir(target.parent)
        _fsync_dir(self._objects)
        return target, existed


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _read_chunks(path: Path, chunk_size: int) -> AsyncGenerator[bytes]:
    file = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, chunk_size):
            yield chunk
    finally:
        file.close()


def _hash_file(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while chunk := file.read(CHUNK_BYTES):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
    for directory in {path.parent for path in paths if path.parent.is_dir()}:
        _fsync_dir(directory)


def _make_dir(path: Path) -> None:
    # Missing parents get default permissions; callers create root first.
    path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
