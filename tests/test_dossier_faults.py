"""Images that would exhaust memory in an export (issue 11, item 6).

A 54-byte BMP whose header claims 40000×40000 pixels made every later ``/export`` of its case
fail; four 13000×13000 PNGs (about 500 KB each, 676 MB each once decoded) took the export to
1.5 GB. Now neither is decoded: the export succeeds, every file is in the ZIP (the bomb as it
was received), the manifest marks them ``"thumbnail": "too_large"`` and the report says why
they have no preview. JPEGs are decoded at a reduced scale. The peak memory itself is
measured by ``benchmarks/export_memory.py``, not asserted here.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

from bot import verify
from bot.content import Content
from bot.dossier import Dossier, build_dossier, images
from bot.evidence_store import EvidenceStore
from bot.render import Renderer
from dialogs import EvidenceKind
from dialogs.case import Case, EvidenceItem, State

CONTENT = Content.load()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BOMB_BMP = (
    b"BM"
    + struct.pack("<IHHI", 54, 0, 0, 54)
    + struct.pack("<IiiHHIIiiII", 40, 40000, 40000, 1, 24, 0, 0, 2835, 2835, 0, 0)
)
"""A BMP header claiming 40000×40000 pixels (24 bits), and no pixels."""


def solid_png(side: int) -> bytes:
    """A side×side RGB PNG of one colour, compressed row by row (never held decoded)."""
    row = b"\x00" + b"\xc8\xdc\xf0" * side
    packer = zlib.compressobj(1)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload).to_bytes(4, "big")
        return len(payload).to_bytes(4, "big") + kind + payload + crc

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    ihdr, data, end = chunk(b"IHDR", header), chunk(b"IDAT", idat), chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + ihdr + data + end


def screenshot() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (90, 160), (240, 240, 250)).save(out, format="PNG")
    return out.getvalue()


async def export(tmp_path: Path, files: list[tuple[bytes, str]]) -> Dossier:
    store = EvidenceStore(tmp_path / "store")
    items = []
    for number, (data, mime) in enumerate(files, start=1):
        stored = await store.put_bytes(data)
        items.append(
            EvidenceItem(
                number=number, kind=EvidenceKind.DOCUMENT, sha256=stored.sha256,
                size=stored.size, mime=mime, received_at=NOW - timedelta(minutes=number),
            )
        )  # fmt: skip
    case = Case(
        number=1, state=State.REPORT, jurisdiction="cn", created_at=NOW - timedelta(days=2),
        updated_at=NOW, evidence=items,
    )  # fmt: skip
    return await build_dossier(
        case, lang="en", store=store, renderer=Renderer(CONTENT), content=CONTENT, now=NOW,
        out_dir=tmp_path / "out",
    )  # fmt: skip


def zip_entries(dossier: Dossier) -> dict[str, bytes]:
    with zipfile.ZipFile(dossier.zip_paths[0]) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def report_text(dossier: Dossier) -> str:
    text = "".join(page.extract_text() for page in PdfReader(dossier.pdf_path).pages)
    return " ".join(text.split())


async def test_a_decompression_bomb_stays_evidence_without_a_thumbnail(tmp_path: Path) -> None:
    dossier = await export(tmp_path, [(screenshot(), "image/png"), (BOMB_BMP, "image/bmp")])
    shot, bomb = dossier.manifest["items"]
    assert shot["thumbnail"] == images.MADE
    assert bomb["thumbnail"] == images.TOO_LARGE
    assert bomb["export"] == "copy"  # not converted: that would decode it
    assert (
        bomb["sha256_exported"] == bomb["sha256_original"] == hashlib.sha256(BOMB_BMP).hexdigest()
    )
    assert bomb["file"] == "002-document-2026-11-28.bmp"
    assert zip_entries(dossier)[bomb["file"]] == BOMB_BMP
    note = CONTENT.text("dossier.thumbs_too_large", "en", {"numbers": "#2"})
    assert note in report_text(dossier)
    assert verify.verify(dossier.zip_paths) == []


async def test_huge_pngs_are_exported_but_never_decoded(tmp_path: Path) -> None:
    png = solid_png(13000)  # one file, four items: the store keeps it once
    dossier = await export(tmp_path, [(png, "image/png")] * 4)
    entries = zip_entries(dossier)
    for item in dossier.manifest["items"]:
        assert item["thumbnail"] == images.TOO_LARGE
        assert item["export"] == "copy"
        assert entries[item["file"]] == png
    note = CONTENT.text("dossier.thumbs_too_large", "en", {"numbers": "#1, #2, #3, #4"})
    assert note in report_text(dossier)


def test_the_bomb_is_copied_not_converted_and_has_no_thumbnail() -> None:
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS  # the limit is set, not Pillow's default
    cleaned = images.clean_image(BOMB_BMP, "other")
    assert (cleaned.method, cleaned.data) == ("copy", BOMB_BMP)
    assert images.thumbnail(BOMB_BMP) == images.Thumbnail(None, images.TOO_LARGE)
    assert images.thumbnail(b"\x89PNG\r\n\x1a\nnot really") == images.Thumbnail(
        None, images.UNREADABLE
    )


def _grey_jpeg(side: int, *, progressive: bool) -> bytes:
    out = io.BytesIO()
    Image.new("L", (side, side), 128).save(out, format="JPEG", progressive=progressive)
    return out.getvalue()


def test_a_large_jpeg_is_decoded_at_a_reduced_scale() -> None:
    # 64 megapixels: 256 MB at full scale, over the budget; 1000×1000 at 1/8 scale.
    thumb = images.thumbnail(_grey_jpeg(8000, progressive=False))
    assert thumb.status == images.MADE and thumb.jpeg is not None
    assert max(Image.open(io.BytesIO(thumb.jpeg)).size) <= max(images.THUMB_BOX)


def test_a_large_progressive_jpeg_is_not_decoded() -> None:
    # libjpeg holds a progressive JPEG's coefficients at full scale whatever the draft.
    assert images.thumbnail(_grey_jpeg(8000, progressive=True)).status == images.TOO_LARGE
