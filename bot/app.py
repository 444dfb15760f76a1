"""Wiring: build the shared core from settings, and open and close what it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.content import Content
from bot.core import Core
from bot.evidence_store import EvidenceStore
from bot.settings import Settings
from bot.storage import Storage


@asynccontextmanager
async def open_core(settings: Settings) -> AsyncIterator[Core]:
    """Open the storage and the evidence store and yield the core; close them after."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    content = Content.load(settings.content_dir)
    evidence = EvidenceStore(settings.evidence_dir)
    evidence.cleanup_temp()
    async with await Storage.open(settings.database_path) as storage:
        yield Core(
            content=content,
            storage=storage,
            evidence=evidence,
            max_download_bytes=settings.max_download_bytes,
            retention_days=settings.retention_days,
            work_dir=settings.data_dir / "tmp",
        )
