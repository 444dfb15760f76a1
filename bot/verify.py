"""Check a dossier against its manifest and signature: ``python -m bot verify dossier.zip``.

Every file in the ZIP(s) is hashed again and compared with ``manifest.json``: the exported
copy's SHA-256, and for copies that were not modified (plain copies, message texts) also the
SHA-256 recorded when the evidence was received. A redacted message text (private numbers
masked) cannot match its original's SHA-256: its copy must match ``sha256_redacted``. Files
missing from the ZIPs, files the manifest does not list, parts not given, and parts whose
manifests disagree are reported. Then the signature (``manifest.sig``, see ``bot.signing``)
is checked against the key the manifest names, and that key's fingerprint is printed: it
says who made the dossier only when it matches the one the operator published (``--key``
checks that too). No problem means the dossier is exactly what that installation made.

A dossier comes from anyone, so nothing it says is trusted before it is checked: the path
must be a regular file (a FIFO or a device is refused before anything is read), the ZIP may
hold at most ``MAX_MEMBERS`` entries, each stored or deflated, none encrypted, none over
``MAX_MEMBER_BYTES``; a manifest is read only up to ``MAX_MANIFEST_BYTES`` and
``MAX_JSON_DEPTH`` levels, must name at most ``MAX_PARTS`` parts, and is checked field by
field before use; files are hashed as streams. Anything that cannot be checked at all is
answered with one line (``Unreadable``) and exit status 2; differences are listed, one a
line, with exit status 1.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import itertools
import json
import os
import re
import stat
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, NoReturn, TypeGuard

from bot.signing import (
    ALGORITHM,
    PUBLIC_KEY_BYTES,
    SIGNATURE_FILE,
    fingerprint,
    public_key_from_pem,
    signature_valid,
)

MANIFEST: Final = "manifest.json"
FORMAT_PREFIX: Final = "harassment-report-bot dossier manifest "
UNMODIFIED: Final = frozenset({"copy", "text"})
"""Export methods whose file must still have the hash recorded at receipt."""
MAX_MANIFEST_BYTES: Final = 32 * 1024 * 1024
"""About 40,000 evidence items; the bot's own manifests are far smaller."""
MAX_JSON_DEPTH: Final = 32
"""A manifest is 5 levels deep."""
MAX_PARTS: Final = 1000
MAX_MEMBERS: Final = 100_000
"""Entries in one ZIP: zipfile keeps a few hundred bytes for each before anything is read."""
MAX_MEMBER_BYTES: Final = 4 * 1024**3
MAX_ZIP_CONTENT: Final = 16 * 1024**3
"""All entries of one ZIP, uncompressed: what hashing it may cost."""
_MAX_SMALL_FILE: Final = 64 * 1024
"""``manifest.sig`` (64 bytes) and a PEM public key given with ``--key``."""
_CHUNK: Final = 1 << 20
_ZIP_ERRORS: Final = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError,
    ValueError,
)  # fmt: skip
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS: Final = bytes(c for c in range(256) if c not in b"[]{}")
_DEPTH_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_HEX64: Final = re.compile(r"[0-9a-f]{64}")


class Unreadable(Exception):
    """The input cannot be checked at all; the message is one line saying why."""


@dataclass(frozen=True, slots=True)
class Expected:
    """A file the manifest lists."""

    name: str
    sha256: str
    part: int
    original: str | None = None
    """The hash recorded at receipt, when the copy must equal the original."""
    label: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    problems: list[str]
    files: int
    """How many files were hashed."""
    signer: str | None
    """The fingerprint of the key whose signature is valid, if it is."""


@dataclass
class _Found:
    manifest: dict[str, Any] | None = None
    raw: bytes | None = None
    """The exact bytes of ``manifest.json`` (the same in every part)."""
    signature: bytes | None = None
    unsigned: list[str] = field(default_factory=list)
    parts: dict[int, Path] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def verify(zip_paths: Sequence[Path], key: bytes | None = None) -> list[str]:
    """Return the differences between the ZIP(s) and the manifest; empty if they match.

    Raises ``Unreadable`` for input that cannot be checked at all."""
    return check(zip_paths, key).problems


def check(zip_paths: Sequence[Path], key: bytes | None = None) -> Report:
    """Check the ZIP(s); ``key`` is the raw public key the signature must be made with."""
    if not 1 <= len(zip_paths) <= MAX_PARTS:
        raise Unreadable(f"{len(zip_paths)} files given; a dossier has 1 to {MAX_PARTS} parts")
    found = _Found()
    for path in zip_paths:
        _read_zip(Path(path), found)
    assert found.manifest is not None  # else _read_zip raised
    problems = _signature(found, key)
    public = _public_key(found.manifest)
    signer = fingerprint(public) if public is not None and not problems else None
    problems += found.problems + _compare(found.manifest, found)
    return Report(problems, len(found.hashes), signer)


