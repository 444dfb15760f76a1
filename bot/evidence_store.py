"""Evidence files, stored once per content under their SHA-256 (:class:`BlobStore`).

Locally (:class:`EvidenceStore`, the default), an object lives at
``root/objects/<first 2 hex>/<sha256>`` and is never modified. It is written to a temporary
file in ``root/tmp/`` (same filesystem) while its hash is computed, synced, and renamed into
place; the directory is then synced. A crash therefore leaves either a complete object or a
stray temporary file, which :meth:`EvidenceStore.cleanup_temp` removes at start-up. Only then
may the caller record the object in the database. For several machines,
:class:`S3EvidenceStore` stages the same way and then uploads to a bucket.

Files are created with mode 0o600 and directories with 0o700: the contents are sensitive.

Exceptions: :class:`TooLarge` when a stream exceeds its limit; ``ValueError`` for a malformed
hash; ``bot.db.StorageUnavailable`` when the bucket cannot be reached.
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
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from bot.db import StorageUnavailable

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

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
    """A stored file: its hash, size, local path (none in a bucket), and whether the same
    content was already there."""

    sha256: str
    size: int
    path: Path | None
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

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def discard(self) -> None:
        with self._lock:
            self._file.close()
            self.path.unlink(missing_ok=True)


class BlobStore(Protocol):
    """Where evidence files live, named by their SHA-256: a local directory
    (:class:`EvidenceStore`, the default) or an S3-compatible bucket (:class:`S3EvidenceStore`,
    for processes on several machines). Content is staged and hashed in ``root/tmp`` first,
    then committed; only then may the caller record it."""

    root: Path
    """The local directory: staging, and for the local store the objects themselves."""

    async def put_stream(
        self, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None
    ) -> StoredObject: ...

    async def put_bytes(self, data: bytes, *, max_bytes: int | None = None) -> StoredObject: ...

    async def put_file(
        self, path: Path, *, max_bytes: int | None = None, chunk_size: int = CHUNK_BYTES
    ) -> StoredObject: ...

    async def exists(self, sha256: str) -> bool: ...

    async def read(self, sha256: str) -> bytes: ...

    def iter_chunks(self, sha256: str, chunk_size: int = CHUNK_BYTES) -> AsyncIterator[bytes]: ...

    async def verify(self, sha256: str) -> bool: ...

    async def remove(self, sha256s: Iterable[str]) -> None: ...

    def local_copy(self, sha256: str) -> AbstractAsyncContextManager[Path | None]: ...

    def cleanup_temp(self, *, older_than: float = 0.0) -> int: ...

    async def check(self) -> None:
        """Raise StorageUnavailable, saying why, if objects cannot be read and listed."""


class _Staged:
    """What both stores share: content is written to ``root/tmp`` while it is hashed, then
    handed to :meth:`_commit` under its hash."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

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
            path, existed = await self._commit(temp.path, sha256)
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

    async def check(self) -> None:
        """Nothing to check ahead: the directory is made at the first put."""

    async def _commit(self, temp: Path, sha256: str) -> tuple[Path | None, bool]:
        """Store the synced temporary file as ``sha256`` (removing it); return the object's
        local path if it has one, and whether the content was already there."""
        raise NotImplementedError

    def _new_temp(self) -> _TempFile:
        _make_dir(self.root)
        _make_dir(self._tmp)
        return _TempFile(self._tmp)


class EvidenceStore(_Staged):
    """Content-addressed evidence files under ``root`` (one machine)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._objects = root / "objects"

    def path_for(self, sha256: str) -> Path:
        """Return where the object with this hash lives; reject anything but 64 lower-case hex."""
        return self._objects / _checked(sha256)[:2] / sha256

    async def exists(self, sha256: str) -> bool:
        """Return whether the object with this hash is stored."""
        return await asyncio.to_thread(self.path_for(sha256).is_file)

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

    @asynccontextmanager
    async def local_copy(self, sha256: str) -> AsyncIterator[Path | None]:
        """The object's own file, to read while the context lasts (None if missing)."""
        path = self.path_for(sha256)
        yield path if await asyncio.to_thread(path.is_file) else None

    async def _commit(self, temp: Path, sha256: str) -> tuple[Path | None, bool]:
        return await asyncio.to_thread(self._move_into_place, temp, sha256)

    def _move_into_place(self, temp: Path, sha256: str) -> tuple[Path, bool]:
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


