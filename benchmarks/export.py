"""How long the dossier export takes, next to plain ``zip`` of the same files.

Run from the repository root: ``python -m benchmarks.export``. It makes 100 screenshots of
about 300 KB (half PNG, half JPEG with GPS EXIF to remove; random-ish content that does not
compress) once in a temporary folder, stores them through the EvidenceStore, then times, best
of three runs each: ``build_dossier`` (ZIP with metadata removal and hashing, thumbnails,
chart, PDF report, manifest) and the ``zip`` command (or, if it is missing, Python's zipfile
with the same deflate level 6) on the same files. Aim: the export within 3x of ``zip``.
"""

from __future__ import annotations

import asyncio
import io
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from PIL import Image

from bot.content import Content
from bot.dossier import build_dossier
from bot.evidence_store import EvidenceStore
from bot.render import Renderer
from dialogs import EvidenceKind, ForwardOrigin
from dialogs.case import Case, EvidenceItem, PlatformInfo, State

COUNT: Final = 100
TARGET_BYTES: Final = 300 * 1024
RUNS: Final = 3
NOW: Final = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
_SIZE: Final = (720, 1280)


def screenshot(rnd: random.Random, fmt: str) -> bytes:
    """A screenshot-sized picture, flat but for a noisy band sized to reach ~300 KB."""
    height = 40
    while True:
        data = _render(rnd, fmt, height)
        if len(data) >= TARGET_BYTES or height >= _SIZE[1]:
            return data
        height = min(_SIZE[1], int(height * max(1.05, (TARGET_BYTES / len(data)) ** 0.9)))


def _render(rnd: random.Random, fmt: str, height: int) -> bytes:
    image = Image.new("RGB", _SIZE, (rnd.randrange(200, 256), 245, 250))
    band = Image.frombytes("RGB", (_SIZE[0], height), rnd.randbytes(_SIZE[0] * height * 3))
    image.paste(band, (0, rnd.randrange(0, _SIZE[1] - height + 1)))
    out = io.BytesIO()
    if fmt == "JPEG":
        exif = Image.Exif()
        exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 54.0, 26.0)})
        image.save(out, format="JPEG", quality=80, exif=exif)
    else:
        image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


async def prepare(root: Path) -> tuple[Case, EvidenceStore, Path]:
    """Write the screenshots to ``root/files`` and store them; return the case."""
    rnd = random.Random(2026)
    files = root / "files"
    files.mkdir()
    store = EvidenceStore(root / "store")
    items = []
    for number in range(1, COUNT + 1):
        fmt = "PNG" if number % 2 else "JPEG"
        data = screenshot(rnd, fmt)
        path = files / f"shot{number:03d}.{fmt.lower()}"
        path.write_bytes(data)
        stored = await store.put_file(path)
        sent = NOW - timedelta(days=number % 20, hours=number)
        items.append(
            EvidenceItem(
                number=number,
                kind=EvidenceKind.SCREENSHOT,
                received_at=NOW - timedelta(minutes=COUNT - number),
                sha256=stored.sha256,
                size=stored.size,
                mime=f"image/{fmt.lower()}",
                forward=ForwardOrigin(kind="hidden_user", name="collector", date=sent),
            )
        )
    case = Case(
        number=1,
        state=State.REPORT,
        jurisdiction="cn",
        created_at=NOW - timedelta(days=30),
        updated_at=NOW,
        evidence=items,
        platform=PlatformInfo(name="QuickCash"),
    )
    return case, store, files


async def time_export(case: Case, store: EvidenceStore, out: Path) -> tuple[float, list[float]]:
    """Return the total time and the time at each progress step."""
    content = Content.load()
    renderer = Renderer(content)
    marks: list[float] = []
    started = time.perf_counter()

    async def progress(done: int, total: int) -> None:
        marks.append(time.perf_counter() - started)

    await build_dossier(
        case,
        lang="zh-Hans",
        store=store,
        renderer=renderer,
        content=content,
        now=NOW,
        out_dir=out,
        progress=progress,
    )
    return time.perf_counter() - started, marks


def time_zip(files: Path, target: Path) -> tuple[float, str]:
    """Time zipping the files the way a person would; return (seconds, what was used)."""
    target.unlink(missing_ok=True)
    command = shutil.which("zip")
    started = time.perf_counter()
    if command:
        subprocess.run([command, "-q", "-r", "-6", str(target), "."], cwd=files, check=True)
        return time.perf_counter() - started, "zip -q -r -6"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(files.iterdir()):
            archive.write(path, path.name)
    return time.perf_counter() - started, "zipfile (deflate 6)"


async def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        root = Path(tmp)
        case, store, files = await prepare(root)
        total_mb = sum(p.stat().st_size for p in files.iterdir()) / 1e6
        pngs = sum(1 for p in files.iterdir() if p.suffix == ".png")
        print(
            f"{COUNT} screenshots ({pngs} PNG, {COUNT - pngs} JPEG with EXIF), {total_mb:.1f} MB"
        )
        exports = [await time_export(case, store, root / f"out{n}") for n in range(RUNS)]
        zips = [time_zip(files, root / "plain.zip") for _ in range(RUNS)]
        best, marks = min(exports)
        zip_best = min(seconds for seconds, _ in zips)
        items = marks[COUNT] - marks[0]
        chart_pdf = marks[COUNT + 2] - marks[COUNT]
        print(f"dossier export:  {best:6.2f} s  (best of {RUNS}: {_list(e for e, _ in exports)})")
        print(f"  of which evidence to ZIP {items:.2f} s, chart + PDF report {chart_pdf:.2f} s")
        print(f"{zips[0][1]:<16} {zip_best:6.2f} s  (best of {RUNS}: {_list(s for s, _ in zips)})")
        print(f"ratio: {best / zip_best:.2f}x (aim <= 3x)")


def _list(values: Iterable[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> int:
    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
