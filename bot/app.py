"""Wiring: build the shared core from settings, and open and close what it needs."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from bot.content import Content
from bot.core import Core
from bot.settings import Settings
from bot.signing import load_or_create
from bot.storage import Storage, StorageUnavailable

LEFTOVER_SECONDS = 3600.0
"""With several processes on one data directory, a temporary file or dossier build older
than this is a leftover of a crash; younger ones may be another process's work."""


@asynccontextmanager
async def open_core(
    settings: Settings, exports_dir: Path | None = None, *, shared: bool = False
) -> AsyncIterator[Core]:
    """Open the storage and the evidence store and yield the core; close them after.

    ``exports_dir`` is where a single-user channel (the console) writes the files it is
    sent; deleting a case deletes its files there too. ``shared``: one of several processes
    on this data directory (the receiver and workers on PostgreSQL), which hold it together;
    a single process holds it alone."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with only_writer(settings.data_dir, shared=shared):
        async with _open(settings, exports_dir, shared) as core:
            yield core


class StartFailed(Exception):
    """The bot could not start; ``key`` and ``params`` say why, for the operator."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key, self.params = key, params


class DataDirInUse(RuntimeError):
    """Another process of the bot is using this data directory."""


@contextmanager
def only_writer(data_dir: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold an advisory lock on the data directory: SQLite and the evidence store take one
    writer process; a second one is refused before it touches anything. Processes that
    share it (``shared``, on PostgreSQL) hold the lock together, and keep a single process
    out (and are kept out by one)."""
    fd = os.open(data_dir / "bot.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirInUse(str(data_dir)) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


@asynccontextmanager
async def _open(settings: Settings, exports_dir: Path | None, shared: bool) -> AsyncIterator[Core]:
    content = Content.load(settings.content_dir)
    evidence = settings.blob_store()
    try:
        await evidence.check()
    except StorageUnavailable as error:
        raise StartFailed(
            "console.start_bucket", url=settings.evidence_store or "", error=str(error)
        ) from None
    older = LEFTOVER_SECONDS if shared else 0.0
    evidence.cleanup_temp(older_than=older)
    work_dir = settings.data_dir / "tmp"
    clear_directory(work_dir, older_than=older)  # a dossier cut short holds a user's files
    load_or_create(settings.data_dir)  # the key that signs dossiers, made at first start
    async with await Storage.open(settings.database) as storage:
        yield Core(
            content=content,
            storage=storage,
            evidence=evidence,
            max_download_bytes=settings.max_download_bytes,
            retention_days=settings.retention_days,
            work_dir=work_dir,
            pending_dir=settings.data_dir / "exports-pending",
            exports_dir=exports_dir,
        )


def clear_directory(directory: Path, *, older_than: float = 0.0) -> None:
    """Remove everything inside ``directory`` (left by an earlier run), keeping it; with
    ``older_than``, only what was last changed that many seconds ago or earlier."""
    if not directory.is_dir():
        return
    cutoff = time.time() - older_than
    for child in directory.iterdir():
        if older_than and child.lstat().st_mtime > cutoff:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
