"""ZIP parts under a size limit, each closed with the manifest(s).

All parts stay open while the evidence is added, because every part ends with the full
``manifest.json`` and that is only known at the end. Sizes are counted with upper bounds
(headers, central directory, deflate's worst case), so a part never exceeds its limit. The
methods block and are called from worker threads, one at a time.
"""

from __future__ import annotations

import contextlib
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

_ENTRY_OVERHEAD: Final = 30 + 46 + 20 + 28
"""Local header + central directory entry + zip64/extra fields, without the name."""
_END_RECORDS: Final = 22 + 56 + 20
_COPY_BUFFER: Final = 1 << 20

Stamp = tuple[int, int, int, int, int, int]
"""A ZIP entry's modification time: year, month, day, hour, minute, second (UTC here)."""


class PartTooSmall(ValueError):
    """The size limit cannot even hold the documents and the manifests."""


def entry_bound(name: str, size: int, *, compress: bool) -> int:
    """Return the most bytes an entry can take in a ZIP (with its central directory entry)."""
    body = size + size // 1000 + 64 if compress else size
    return _ENTRY_OVERHEAD + 2 * len(name.encode("utf-8")) + body


@dataclass
class _Part:
    number: int
    path: Path
    zip: zipfile.ZipFile
    used: int = _END_RECORDS
    names: list[str] = field(default_factory=list)


class PartWriter:
    """Writes entries into ``dossier.zip`` or ``dossier-part1.zip``, ``-part2``... in ``work``."""

    def __init__(self, work: Path, max_bytes: int, reserve: int) -> None:
        self.work = work
        self.max_bytes = max_bytes
        self.reserve = reserve
        """Bytes kept free in every part for the manifests written at the end."""
        self.parts: list[_Part] = []

    def fits_alone(self, name: str, size: int, *, compress: bool) -> bool:
        """Return whether the entry fits in an otherwise empty part."""
        bound = entry_bound(name, size, compress=compress)
        return _END_RECORDS + self.reserve + bound <= self.max_bytes

    def add_bytes(self, name: str, data: bytes, when: Stamp, *, compress: bool) -> int:
        """Add an entry from memory; return the number of the part it went into."""
        part = self._part_for(entry_bound(name, len(data), compress=compress))
        part.zip.writestr(_info(name, when, compress=compress), data)
        part.names.append(name)
        return part.number

    def add_file(self, name: str, path: Path, size: int, when: Stamp, *, compress: bool) -> int:
        """Add an entry copied from a file; return the number of the part it went into."""
        part = self._part_for(entry_bound(name, size, compress=compress))
        with (
            path.open("rb") as source,
            part.zip.open(
                _info(name, when, compress=compress), "w", force_zip64=size >= 1 << 31
            ) as target,
        ):
            shutil.copyfileobj(source, target, _COPY_BUFFER)
        part.names.append(name)
        return part.number

    def add_last(self, name: str, data: bytes, when: Stamp, *, compress: bool) -> int | None:
        """Add an entry after all others (the report): in the last part if it fits, else in a
        new one; None if it does not fit even in an empty part (it is then left out)."""
        bound = entry_bound(name, len(data), compress=compress)
        if not self.fits_alone(name, len(data), compress=compress):
            return None
        if not self.parts or self.parts[-1].used + bound + self.reserve > self.max_bytes:
            self._new_part()
        part = self.parts[-1]
        part.used += bound
        part.zip.writestr(_info(name, when, compress=compress), data)
        part.names.append(name)
        return part.number

    def finish(self, manifests: dict[int, list[tuple[str, bytes]]], when: Stamp) -> list[Path]:
        """Write each part's manifest files, close every part, return the paths in order.

        A dossier of one part is renamed to plain ``dossier.zip``.
        """
        for part in self.parts:
            for name, data in manifests.get(part.number, []):
                part.zip.writestr(_info(name, when, compress=True), data)
            part.zip.close()
        if len(self.parts) == 1:
            single = self.work / "dossier.zip"
            self.parts[0].path.rename(single)
            self.parts[0].path = single
        return [part.path for part in self.parts]

    def close(self) -> None:
        """Close every part without finishing it (on failure)."""
        for part in self.parts:
            with contextlib.suppress(Exception):  # a worker may still hold an entry open
                part.zip.close()

    def _part_for(self, bound: int) -> _Part:
        if not self.parts or self.parts[-1].used + bound + self.reserve > self.max_bytes:
            part = self._new_part()
            if part.used + bound + self.reserve > self.max_bytes:
                raise PartTooSmall(f"{self.max_bytes} bytes cannot hold an entry and manifests")
        part = self.parts[-1]
        part.used += bound
        return part

    def _new_part(self) -> _Part:
        number = len(self.parts) + 1
        path = self.work / f"dossier-part{number}.zip"
        part = _Part(number, path, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED))
        self.parts.append(part)
        return part


def stamp(moment: datetime) -> Stamp:
    """Return the ZIP time of an aware datetime, in UTC (ZIP times have no zone)."""
    t = moment.astimezone(UTC) if moment.tzinfo else moment
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second)


def _info(name: str, when: Stamp, *, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16
    return info