def expected_files(manifest: dict[str, Any]) -> list[Expected]:
    """Return every file a (validated) manifest lists, evidence and documents."""
    files = [
        Expected(
            name=item["file"],
            sha256=item["sha256_exported"],
            part=item["part"],
            original=item.get("sha256_original") if item.get("export") in UNMODIFIED else None,
            label=f"evidence #{item['number']}",
        )
        for item in manifest["items"]
        if item.get("file") is not None
    ]
    files += [
        Expected(doc["file"], doc["sha256"], doc["part"], label="document")
        for doc in manifest["documents"]
    ]
    return files


# -- reading, within limits ------------------------------------------------------------------


def _read_zip(path: Path, found: _Found) -> None:
    with _open_regular(path) as file:
        _check_entry_count(path, file)
        try:
            archive = zipfile.ZipFile(file)
        except _ZIP_ERRORS as error:
            raise Unreadable(f"{path}: not a readable ZIP file ({error})") from None
        with archive:
            _check_members(path, archive)
            raw = _read_small(archive, MANIFEST, MAX_MANIFEST_BYTES, path)
            if raw is None:
                raise Unreadable(f"{path}: no {MANIFEST} in it: not a dossier")
            manifest = _load_json(raw, f"{path}: {MANIFEST}")
            _validate(manifest, f"{path}: {MANIFEST}")
            signature = _read_small(archive, SIGNATURE_FILE, _MAX_SMALL_FILE, path)
            if found.raw is None:
                found.manifest, found.raw, found.signature = manifest, raw, signature
            elif raw != found.raw:
                found.problems.append(f"{path.name}: {MANIFEST} differs from the other parts'")
            elif signature != found.signature and signature is not None:
                found.problems.append(f"{path.name}: {SIGNATURE_FILE} differs from the others'")
            if signature is None:
                found.unsigned.append(path.name)
            part = _part_number(archive, manifest, path, found)
            if part in found.parts:
                found.problems.append(f"{path.name}: part {part} given twice")
            found.parts[part] = path
            _hash_entries(archive, path, found)


@contextmanager
def _open_regular(path: Path) -> Iterator[IO[bytes]]:
    """Open a regular file for reading; refuse anything else without waiting on it."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking: opening a FIFO does not wait for a writer
    except FileNotFoundError:
        raise Unreadable(f"{path}: no such file") from None
    except OSError as error:
        raise Unreadable(f"{path}: cannot be opened ({error.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
            raise Unreadable(f"{path}: {kind}, not a regular file: refused")
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        yield file


def _check_entry_count(path: Path, file: IO[bytes]) -> None:
    """Refuse a ZIP whose end record declares too many entries, before zipfile reads them."""
    size = file.seek(0, os.SEEK_END)
    tail_size = min(size, 22 + 0xFFFF)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        raise Unreadable(f"{path}: not a ZIP file")
    entries = int.from_bytes(tail[end + 10 : end + 12], "little")
    locator = tail[end - 20 : end] if end >= 20 else b""
    if entries == 0xFFFF and locator[:4] == b"PK\x06\x07":  # ZIP64: its own end record
        file.seek(int.from_bytes(locator[8:16], "little"))
        record = file.read(56)
        if record[:4] == b"PK\x06\x06":
            entries = int.from_bytes(record[32:40], "little")
    if entries > MAX_MEMBERS:
        raise Unreadable(f"{path}: {entries} entries; a dossier has at most {MAX_MEMBERS}")
    file.seek(0)


def _check_members(path: Path, archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise Unreadable(f"{path}: {len(infos)} entries; a dossier has at most {MAX_MEMBERS}")
    names: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:
            raise Unreadable(f"{path}: {name} is encrypted; the bot never encrypts an entry")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Unreadable(
                f"{path}: {name} uses compression method {info.compress_type}; "
                "a dossier uses only stored (0) or deflated (8) entries"
            )
        if info.file_size > MAX_MEMBER_BYTES:
            raise Unreadable(
                f"{path}: {name} claims {info.file_size} bytes; at most {MAX_MEMBER_BYTES}"
            )
        if name in names:
            raise Unreadable(f"{path}: {name} is in it twice")
        names.add(name)
        total += info.file_size
    if total > MAX_ZIP_CONTENT:
        raise Unreadable(f"{path}: its entries claim {total} bytes; at most {MAX_ZIP_CONTENT}")


def _read_small(archive: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytes | None:
    """Return a whole entry of at most ``limit`` bytes; None if there is no such entry."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise Unreadable(f"{path}: {name} claims {info.file_size} bytes; at most {limit}")
    try:
        with archive.open(info) as entry:
            return entry.read(limit + 1)  # zipfile stops at the size declared (<= limit)
    except _ZIP_ERRORS as error:
        raise Unreadable(f"{path}: {name} is damaged ({error})") from None