class S3EvidenceStore(_Staged):
    """Content-addressed evidence objects in an S3-compatible bucket, for processes on
    several machines: ``<prefix>/objects/<first 2 hex>/<sha256>``.

    Content is staged and hashed in ``root/tmp`` on the local disk, then uploaded under its
    hash with a conditional put (``If-None-Match: *``), so an object once written is never
    replaced; only when the upload succeeded may the caller record it. A bucket that cannot
    be reached raises :class:`~bot.db.StorageUnavailable`, like a database that cannot be
    written: the update waits and is applied later.
    """

    def __init__(
        self,
        root: Path,
        url: str,
        *,
        endpoint: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        """``url`` is ``s3://bucket`` or ``s3://bucket/prefix``; what is not given here is
        read from the standard ``AWS_*`` environment variables."""
        super().__init__(root)
        from obstore.store import S3Store  # the Rust extension only where a bucket is used

        config: S3Config = {}
        if endpoint:
            config["endpoint"] = endpoint
        if region:
            config["region"] = region
        if access_key_id:
            config["access_key_id"] = access_key_id
        if secret_access_key:
            config["secret_access_key"] = secret_access_key
        client: ClientConfig = {"connect_timeout": timedelta(seconds=5)}
        if endpoint and endpoint.startswith("http://"):
            client["allow_http"] = True  # a bucket on the operator's own network
        retry: RetryConfig = {"max_retries": 3, "retry_timeout": timedelta(seconds=20)}
        self._store = S3Store.from_url(
            url, config=config, client_options=client, retry_config=retry
        )

    @staticmethod
    def key_for(sha256: str) -> str:
        """Return the object's key under the store's prefix."""
        return f"objects/{_checked(sha256)[:2]}/{sha256}"

    async def check(self) -> None:
        """Raise StorageUnavailable if the bucket cannot be listed (missing, refused,
        unreachable)."""
        import obstore
        from obstore.exceptions import BaseError

        try:
            async with _reachable(absent="no such bucket"):
                listing = obstore.list(self._store, "objects/", chunk_size=1)
                async for _ in listing:
                    break
        except StorageUnavailable as error:
            cause = error.__context__  # a listing names no object: its text may be shown
            if isinstance(cause, BaseError) and str(cause):
                raise StorageUnavailable(_summary(str(cause))) from None
            raise

    async def exists(self, sha256: str) -> bool:
        """Return whether the object with this hash is stored."""
        key = self.key_for(sha256)
        import obstore

        try:
            async with _reachable():
                await obstore.head_async(self._store, key)
        except FileNotFoundError:
            return False
        return True

    async def read(self, sha256: str) -> bytes:
        """Return the content of the object; raise FileNotFoundError if it is not stored."""
        return b"".join([chunk async for chunk in self.iter_chunks(sha256)])

    async def iter_chunks(
        self, sha256: str, chunk_size: int = CHUNK_BYTES
    ) -> AsyncIterator[bytes]:
        """Yield the content of the object in chunks; FileNotFoundError if it is missing."""
        key = self.key_for(sha256)
        import obstore

        async with _reachable():
            result = await obstore.get_async(self._store, key)
            async for chunk in result.stream(min_chunk_size=chunk_size):
                yield bytes(chunk)

    async def verify(self, sha256: str) -> bool:
        """Return whether the stored object still hashes to its name (False if missing)."""
        digest = hashlib.sha256()
        try:
            async for chunk in self.iter_chunks(sha256):
                digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == sha256

    async def remove(self, sha256s: Iterable[str]) -> None:
        """Delete these objects; missing ones are ignored. All hashes are checked first."""
        keys = [self.key_for(sha256) for sha256 in sha256s]
        if not keys:
            return
        import obstore

        async with _reachable(absent="no such bucket"):
            await obstore.delete_async(self._store, keys)

    @asynccontextmanager
    async def local_copy(self, sha256: str) -> AsyncIterator[Path | None]:
        """A private local copy of the object, removed when the context ends (None if the
        object is missing)."""
        temp = await asyncio.to_thread(self._new_temp)
        try:
            missing = False
            try:
                async for chunk in self.iter_chunks(sha256):
                    await asyncio.to_thread(temp.write, chunk)
            except FileNotFoundError:
                missing = True
            await asyncio.to_thread(temp.close)
            yield None if missing else temp.path
        finally:
            temp.discard()

    async def _commit(self, temp: Path, sha256: str) -> tuple[Path | None, bool]:
        import obstore
        from obstore.exceptions import AlreadyExistsError

        try:
            async with _reachable(absent="no such bucket"):
                await obstore.put_async(self._store, self.key_for(sha256), temp, mode="create")
        except AlreadyExistsError:
            existed = True
        else:
            existed = False
        await asyncio.to_thread(temp.unlink, missing_ok=True)
        return None, existed


@asynccontextmanager
async def _reachable(absent: str | None = None) -> AsyncIterator[None]:
    """Map the bucket's failures (unreachable, refused, throttled) to StorageUnavailable;
    "not found" is FileNotFoundError (a missing object) unless ``absent`` names what is then
    missing instead (the bucket, for a put or a listing). The error's own text names the
    bucket and the key: it is kept out of the message."""
    from obstore.exceptions import AlreadyExistsError, BaseError, NotFoundError

    try:
        yield
    except (FileNotFoundError, NotFoundError):
        if absent is not None:
            raise StorageUnavailable(f"evidence bucket: {absent}") from None
        raise FileNotFoundError("no such object") from None
    except AlreadyExistsError:
        raise
    except BaseError as error:
        raise StorageUnavailable(f"evidence bucket: {type(error).__name__}") from None


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


def _summary(message: str) -> str:
    """The gist of an S3 error for the operator: the HTTP status and S3's error code when the
    server answered (``404 Not Found: NoSuchBucket``), else the first line."""
    status = re.search(r"status code: (\d{3}[^:<]*)", message)
    code = re.search(r"<Code>(\w+)</Code>", message)
    if status or code:
        return ": ".join(m.group(1).strip() for m in (status, code) if m)
    return message.splitlines()[0][:300]


def _checked(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return sha256


def _make_dir(path: Path) -> None:
    # Missing parents get default permissions; callers create root first.
    path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
