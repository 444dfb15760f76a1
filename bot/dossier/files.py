"""One evidence item as it goes into the dossier: its file name and its exported bytes.

Everything here is blocking (reads the store, hashes, cleans images) and runs in a worker
thread. File names are ASCII on purpose (``001-screenshot-2026-11-02.png``): every unzip tool
shows them the same way, whatever the language of the case.

Message texts are exported redacted: every private number the privacy step found and the
user did not choose to show is masked in the copy (method ``"redacted"``), and the spans
masked are kept for the manifest. A text with nothing to hide is exported as it came.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from bot.dossier import images
from bot.dossier.redact import Box, redact_image
from bot.evidence_store import CHUNK_BYTES
from dialogs.case import EvidenceItem, Finding
from dialogs.events import EvidenceKind
from dialogs.numbers import Masked, redact

TEXT_KINDS: Final = frozenset({EvidenceKind.TEXT, EvidenceKind.CONTACT})
MAX_IMAGE_BYTES: Final = 64 * 1024 * 1024
"""Images larger than this are copied as they are rather than read into memory to clean."""
_EXTENSIONS: Final = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/heic": ".heic",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}
_FORMAT_EXTENSIONS: Final = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "gif": ".gif"}
_COMPRESSED_TYPES: Final = ("image/", "audio/", "video/", "application/zip")
_SAFE_SUFFIX: Final = re.compile(r"\.[A-Za-z0-9]{1,8}")


@dataclass(frozen=True, slots=True)
class Exported:
    """What the archive gets for one item: bytes in memory or a stored file, and their hash."""

    name: str
    sha256: str
    size: int
    method: str
    """"copy", "metadata_removed", "converted_to_png", "text" or "redacted"."""
    compress: bool
    """Whether deflating is worth it (not for images, audio, video)."""
    original_verified: bool
    """Whether the stored original still hashed to the hash recorded at receipt."""
    data: bytes | None = None
    path: Path | None = None
    image: bytes | None = None
    """The cleaned image, for the report's thumbnail (None if the item is no image)."""
    masked: tuple[Masked, ...] = ()
    """For a redacted text: the spans masked, (start, end, kind) in the original's characters."""
    boxes: tuple[Box, ...] = ()
    """For a redacted picture: the boxes painted over (bot/dossier/redact.py)."""


@dataclass(frozen=True, slots=True)
class Absent:
    """An item listed in the manifest without a file, and why."""

    reason: str
    """"not_downloaded" (too large to download), "missing" (not stored, or no text), or
    "too_large_for_part" (larger than a whole ZIP part may be)."""


def export_name(item: EvidenceItem, extension: str, width: int = 3) -> str:
    """Return ``NNN-kind-YYYY-MM-DD.ext`` for the item."""
    return f"{item.number:0{width}d}-{item.kind.value}-{received_date(item)}{extension}"


def received_date(item: EvidenceItem) -> str:
    return utc(item.received_at).date().isoformat()


def utc(moment: datetime) -> datetime:
    """Return an aware datetime in UTC (naive ones are taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def extension_for(item: EvidenceItem, sniffed: str | None = None) -> str:
    """Pick the file extension: the sniffed image format, the MIME type, the original name."""
    if item.kind in TEXT_KINDS:
        return ".txt"
    if sniffed in _FORMAT_EXTENSIONS:
        return _FORMAT_EXTENSIONS[sniffed]
    mime = (item.mime or "").split(";")[0].strip().lower()
    if mime:
        guessed = _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime, strict=False)
        if guessed:
            return guessed
    suffix = Path(item.file_name or "").suffix
    if _SAFE_SUFFIX.fullmatch(suffix):
        return suffix.lower()
    return ".bin"


def export_item(
    path: Path | None,
    item: EvidenceItem,
    width: int,
    findings: Sequence[Finding] = (),
    boxes: Sequence[Box] = (),
) -> Exported | Absent:
    """Produce the exported file of one item (blocking: run it in a thread) from its stored
    file at ``path`` (None if missing); a text has the ``findings`` the user did not choose to
    show masked, a picture the ``boxes`` where its reading found them painted over."""
    if item.kind in TEXT_KINDS and item.text is not None:
        return _export_text(item, width, findings)
    if item.too_large:
        return Absent("not_downloaded")
    if item.sha256 is None or path is None:
        return Absent("missing")
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(16)
    except FileNotFoundError:
        return Absent("missing")
    sniffed = images.sniff(head)
    if sniffed is not None and size <= MAX_IMAGE_BYTES:
        if boxes:
            return _export_redacted(item, path.read_bytes(), width, boxes)
        return _export_image(item, path.read_bytes(), sniffed, width)
    return _export_copy(item, path, width, compress=not _compressed(item, sniffed))


def _export_text(item: EvidenceItem, width: int, findings: Sequence[Finding]) -> Exported:
    original = hashlib.sha256((item.text or "").encode("utf-8")).hexdigest()
    redacted, masked = redact(item.text or "", findings)
    data = redacted.encode("utf-8")
    return Exported(
        name=export_name(item, ".txt", width),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        method="redacted" if masked else "text",
        compress=True,
        original_verified=item.sha256 in (None, original),
        data=data,
        masked=tuple(masked),
    )


def _export_image(item: EvidenceItem, data: bytes, sniffed: str, width: int) -> Exported:
    cleaned = images.clean_image(data, sniffed)
    original = hashlib.sha256(data).hexdigest()
    unchanged = cleaned.data == data
    extension = extension_for(item, cleaned.format if cleaned.format != "other" else None)
    return Exported(
        name=export_name(item, extension, width),
        sha256=original if unchanged else hashlib.sha256(cleaned.data).hexdigest(),
        size=len(cleaned.data),
        method="copy" if unchanged else cleaned.method,
        compress=False,
        original_verified=original == item.sha256,
        data=cleaned.data,
        image=cleaned.data,
    )


def _export_redacted(
    item: EvidenceItem, data: bytes, width: int, boxes: Sequence[Box]
) -> Exported:
    """The picture with private numbers painted over, as a new PNG; the original is not
    exported (its fingerprint is in the manifest)."""
    redacted = redact_image(data, boxes)
    return Exported(
        name=export_name(item, ".png", width),
        sha256=hashlib.sha256(redacted).hexdigest(),
        size=len(redacted),
        method="redacted",
        compress=False,
        original_verified=hashlib.sha256(data).hexdigest() == item.sha256,
        data=redacted,
        image=redacted,
        boxes=tuple(boxes),
    )


def _export_copy(item: EvidenceItem, path: Path, width: int, *, compress: bool) -> Exported:
    digest, size = hash_file(path)
    return Exported(
        name=export_name(item, extension_for(item), width),
        sha256=digest,
        size=size,
        method="copy",
        compress=compress,
        original_verified=digest == item.sha256,
        path=path,
    )


def _compressed(item: EvidenceItem, sniffed: str | None) -> bool:
    mime = (item.mime or "").lower()
    return (
        sniffed is not None
        or mime.startswith(_COMPRESSED_TYPES)
        or item.kind
        in (
            EvidenceKind.VOICE,
            EvidenceKind.AUDIO,
            EvidenceKind.VIDEO,
        )
    )


def hash_file(path: Path) -> tuple[str, int]:
    """Return the SHA-256 hex digest and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
