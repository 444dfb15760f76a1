"""Check a dossier against its manifest: ``python -m bot.verify dossier.zip`` (or all parts).

Every file in the ZIP(s) is hashed again and compared with ``manifest.json``: the exported
copy's SHA-256, and for copies that were not modified (plain copies, message texts) also the
SHA-256 recorded when the evidence was received. A redacted message text (private numbers
masked) cannot match its original's SHA-256: its copy must match ``sha256_redacted``. Files
missing from the ZIPs, files the manifest does not list, parts not given, and parts whose
manifests disagree are reported.
An empty list of problems means the dossier is exactly what the bot made.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

MANIFEST: Final = "manifest.json"
UNMODIFIED: Final = frozenset({"copy", "text"})
"""Export methods whose file must still have the hash recorded at receipt."""
_CHUNK: Final = 1 << 20
USAGE: Final = "usage: python -m bot verify DOSSIER.zip [DOSSIER-part2.zip ...]"


@dataclass(frozen=True, slots=True)
class Expected:
    """A file the manifest lists."""

    name: str
    sha256: str
    part: int
    original: str | None = None
    """The hash recorded at receipt, when the copy must equal the original."""
    label: str = ""


@dataclass
class _Found:
    manifest: dict[str, Any] | None = None
    parts: dict[int, Path] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def verify(zip_paths: Sequence[Path]) -> list[str]:
    """Return the differences between the ZIP(s) and the manifest; empty if they match."""
    return check(zip_paths)[0]


def check(zip_paths: Sequence[Path]) -> tuple[list[str], int]:
    """Return the differences and the number of files hashed."""
    found = _Found()
    for path in zip_paths:
        _read_zip(Path(path), found)
    if found.manifest is None:
        return [*found.problems, "no manifest.json found"], len(found.hashes)
    try:
        differences = _compare(found.manifest, found)
    except (KeyError, TypeError, ValueError, AttributeError):
        differences = ["manifest.json is not a dossier manifest (fields missing or malformed)"]
    return found.problems + differences, len(found.hashes)


def expected_files(manifest: dict[str, Any]) -> list[Expected]:
    """Return every file the manifest lists, evidence and documents."""
    files = [
        Expected(
            name=item["file"],
            sha256=item["sha256_exported"],
            part=int(item.get("part") or 1),
            original=item["sha256_original"] if item.get("export") in UNMODIFIED else None,
            label=f"evidence #{item['number']}",
        )
        for item in manifest.get("items", [])
        if item.get("file")
    ]
    files += [
        Expected(doc["file"], doc["sha256"], int(doc.get("part") or 1), label="document")
        for doc in manifest.get("documents", [])
    ]
    return files


def _read_zip(path: Path, found: _Found) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _load_json(archive, MANIFEST, path, found)
            if manifest is None:
                return
            part = _part_number(archive, manifest, path, found)
            if found.manifest is None:
                found.manifest = manifest
            elif manifest != found.manifest:
                found.problems.append(f"{path.name}: manifest.json differs from the other parts'")
            if part in found.parts:
                found.problems.append(f"{path.name}: part {part} given twice")
            found.parts[part] = path
            _hash_entries(archive, path, found)
    except (OSError, zipfile.BadZipFile) as error:
        found.problems.append(f"{path.name}: not a readable ZIP file ({error})")
    except (ValueError, TypeError, AttributeError):
        found.problems.append(f"{path.name}: its manifests are malformed")


def _load_json(
    archive: zipfile.ZipFile, name: str, path: Path, found: _Found
) -> dict[str, Any] | None:
    try:
        loaded = json.loads(archive.read(name).decode("utf-8"))
    except KeyError:
        found.problems.append(f"{path.name}: no {name}")
        return None
    except (ValueError, zipfile.BadZipFile) as error:
        found.problems.append(f"{path.name}: {name} is damaged ({error})")
        return None
    if not isinstance(loaded, dict):
        found.problems.append(f"{path.name}: {name} is not a manifest")
        return None
    return loaded


def _part_number(
    archive: zipfile.ZipFile, manifest: dict[str, Any], path: Path, found: _Found
) -> int:
    """Return the part a ZIP is (1 for an unsplit dossier); check its subset manifest."""
    subsets = [n for n in archive.namelist() if _is_part_manifest(n)]
    if int(manifest.get("parts", 1)) == 1:
        return 1
    if not subsets:
        found.problems.append(f"{path.name}: no manifest-partN.json in a split dossier")
        return 0
    subset = _load_json(archive, subsets[0], path, found)
    if subset is None:
        return 0
    part = int(subset.get("part", 0))
    own = [item for item in manifest.get("items", []) if item.get("part") == part]
    docs = [doc for doc in manifest.get("documents", []) if doc.get("part") == part]
    if subset.get("items") != own or subset.get("documents") != docs:
        found.problems.append(f"{path.name}: {subsets[0]} does not match manifest.json")
    return part


def _is_part_manifest(name: str) -> bool:
    return name.startswith("manifest-part") and name.endswith(".json")


def _hash_entries(archive: zipfile.ZipFile, path: Path, found: _Found) -> None:
    for info in archive.infolist():
        if info.is_dir() or info.filename == MANIFEST or _is_part_manifest(info.filename):
            continue
        if info.filename in found.hashes:
            found.problems.append(f"{info.filename}: more than once in the dossier")
        try:
            found.hashes[info.filename] = _hash_entry(archive, info)
        except (zipfile.BadZipFile, OSError) as error:
            found.hashes[info.filename] = ""
            found.problems.append(f"{info.filename}: damaged in {path.name} ({error})")


def _hash_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    digest = hashlib.sha256()
    with archive.open(info) as entry:
        for chunk in iter(lambda: entry.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _compare(manifest: dict[str, Any], found: _Found) -> list[str]:
    problems = list(_missing_parts(manifest, found)) + list(_redactions(manifest))
    expected = expected_files(manifest)
    listed = {file.name for file in expected}
    for file in expected:
        if file.part not in found.parts:
            continue  # reported with its part
        actual = found.hashes.get(file.name)
        if actual is None:
            problems.append(f"missing: {file.name} ({file.label})")
        elif actual and actual != file.sha256:
            problems.append(
                f"changed: {file.name} ({file.label}): SHA-256 {actual}, "
                f"manifest says {file.sha256}"
            )
        elif file.original is not None and file.sha256 != file.original:
            problems.append(
                f"changed: {file.name} ({file.label}) is listed as an unmodified "
                f"copy but differs from the SHA-256 recorded at receipt"
            )
    problems += [
        f"extra: {name} (not in the manifest)" for name in found.hashes if name not in listed
    ]
    return problems


def _redactions(manifest: dict[str, Any]) -> Iterator[str]:
    """A redacted text names its copy's fingerprint twice, and the spans it masked."""
    for item in manifest.get("items", []):
        if item.get("export") != "redacted" or not item.get("file"):
            continue
        if item.get("sha256_redacted") != item["sha256_exported"] or not item.get("masked"):
            yield f"{item['file']} (evidence #{item['number']}): redaction not described"


def _missing_parts(manifest: dict[str, Any], found: _Found) -> Iterator[str]:
    total = int(manifest.get("parts", 1))
    for part in range(1, total + 1):
        if part not in found.parts:
            yield f"part {part} of {total} not given (dossier-part{part}.zip): not checked"


def main(argv: Sequence[str]) -> int:
    """Verify the ZIPs named in ``argv`` (program name excluded); print the result.

    Returns 0 when everything matches, 1 when something differs, 2 on wrong usage.
    """
    if not argv or any(arg in ("-h", "--help") for arg in argv):
        print(USAGE)
        return 2
    paths = [Path(arg) for arg in argv]
    problems, files = check(paths)
    if problems:
        for problem in problems:
            print(problem)
        return 1
    print(f"OK: {files} files match the manifest")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