def _load_json(raw: bytes, what: str) -> dict[str, Any]:
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        raise Unreadable(
            f"{what} is nested {depth} levels deep; a manifest is at most {MAX_JSON_DEPTH}"
        )
    try:
        loaded = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:  # also big integers, bad UTF-8
        raise Unreadable(f"{what} is not valid JSON ({error})") from None
    if not isinstance(loaded, dict):
        raise Unreadable(f"{what} is not a JSON object: not a dossier manifest")
    return loaded


def json_depth(raw: bytes) -> int:
    """Return how deeply arrays and objects nest in a JSON text (strings skipped)."""
    brackets = _STRING.sub(b"", raw).translate(None, delete=_NOT_BRACKETS)
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _validate(manifest: dict[str, Any], what: str) -> None:
    """Check every field the verification reads; raise Unreadable at the first wrong one."""

    def fail(detail: str) -> NoReturn:
        raise Unreadable(f"{what} is not a dossier manifest: {detail}")

    form = manifest.get("format")
    if not isinstance(form, str) or not form.startswith(FORMAT_PREFIX):
        fail('"format" is not that of a dossier manifest')
    parts = manifest.get("parts")
    if not _whole(parts) or not 1 <= parts <= MAX_PARTS:
        fail(f'"parts" must be a whole number from 1 to {MAX_PARTS}')
    items, documents = manifest.get("items"), manifest.get("documents")
    if not isinstance(items, list) or not isinstance(documents, list):
        fail('"items" and "documents" must be lists')
    if not documents:
        fail("it lists no documents")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not _whole(item.get("number")):
            fail(f"items[{index}] has no evidence number")
        if not isinstance(item.get("export"), str):
            fail(f'items[{index}]: "export" must be text')
        if not all(_optional_text(item.get(key)) for key in ("sha256_original", "file")):
            fail(f'items[{index}]: "sha256_original" and "file" must be text or null')
        if item.get("file") is not None:
            _check_file(item, "sha256_exported", parts, f"items[{index}]", fail)
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict) or not isinstance(doc.get("file"), str):
            fail(f'documents[{index}] has no "file"')
        _check_file(doc, "sha256", parts, f"documents[{index}]", fail)


def _check_file(
    entry: dict[str, Any], hash_key: str, parts: int, where: str, fail: Callable[[str], NoReturn]
) -> None:
    if not isinstance(entry.get(hash_key), str) or not _HEX64.fullmatch(entry[hash_key]):
        fail(f'{where}: "{hash_key}" must be a SHA-256 in hex')
    part = entry.get("part")
    if not _whole(part) or not 1 <= part <= parts:
        fail(f'{where}: "part" must be a whole number from 1 to {parts}')


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _part_number(
    archive: zipfile.ZipFile, manifest: dict[str, Any], path: Path, found: _Found
) -> int:
    """Return the part a ZIP is (1 for an unsplit dossier); check its subset manifest."""
    if manifest["parts"] == 1:
        return 1
    subsets = [n for n in archive.namelist() if _is_part_manifest(n)]
    if len(subsets) != 1:
        found.problems.append(f"{path.name}: not one manifest-partN.json in a split dossier")
        return 0
    raw = _read_small(archive, subsets[0], MAX_MANIFEST_BYTES, path)
    assert raw is not None
    subset = _load_json(raw, f"{path}: {subsets[0]}")
    part = subset.get("part")
    if not _whole(part) or not 1 <= part <= manifest["parts"]:
        raise Unreadable(f"{path}: {subsets[0]} names no part from 1 to {manifest['parts']}")
    own = [item for item in manifest["items"] if item.get("part") == part]
    docs = [doc for doc in manifest["documents"] if doc["part"] == part]
    if subset.get("items") != own or subset.get("documents") != docs:
        found.problems.append(f"{path.name}: {subsets[0]} does not match {MANIFEST}")
    return part


def _is_part_manifest(name: str) -> bool:
    return name.startswith("manifest-part") and name.endswith(".json")


