"""Peak memory of a dossier export with huge images: ``python -m benchmarks.export_memory``.

Issue 11 measured 1.5 GB for an export of four 13000×13000 PNGs (518 KB each: one colour, so
they compress about 1000:1) and asked for under 300 MB. This script writes such PNGs (row by
row, so the script itself never holds one decoded), stores them through the EvidenceStore and
builds the dossier in a fresh Python process of its own, which reports its peak resident
memory (``ru_maxrss``) before the build (after the imports) and after it. It does the same
for a case without images, to show what the imports and the report cost by themselves, and
for the 54-byte BMP whose header claims 40000×40000 pixels beside the four PNGs, and for
four PNGs just small enough to be decoded for their thumbnails (the worst case the limits
allow: ``bot.dossier.images.DECODE_BUDGET``).

Options: ``--size N`` (pixels a side, 13000), ``--count N`` (images, 4). Figures vary a little
from run to run (the allocator); the limit of interest is the peak of the build process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import struct
import subprocess
import sys
import tempfile
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

NOW: Final = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BOMB_BMP: Final = (
    b"BM"
    + struct.pack("<IHHI", 54, 0, 0, 54)
    # BITMAPINFOHEADER: 40000×40000, 24 bits, no compression, no pixels follow
    + struct.pack("<IiiHHIIiiII", 40, 40000, 40000, 1, 24, 0, 0, 2835, 2835, 0, 0)
)
"""A 54-byte BMP whose header claims 40000×40000 pixels (1.6 gigapixels)."""


def solid_png(side: int, colour: tuple[int, int, int]) -> bytes:
    """Return a side×side RGB PNG of one colour, compressed row by row."""
    row = b"\x00" + bytes(colour) * side  # filter type 0, then the pixels
    packer = zlib.compressobj(9)
    chunks = [packer.compress(row) for _ in range(side)]
    idat = b"".join(chunks) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def _child(root: Path, scenario: str) -> dict[str, float | int | str]:
    """Build the dossier of the stored case (in the process this runs in)."""
    from bot.content import Content
    from bot.dossier import build_dossier
    from bot.evidence_store import EvidenceStore
    from bot.render import Renderer
    from dialogs import EvidenceKind
    from dialogs.case import Case, EvidenceItem, PlatformInfo, State

    spec = json.loads((root / f"{scenario}.json").read_text())
    store = EvidenceStore(root / "store")
    items = [
        EvidenceItem(
            number=number,
            kind=EvidenceKind.DOCUMENT,
            received_at=NOW - timedelta(minutes=10 - number),
            sha256=entry["sha256"],
            size=entry["size"],
            mime=entry["mime"],
        )
        for number, entry in enumerate(spec, start=1)
    ]
    case = Case(
        number=1, state=State.REPORT, jurisdiction="cn", created_at=NOW - timedelta(days=3),
        updated_at=NOW, evidence=items, platform=PlatformInfo(name="QuickCash"),
    )  # fmt: skip
    content = Content.load()
    before = _peak_mib()
    dossier = await build_dossier(
        case, lang="en", store=store, renderer=Renderer(content), content=content, now=NOW,
        out_dir=root / f"out-{scenario}",
    )  # fmt: skip
    thumbnails = [item.get("thumbnail") for item in dossier.manifest["items"]]
    return {
        "scenario": scenario,
        "before_mib": before,
        "peak_mib": _peak_mib(),
        "files": len(dossier.manifest["items"]),
        "thumbnails": ", ".join(str(t) for t in thumbnails) or "-",
    }


async def _prepare(root: Path, side: int, count: int) -> list[str]:
    from bot.evidence_store import EvidenceStore

    store = EvidenceStore(root / "store")
    pngs = []
    for n in range(count):
        data = solid_png(side, (200 + n, 220, 240 - n))
        stored = await store.put_bytes(data)
        pngs.append({"sha256": stored.sha256, "size": stored.size, "mime": "image/png"})
    bomb = await store.put_bytes(BOMB_BMP)
    bmp = {"sha256": bomb.sha256, "size": bomb.size, "mime": "image/bmp"}
    from bot.dossier.images import DECODE_BUDGET

    largest = math.isqrt(DECODE_BUDGET // 4)  # Pillow keeps RGB at 4 bytes a pixel
    decodable = []
    for n in range(count):
        stored = await store.put_bytes(solid_png(largest, (10 + n, 20, 30)))
        decodable.append({"sha256": stored.sha256, "size": stored.size, "mime": "image/png"})
    scenarios = {
        "no-images": [],
        "pngs": pngs,
        "pngs+bomb": [*pngs, bmp],
        f"{largest}px": decodable,
    }
    for name, spec in scenarios.items():
        (root / f"{name}.json").write_text(json.dumps(spec))
    print(f"{count} PNGs of {side}×{side} px, {pngs[0]['size'] / 1024:.0f} KB each")
    return list(scenarios)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=13000, help="pixels a side (13000)")
    parser.add_argument("--count", type=int, default=4, help="how many PNGs (4)")
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "SCENARIO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(_child(Path(args.child[0]), args.child[1]))
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-export-memory-") as tmp:
        root = Path(tmp)
        for scenario in asyncio.run(_prepare(root, args.size, args.count)):
            command = [sys.executable, "-m", "benchmarks.export_memory", "--child", tmp, scenario]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{scenario}: the build failed\n{done.stderr.strip()}")
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{scenario:<10} peak RSS {result['peak_mib']:6.0f} MiB "
                f"(after imports {result['before_mib']:.0f} MiB); "
                f"thumbnails: {result['thumbnails']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
