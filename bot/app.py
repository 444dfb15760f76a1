"""Wiring: build the shared core from settings, and open and close what it needs."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from bot.content import Content
from bot.core import Core
from bot.evidence_store import EvidenceStore
from bot.settings import Settings
from bot.signing import load_or_create
from bot.storage import Storage


@asynccontextmanager
async def open_core(settings: Settings, exports_dir: Path | None = None) -> AsyncIterator[Core]:
    """Open the storage and the evidence store and yield the core; close them after.

    ``exports_dir`` is where a single-user channel (the console) writes the files it is
    sent; deleting a case deletes its files there too."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with only_writer(settings.data_dir):
        async with _open(settings, exports_dir) as core:
            yield core


class DataDirInUse(RuntimeError):
    """Another process of the bot is using this data directory."""


@contextmanager
def only_writer(data_dir: Path) -> Iterator[None]:
    """Hold an advisory lock on the data directory: SQLite and the evidence store take one
    writer process; a second one is refused before it touches anything."""
    fd = os.open(data_dir / "bot.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirInUse(str(data_dir)) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


@asynccontextmanager
async def _open(settings: Settings, exports_dir: Path | None) -> AsyncIterator[Core]:
    content = Content.load(settings.content_dir)
    evidence = EvidenceStore(settings.evidence_dir)
    evidence.cleanup_temp()
    work_dir = settings.data_dir / "tmp"
    clear_directory(work_dir)  # a dossier cut short by a crash holds a user's files
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


def clear_directory(directory: Path) -> None:
    """Remove everything inside ``directory`` (left by an earlier run), keeping it."""
    if not directory.is_dir():
        return
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
