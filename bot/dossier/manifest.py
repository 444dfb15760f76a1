"""``manifest.json``: what every file of the dossier is, and the fingerprints to check it.

The manifest is for machines and for whoever checks the evidence: it records each item's
fingerprint as received, and timestamps in ISO 8601 UTC. It holds no private number the user
chose to hide: captions and forward origins are masked like the documents, and a redacted
message text is described by the fingerprint of its copy (``sha256_redacted``) and the spans
masked (``masked``: character offsets in the original and the kind of number, never the
value). It names the key that signs it (``signer``: ``manifest.sig`` beside it is the
signature of its exact bytes, see ``bot.signing``) and, for each image, whether the report
shows a thumbnail of it. ``bot.verify`` reads it back; the format is versioned.
"""

from __future__ import annotations

import importlib.metadata
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from bot.dossier.files import Absent, Exported, utc
from dialogs.case import Case, EvidenceItem, Finding
from dialogs.numbers import mask_text, redact

FORMAT: Final = "harassment-report-bot dossier manifest 2"
"""Version 2 added ``signer`` (and ``manifest.sig``) and each image's ``thumbnail``."""
MANIFEST: Final = "manifest.json"
PACKAGE: Final = "harassment-report-bot"
NOTE_EN: Final = (
    "sha256_original is the SHA-256 fingerprint the bot computed when it received each item, "
    "before anything else was done with it (for message texts: of the text encoded as UTF-8). "
    "sha256_exported is the fingerprint of the file in this archive. They are equal when the "
    "file is an unmodified copy. For images the bot removed metadata (EXIF: GPS position, "
    "camera, times; XMP; comments) to protect the victim's privacy; the pixels are unchanged "
    "and the untouched original, with the recorded fingerprint, stays in the bot's evidence "
    "store. original_verified tells whether the stored original still had the recorded "
    "fingerprint when this dossier was made. Items without a file were not downloaded (too "
    "large) or could not be included; they are listed all the same. Message texts that hold "
    "private numbers the victim chose to hide are exported redacted (export: redacted): "
    "sha256_original is still the fingerprint of the text as received, sha256_redacted that "
    "of the redacted copy in this archive, and masked lists the spans hidden (start and end "
    "as character offsets in the original text, and the kind of number), never the numbers. "
    "thumbnail tells, for each image, whether the PDF report shows a preview of it: made, "
    "too_large (decoding it would take more memory than the bot allows, as with a "
    "decompression bomb; the file is in the archive all the same) or unreadable. signer is "
    "the Ed25519 public key of the installation that made this dossier and its fingerprint "
    "(SHA-256 of the raw key); manifest.sig is its signature of the exact bytes of this file. "
    "A valid signature shows that this installation made the manifest and that nothing it "
    "lists changed since; it does not show that the evidence is true, and it identifies the "
    "installation only if the fingerprint matches the one its operator published."
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """An item and what happened to it in the export."""

    item: EvidenceItem
    result: Exported | Absent
    part: int | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A document of the dossier (complaints, index, report) and its fingerprint."""

    name: str
    sha256: str
    size: int
    part: int


def manifest_name(part: int) -> str:
    return f"manifest-part{part}.json"


def tool_version() -> str:
    """Return the installed package version, else the one in pyproject.toml."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        try:
            with pyproject.open("rb") as file:
                return str(tomllib.load(file)["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def build_manifest(
    case: Case,
    *,
    lang: str,
    note: str,
    now: datetime,
    outcomes: Sequence[Outcome],
    documents: Sequence[Document],
    parts: int,
    findings: Sequence[Finding] = (),
    previews: Mapping[int, str] | None = None,
    signer: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the full manifest of the dossier; ``findings`` are masked in what it quotes.

    ``previews`` gives each image's thumbnail status by evidence number; ``signer`` the
    public key that signs the manifest (``Signer.describe()``)."""
    previews = previews or {}
    return {
        "format": FORMAT,
        "tool": {"name": PACKAGE, "version": tool_version()},
        "case": {
            "number": case.number,
            "jurisdiction": case.jurisdiction,
            "created_at": _time(case.created_at),
            "updated_at": _time(case.updated_at),
        },
        "language": lang,
        "exported_at": _time(now),
        "hash_algorithm": "SHA-256",
        "note": {"en": NOTE_EN, lang: note} if lang != "en" else {"en": NOTE_EN},
        "parts": parts,
        "signer": dict(signer) if signer else None,
        "items": [
            item_entry(outcome, findings, previews.get(outcome.item.number))
            for outcome in outcomes
        ],
        "documents": [document_entry(document) for document in documents],
    }


def part_manifest(manifest: dict[str, Any], part: int) -> dict[str, Any]:
    """Return the subset of the manifest for the files of one part."""
    subset = {key: value for key, value in manifest.items() if key not in ("items", "documents")}
    subset["part"] = part
    subset["items"] = [item for item in manifest["items"] if item["part"] == part]
    subset["documents"] = [doc for doc in manifest["documents"] if doc["part"] == part]
    return subset


def encode(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def item_entry(
    outcome: Outcome, findings: Sequence[Finding] = (), preview: str | None = None
) -> dict[str, Any]:
    item, result = outcome.item, outcome.result
    exported = result if isinstance(result, Exported) else None
    export = result.method if isinstance(result, Exported) else result.reason

    def safe(text: str | None) -> str | None:
        return mask_text(text, findings) if text else text

    origin = item.forward
    entry: dict[str, Any] = {
        "number": item.number,
        "kind": item.kind.value,
        "mime": item.mime,
        "size": item.size,
        "original_name": item.file_name,
        "sha256_original": item.sha256,
        "file": exported.name if exported else None,
        "part": outcome.part if exported else None,
        "sha256_exported": exported.sha256 if exported else None,
        "size_exported": exported.size if exported else None,
        "export": export,
        "original_verified": exported.original_verified if exported else None,
        "received_at": _time(item.received_at),
        "forwarded_from": None
        if origin is None
        else {
            "kind": origin.kind,
            "name": safe(origin.name),
            "username": safe(origin.username),
            "sender_id": origin.sender_id,
            "date": _time(origin.date) if origin.date else None,
            "frequently_forwarded": origin.frequently,
        },
        "caption": safe(item.caption),
        "album_id": item.album_id,
    }
    if preview is not None:
        entry["thumbnail"] = preview
    if exported is not None and exported.method == "redacted":
        entry["sha256_redacted"] = exported.sha256
        if exported.boxes:
            entry["redacted_boxes"] = [list(box) for box in exported.boxes]
        else:
            entry["masked"] = [{"start": s, "end": e, "kind": k} for s, e, k in exported.masked]
    return entry


def document_entry(document: Document) -> dict[str, Any]:
    return {
        "file": document.name,
        "sha256": document.sha256,
        "size": document.size,
        "part": document.part,
    }


def reserve_for(
    case: Case,
    names: Iterable[str],
    *,
    note: str,
    findings: Sequence[Finding] = (),
    boxes: Mapping[int, Sequence[Sequence[int]]] | None = None,
) -> int:
    """Return an upper bound of the bytes the two manifests take in a part."""
    boxes = boxes or {}
    draft = {
        "note": [NOTE_EN, note],
        "signer": {"algorithm": "Ed25519", "public_key": "0" * 44, "fingerprint": "0" * 79},
        "items": [
            _draft_item(item, findings, len(boxes.get(item.number, ()))) for item in case.evidence
        ],
        "documents": [{"file": name, "sha256": "0" * 64, "size": 10**12} for name in names],
    }
    # The full manifest and a part's subset, raw (they are stored deflated), plus headers and
    # the fixed fields; then the signature (64 bytes, its headers).
    return 2 * (len(encode(draft)) + 4096) + 512


def _draft_item(item: EvidenceItem, findings: Sequence[Finding], boxes: int = 0) -> dict[str, Any]:
    entry = item_entry(Outcome(item, Absent("too_large_for_part")))  # captions unmasked: longer
    entry.update(file="0" * 48, part=10**6, sha256_exported="0" * 64, size_exported=10**12)
    entry["thumbnail"] = "unreadable"
    if boxes:
        entry["sha256_redacted"] = "0" * 64
        entry["redacted_boxes"] = [[10**6] * 4] * boxes
    masked = redact(item.text or "", findings)[1]
    if masked:
        entry["sha256_redacted"] = "0" * 64
        entry["masked"] = [{"start": 10**9, "end": 10**9, "kind": k} for _, _, k in masked]
    return entry


def _time(moment: datetime) -> str:
    return utc(moment).isoformat()