def _hash_entries(archive: zipfile.ZipFile, path: Path, found: _Found) -> None:
    for info in archive.infolist():
        name = info.filename
        if info.is_dir() or name in (MANIFEST, SIGNATURE_FILE) or _is_part_manifest(name):
            continue
        if name in found.hashes:
            found.problems.append(f"{name}: more than once in the dossier")
        try:
            found.hashes[name] = _hash_entry(archive, info)
        except _ZIP_ERRORS as error:
            found.hashes[name] = ""
            found.problems.append(f"{name}: damaged in {path.name} ({error})")


def _hash_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    digest = hashlib.sha256()
    with archive.open(info) as entry:
        for chunk in iter(lambda: entry.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- what is checked -------------------------------------------------------------------------


def _signature(found: _Found, key: bytes | None) -> list[str]:
    """Return the signature's problems (none if it is valid, and by ``key`` if given)."""
    assert found.manifest is not None and found.raw is not None
    if found.signature is None:
        return [f"signature: none ({SIGNATURE_FILE} missing): anyone could have made it"]
    problems = [f"signature: {name} has no {SIGNATURE_FILE}" for name in found.unsigned]
    public = _public_key(found.manifest)
    if public is None:
        return [*problems, f"signature: {MANIFEST} names no {ALGORITHM} key to check it with"]
    if not signature_valid(public, found.raw, found.signature):
        return [
            *problems,
            f"signature: INVALID: {MANIFEST} is not what the key {fingerprint(public)} signed "
            "(changed after signing, or the signature was replaced)",
        ]
    if key is not None and public != key:
        problems.append(
            f"signature: made by the key {fingerprint(public)}, not by the key given "
            f"({fingerprint(key)})"
        )
    return problems


def _public_key(manifest: dict[str, Any]) -> bytes | None:
    signer = manifest.get("signer")
    if not isinstance(signer, dict) or signer.get("algorithm") != ALGORITHM:
        return None
    try:
        public = base64.b64decode(str(signer.get("public_key")), validate=True)
    except (binascii.Error, ValueError):
        return None
    return public if len(public) == PUBLIC_KEY_BYTES else None


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
    for item in manifest["items"]:
        if item.get("export") != "redacted" or not item.get("file"):
            continue
        if item.get("sha256_redacted") != item["sha256_exported"] or not item.get("masked"):
            yield f"{item['file']} (evidence #{item['number']}): redaction not described"


def _missing_parts(manifest: dict[str, Any], found: _Found) -> Iterator[str]:
    total = manifest["parts"]
    for part in range(1, total + 1):
        if part not in found.parts:
            yield f"part {part} of {total} not given (dossier-part{part}.zip): not checked"


# -- the command -----------------------------------------------------------------------------


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot verify",
        description="Check an evidence dossier against its manifest and its signature. "
        "Exit status: 0 all match, 1 something differs, 2 the input cannot be checked.",
    )
    parser.add_argument(
        "zips", nargs="+", type=Path, metavar="DOSSIER.zip",
        help="the dossier, or all its parts (dossier-part1.zip dossier-part2.zip ...)",
    )  # fmt: skip
    parser.add_argument(
        "--key", type=Path, metavar="PUBLIC_KEY.pem",
        help="the public key the bot's operator published (python -m bot key): "
        "the signature must be made with it",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str]) -> int:
    """Verify the ZIPs named in ``argv`` (program name excluded); print the result.

    Returns 0 when everything matches, 1 when something differs, 2 when the input cannot
    be checked (one line on stderr says why) or on wrong usage.
    """
    try:
        args = _arguments().parse_args(list(argv))
    except SystemExit as exit_:  # --help (0) or wrong usage (2): argparse has printed it
        return int(exit_.code or 0)
    try:
        key = _read_key(args.key) if args.key is not None else None
        report = check(args.zips, key)
    except Unreadable as error:
        print(one_line(str(error)), file=sys.stderr)
        return 2
    if report.problems:
        for problem in report.problems:
            print(one_line(problem))
        return 1
    print(f"OK: {report.files} files match the manifest")
    whose = "the key given" if key is not None else "the key"
    print(f"Signed by {whose} with fingerprint {report.signer}")
    if key is None:
        print("Compare this fingerprint with the one the bot's operator published.")
    return 0


def _read_key(path: Path) -> bytes:
    with _open_regular(path) as file:
        pem = file.read(_MAX_SMALL_FILE + 1)
    try:
        return public_key_from_pem(pem)
    except ValueError as error:
        raise Unreadable(f"{path}: {error}") from None


def one_line(text: str, limit: int = 500) -> str:
    """Return ``text`` on one line of printable characters (names in a ZIP can hold any)."""
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
