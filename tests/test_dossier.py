"""The evidence dossier: ZIP, manifest, metadata removal, PDF report, splitting, verification.

One case of 34 items of every kind, stored in a real EvidenceStore, is exported once per
module (in Chinese, with Spanish text from the user); the tests read what was written.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import random
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from bot import verify
from bot.content import Content
from bot.dossier import Dossier, PartTooSmall, build_dossier, chart, images
from bot.dossier.pdf import font_codepoints, wrap
from bot.evidence_store import EvidenceStore
from bot.render import Renderer
from dialogs import EvidenceKind, ForwardOrigin
from dialogs.case import Case, Details, EvidenceItem, PlatformInfo, Privacy, State
from dialogs.steps.report import case_documents

CONTENT = Content.load()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GPS_IFD = 0x8825
STORY = "Llamaron a mi jefe y le dijeron que soy una ladrona. También escribieron a mi madre."
CHINESE_MESSAGE = "三天内不还款，就把你的照片发到你所有联系人的群里。"
SPANISH_MESSAGE = "Si no pagas hoy, tu familia verá tus fotos. ¡Última advertencia!"
CONTACT_CARD = "BEGIN:VCARD\nFN:催收 李经理\nTEL:+86 139 0000 1111\nEND:VCARD"


# -- test data ------------------------------------------------------------------------------


def _noise_image(seed: int, size: tuple[int, int] = (180, 320)) -> Image.Image:
    """A screenshot-like picture: light background, rows of dark 'text' with some noise."""
    rnd = random.Random(seed)
    image = Image.new("RGB", size, (245, 245, 250))
    pixels = image.load()
    assert pixels is not None
    for y in range(8, size[1] - 8, 14):
        for x in range(10, rnd.randrange(60, size[0] - 10)):
            for dy in range(rnd.randrange(3, 7)):
                pixels[x, y + dy] = (rnd.randrange(60), rnd.randrange(60), rnd.randrange(90))
    return image


def _gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 26.0)
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 30.0)
    return exif


def _encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def gps_jpeg() -> bytes:
    """A phone photo: GPS and camera EXIF, sideways orientation, a comment, a trailer."""
    data = _encode(_noise_image(99), "JPEG", exif=_gps_exif(6), comment=b"Home", quality=90)
    return data + b"TRAILER-WITH-PRIVATE-DATA"


def gps_png() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "Calle Mayor 1, Madrid")
    return _encode(_noise_image(98), "PNG", exif=_gps_exif(), pnginfo=info)


def gps_webp() -> bytes:
    return _encode(_noise_image(97), "WEBP", exif=_gps_exif(), lossless=True)


def commented_gif() -> bytes:
    return _encode(_noise_image(96).convert("P"), "GIF", comment=b"taken at home")


@dataclass
class Built:
    case: Case
    store: EvidenceStore
    dossier: Dossier
    originals: dict[int, bytes]
    progress: list[tuple[int, int]]
    log: str


async def _put(store: EvidenceStore, data: bytes) -> tuple[str, int]:
    stored = await store.put_bytes(data)
    return stored.sha256, stored.size


async def make_items(store: EvidenceStore) -> tuple[list[EvidenceItem], dict[int, bytes]]:
    """34 items: images with metadata, screenshots, texts, voice, audio, documents..."""
    rnd = random.Random(7)
    items: list[EvidenceItem] = []
    originals: dict[int, bytes] = {}

    async def add(kind: EvidenceKind, data: bytes | None, **fields: Any) -> EvidenceItem:
        number = len(items) + 1
        received = fields.pop("received_at", START + timedelta(hours=7 * number))
        sha, size = (None, fields.pop("size", None)) if data is None else await _put(store, data)
        if data is not None:
            originals[number] = data
        item = EvidenceItem(
            number=number, kind=kind, received_at=received, sha256=sha, size=size, **fields
        )
        items.append(item)
        return item

    collector = "催收员 Zhang"
    for index, (data, mime, kind, name) in enumerate(
        [
            (gps_jpeg(), "image/jpeg", EvidenceKind.SCREENSHOT, None),
            (gps_png(), "image/png", EvidenceKind.SCREENSHOT, None),
            (gps_webp(), "image/webp", EvidenceKind.DOCUMENT, "foto.webp"),
            (commented_gif(), "image/gif", EvidenceKind.DOCUMENT, "amenaza.gif"),
        ]
    ):
        sent = START - timedelta(days=10 - index)
        origin = ForwardOrigin(kind="hidden_user", name=collector, date=sent)
        await add(kind, data, mime=mime, file_name=name, forward=origin, caption="发给了我妈妈")
    for n in range(20):
        origin = ForwardOrigin(
            kind="user", name="Cobranza Rápida", sender_id=4242, date=START - timedelta(days=n % 9)
        )
        await add(
            EvidenceKind.SCREENSHOT,
            _encode(_noise_image(n), "PNG"),
            mime="image/png",
            forward=origin if n % 3 else None,
        )
    for text, kind in (
        (CHINESE_MESSAGE, EvidenceKind.TEXT),
        (SPANISH_MESSAGE, EvidenceKind.TEXT),
        (CONTACT_CARD, EvidenceKind.CONTACT),
    ):
        origin = ForwardOrigin(kind="hidden_user", name=collector, date=START - timedelta(days=1))
        item = await add(kind, None, text=text, forward=origin)
        items[-1] = item.model_copy(
            update={"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
        )
    await add(EvidenceKind.VOICE, b"OggS" + rnd.randbytes(6000), mime="audio/ogg")
    for n in range(2):
        await add(
            EvidenceKind.AUDIO,
            b"ID3" + rnd.randbytes(9000),
            mime="audio/mpeg",
            caption=f"llamada {n + 1}",
        )
    await add(
        EvidenceKind.DOCUMENT,
        b"%PDF-1.4\n" + rnd.randbytes(3000),
        mime="application/pdf",
        file_name="contrato préstamo.pdf",
    )
    await add(EvidenceKind.DOCUMENT, rnd.randbytes(500), file_name="notas.xyz")
    await add(EvidenceKind.VIDEO, None, size=30_000_000, too_large=True, mime="video/mp4")
    # Recorded, but its object is not in the store any more.
    items.append(
        EvidenceItem(
            number=len(items) + 1,
            kind=EvidenceKind.SCREENSHOT,
            received_at=NOW,
            sha256="f" * 64,
            size=10,
            mime="image/png",
        )
    )
    return items, originals


def make_case(items: list[EvidenceItem]) -> Case:
    return Case(
        number=3,
        state=State.REPORT,
        jurisdiction="cn",
        created_at=START - timedelta(days=1),
        updated_at=NOW,
        evidence=items,
        platform=PlatformInfo(
            name="QuickCash 快易贷",
            operator="QC Ltd",
            complained=True,
            complained_when="2026-10-01",
            channel="in_app",
            reference="T-1",
            outcome="refused",
        ),
        details=Details(
            story=STORY,
            since="2026-09",
            contacts_reached="many",
            behaviours=["contacts_messaged", "violence_threats"],
            collectors=["+86 139 0000 1111"],
        ),
        privacy=Privacy(name_mode="initials", name="李伟", contact="liwei@example.com"),
    )


async def build(tmp: Path, *, lang: str = "zh-Hans", max_bytes: int = 50 * 1024 * 1024) -> Built:
    store = EvidenceStore(tmp / "store")
    items, originals = await make_items(store)
    case = make_case(items)
    calls: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        calls.append((done, total))

    handler = _Capture()
    logging.getLogger().addHandler(handler)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        dossier = await build_dossier(
            case,
            lang=lang,
            store=store,
            renderer=Renderer(CONTENT),
            content=CONTENT,
            now=NOW,
            out_dir=tmp / "out",
            progress=progress,
            max_bytes=max_bytes,
        )
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(previous)
    return Built(case, store, dossier, originals, calls, "\n".join(handler.lines))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return asyncio.run(build(tmp_path_factory.mktemp("dossier")))


def entries(dossier: Dossier) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for path in dossier.zip_paths:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                found[name] = archive.read(name)
    return found


def by_number(manifest: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {item["number"]: item for item in manifest["items"]}


# -- the ZIP and its manifest ----------------------------------------------------------------


def test_the_case_has_every_kind_of_item(built: Built) -> None:
    assert len(built.case.evidence) >= 30
    assert {item.kind for item in built.case.evidence} == set(EvidenceKind)
    assert [p.name for p in built.dossier.zip_paths] == ["dossier.zip"]


def test_manifest_hashes_match_the_stored_originals(built: Built) -> None:
    items = by_number(built.dossier.manifest)
    for item in built.case.evidence:
        entry = items[item.number]
        assert entry["sha256_original"] == item.sha256
        if item.number in built.originals:
            stored = built.store.path_for(item.sha256 or "").read_bytes()
            assert hashlib.sha256(stored).hexdigest() == entry["sha256_original"]
            assert entry["original_verified"] is True
    files = entries(built.dossier)
    for entry in items.values():
        if entry["file"]:
            assert hashlib.sha256(files[entry["file"]]).hexdigest() == entry["sha256_exported"]
            if entry["export"] in ("copy", "text"):
                assert entry["sha256_exported"] == entry["sha256_original"]


def test_manifest_records_the_case_and_explains_the_hashes(built: Built) -> None:
    manifest = built.dossier.manifest
    assert manifest["case"]["number"] == 3
    assert manifest["exported_at"] == "2026-11-28T12:00:00+00:00"
    assert manifest["tool"]["version"]
    assert "recorded" in manifest["note"]["en"] or "received" in manifest["note"]["en"]
    assert manifest["note"]["zh-Hans"].startswith(CONTENT.text("dossier.manifest_note", "zh-Hans"))
    assert CONTENT.text("dossier.redacted_note", "zh-Hans") in manifest["note"]["zh-Hans"]
    first = by_number(manifest)[1]
    assert first["forwarded_from"]["name"] == "催收员 Zhang"
    assert first["forwarded_from"]["date"].startswith("2026-10-23")
    assert first["caption"] == "发给了我妈妈"  # nothing private in it: recorded as received
    assert first["received_at"] == "2026-11-02T16:00:00+00:00"
    assert json.loads(entries(built.dossier)["manifest.json"]) == manifest


def test_files_are_named_by_number_kind_date_and_type(built: Built) -> None:
    items = by_number(built.dossier.manifest)
    assert items[1]["file"] == "001-screenshot-2026-11-02.jpg"
    assert items[3]["file"].endswith("-document-2026-11-03.webp")
    assert items[25]["file"].endswith("-text-2026-11-09.txt")
    assert items[27]["file"].startswith("027-contact-")
    assert items[28]["file"].startswith("028-voice-") and items[28]["file"].endswith(".ogg")
    assert items[29]["file"].endswith(".mp3")
    assert items[31]["file"].endswith(".pdf")
    assert items[32]["file"].endswith(".xyz")
    assert items[33] | {"file": None, "export": "not_downloaded", "size": 30_000_000} == items[33]
    assert items[34]["file"] is None and items[34]["export"] == "missing"
    names = set(entries(built.dossier))
    documents = case_documents(built.case, CONTENT.index, NOW.date())
    assert "regulator_complaint" in documents
    assert {"README.txt"} | {f"{d.replace('_', '-')}-zh-Hans.txt" for d in documents} <= names
    assert {"evidence-index.txt", "report.pdf", "manifest.json"} <= names


def test_texts_are_exported_as_their_utf8_text(built: Built) -> None:
    files = entries(built.dossier)
    items = by_number(built.dossier.manifest)
    for number, text in ((25, CHINESE_MESSAGE), (26, SPANISH_MESSAGE), (27, CONTACT_CARD)):
        assert files[items[number]["file"]].decode("utf-8") == text
        assert items[number]["export"] == "text"


def test_complaints_are_the_renderers_masked_texts(built: Built) -> None:
    files = entries(built.dossier)
    renderer = Renderer(CONTENT)
    expected = renderer.render("regulator_complaint", built.case, "zh-Hans", NOW)
    assert files["regulator-complaint-zh-Hans.txt"].decode("utf-8") == expected
    assert "李伟" not in expected  # the user chose initials


def test_exported_images_have_no_metadata_but_the_same_pixels(built: Built) -> None:
    files = entries(built.dossier)
    items = by_number(built.dossier.manifest)
    for number in (1, 2, 3, 4):
        entry = items[number]
        assert entry["export"] == "metadata_removed"
        assert entry["sha256_exported"] != entry["sha256_original"]
        exported = Image.open(io.BytesIO(files[entry["file"]]))
        original = Image.open(io.BytesIO(built.originals[number]))
        assert exported.format == original.format
        assert exported.getexif().get_ifd(GPS_IFD) == {}
        assert 0x010F not in exported.getexif()  # camera make
        assert "comment" not in exported.info
        assert not getattr(exported, "text", {})
        assert exported.tobytes() == original.tobytes()
    photo = Image.open(io.BytesIO(files[items[1]["file"]]))
    assert dict(photo.getexif()) == {0x0112: 6}  # the orientation alone is kept
    assert not files[items[1]["file"]].endswith(b"PRIVATE-DATA")


def test_screenshots_without_metadata_are_plain_copies(built: Built) -> None:
    items = by_number(built.dossier.manifest)
    assert all(items[n]["export"] == "copy" for n in range(5, 25))


def test_progress_is_reported_to_the_end(built: Built) -> None:
    total = len(built.case.evidence) + 4
    assert built.progress == [(n, total) for n in range(1, total + 1)]


def test_no_user_text_or_content_is_logged(built: Built) -> None:
    assert built.log  # something was logged...
    for secret in (STORY, CHINESE_MESSAGE, SPANISH_MESSAGE, "李伟", "QuickCash", "发给了我妈妈"):
        assert secret not in built.log


# -- verification ----------------------------------------------------------------------------


def rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """Copy a ZIP, replacing (or with None dropping) some entries, adding new ones."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename in change:
                data = change.pop(info.filename)
                if data is not None:
                    new.writestr(info, data)
            else:
                new.writestr(info, old.read(info))
        for name, data in change.items():
            if data is not None:
                new.writestr(name, data)


def test_verify_reports_ok(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify.verify(built.dossier.zip_paths) == []
    assert verify.main([str(p) for p in built.dossier.zip_paths]) == 0
    files = len(entries(built.dossier)) - 2  # not manifest.json and manifest.sig
    first, signed, _ = capsys.readouterr().out.splitlines()
    assert first == f"OK: {files} files match the manifest"
    assert signed.endswith(built.dossier.manifest["signer"]["fingerprint"])


def test_verify_reports_one_flipped_byte(
    built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = by_number(built.dossier.manifest)[7]["file"]
    data = bytearray(entries(built.dossier)[name])
    data[len(data) // 2] ^= 0x01
    changed = tmp_path / "changed.zip"
    rewrite(built.dossier.zip_paths[0], changed, {name: bytes(data)})
    problems = verify.verify([changed])
    assert len(problems) == 1
    assert problems[0].startswith(f"changed: {name} (evidence #7)")
    assert verify.main([str(changed)]) == 1
    assert name in capsys.readouterr().out


def test_verify_reports_missing_and_extra_files(built: Built, tmp_path: Path) -> None:
    name = by_number(built.dossier.manifest)[25]["file"]
    changed = tmp_path / "changed.zip"
    rewrite(built.dossier.zip_paths[0], changed, {name: None, "999-added.txt": b"x"})
    assert verify.verify([changed]) == [
        f"missing: {name} (evidence #25)",
        "extra: 999-added.txt (not in the manifest)",
    ]


def test_verify_rejects_a_copy_whose_manifest_was_edited_to_match(
    built: Built, tmp_path: Path
) -> None:
    files = entries(built.dossier)
    manifest = json.loads(files["manifest.json"])
    entry = manifest["items"][6]
    data = files[entry["file"]] + b"\x00"
    entry["sha256_exported"] = hashlib.sha256(data).hexdigest()
    changed = tmp_path / "changed.zip"
    payload = json.dumps(manifest).encode()
    rewrite(built.dossier.zip_paths[0], changed, {entry["file"]: data, "manifest.json": payload})
    signature, copy = verify.verify([changed])
    assert signature.startswith("signature: INVALID") and "recorded at receipt" in copy


def test_verify_usage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert verify.main([]) == 2
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    assert verify.main([str(tmp_path / "x.zip")]) == 2
    assert capsys.readouterr().err.endswith("x.zip: not a ZIP file\n")


# -- the PDF report --------------------------------------------------------------------------


def test_the_pdf_has_chinese_and_spanish_text_and_the_chart(built: Built) -> None:
    assert built.dossier.pdf_path.read_bytes() == entries(built.dossier)["report.pdf"]
    reader = PdfReader(built.dossier.pdf_path)
    assert len(reader.pages) >= 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = text.replace("\n", "")
    assert CONTENT.text("dossier.title", "zh-Hans") in text
    assert CONTENT.text("dossier.index_title", "zh-Hans") in text
    assert "李某" in text and "李伟" not in text  # masked as the user chose
    assert "ladrona" in text and "También" in flat
    assert "QuickCash 快易贷" in text
    for entry in built.dossier.manifest["items"][:24]:
        assert entry["sha256_original"][:32] in text
    sizes = image_xobjects(reader)
    assert chart.SIZE_PX in sizes  # the chart, as an image XObject
    assert len(sizes) >= 25  # and the thumbnails of the 24 images


def resources(reader: PdfReader, kind: str) -> list[Any]:
    """Return the objects of one kind ("/Font", "/XObject") that the pages use."""
    found: list[Any] = []
    for page in reader.pages:
        page_resources: Any = page["/Resources"]
        table = page_resources.get_object().get(kind)
        if table is not None:
            found += [ref.get_object() for ref in table.get_object().values()]
    return found


def image_xobjects(reader: PdfReader) -> list[tuple[int, int]]:
    return [
        (int(obj["/Width"]), int(obj["/Height"]))
        for obj in resources(reader, "/XObject")
        if obj["/Subtype"] == "/Image"
    ]


def test_every_font_in_the_pdf_is_embedded(built: Built) -> None:
    fonts = resources(PdfReader(built.dossier.pdf_path), "/Font")
    assert fonts
    for font in fonts:
        for descendant in font.get("/DescendantFonts", [font]):
            assert "/FontFile2" in descendant.get_object()["/FontDescriptor"]


def test_the_pdf_is_small(built: Built) -> None:
    assert built.dossier.pdf_path.stat().st_size < 2_000_000


@pytest.mark.parametrize(("lang", "title"), [("es", "Expediente de pruebas"), ("en", "Evidence")])
async def test_the_report_speaks_the_users_language(tmp_path: Path, lang: str, title: str) -> None:
    result = await build(tmp_path, lang=lang)
    text = PdfReader(result.dossier.pdf_path).pages[0].extract_text()
    assert title in text
    assert verify.verify(result.dossier.zip_paths) == []


# -- splitting -------------------------------------------------------------------------------


async def test_a_large_dossier_is_split_into_parts(tmp_path: Path) -> None:
    max_bytes = 700_000  # the evidence takes about 1 MB, the report 0.5 MB
    result = await build(tmp_path, max_bytes=max_bytes)
    paths = result.dossier.zip_paths
    assert [p.name for p in paths] == [f"dossier-part{n}.zip" for n in range(1, len(paths) + 1)]
    assert len(paths) >= 2
    manifest = result.dossier.manifest
    assert manifest["parts"] == len(paths)
    listed = {e["file"] for e in manifest["items"] if e["file"]}
    listed |= {d["file"] for d in manifest["documents"]}
    seen: set[str] = set()
    for number, path in enumerate(paths, start=1):
        assert path.stat().st_size <= max_bytes
        with zipfile.ZipFile(path) as archive:
            assert json.loads(archive.read("manifest.json")) == manifest
            subset = json.loads(archive.read(f"manifest-part{number}.json"))
            manifests = {"manifest.json", "manifest.sig", f"manifest-part{number}.json"}
            own = set(archive.namelist()) - manifests
        assert subset["part"] == number
        assert {e["file"] for e in subset["items"] + subset["documents"]} == own
        seen |= own
    assert seen == listed
    assert "report.pdf" in seen
    assert verify.verify(paths) == []
    assert verify.verify(paths[1:]) == [
        f"part 1 of {len(paths)} not given (dossier-part1.zip): not checked"
    ]


async def test_an_item_larger_than_a_part_is_listed_without_its_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "store")
    big, _ = await _put(store, random.Random(1).randbytes(300_000))
    small, size = await _put(store, _encode(_noise_image(1), "PNG"))
    items = [
        EvidenceItem(number=1, kind=EvidenceKind.VIDEO, received_at=NOW, sha256=big, size=300_000),
        EvidenceItem(
            number=2, kind=EvidenceKind.SCREENSHOT, received_at=NOW, sha256=small, size=size
        ),
    ]
    dossier = await build_dossier(
        make_case(items),
        lang="zh-Hans",
        store=store,
        renderer=Renderer(CONTENT),
        content=CONTENT,
        now=NOW,
        out_dir=tmp_path / "out",
        max_bytes=250_000,
    )
    first, second = dossier.manifest["items"]
    assert first["file"] is None and first["export"] == "too_large_for_part"
    assert second["file"] == "002-screenshot-2026-11-28.png"
    assert verify.verify(dossier.zip_paths) == []


async def test_a_rebuild_replaces_the_previous_dossier(tmp_path: Path) -> None:
    first = await build(tmp_path, max_bytes=260_000)
    assert len(first.dossier.zip_paths) >= 2
    store = first.store
    dossier = await build_dossier(
        first.case,
        lang="zh-Hans",
        store=store,
        renderer=Renderer(CONTENT),
        content=CONTENT,
        now=NOW,
        out_dir=tmp_path / "out",
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dossier.zip", "report.pdf"]
    assert verify.verify(dossier.zip_paths) == []


# -- pieces ----------------------------------------------------------------------------------


def test_malformed_images_are_copied_or_converted_not_lost() -> None:
    broken = b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00" + b"\x00" * 4
    cleaned = images.clean_image(broken, "jpeg")
    assert cleaned.method == "copy" and cleaned.data == broken
    bmp = _encode(_noise_image(3), "BMP")
    converted = images.clean_image(bmp, "other")
    assert converted.method == "converted_to_png"
    assert (
        Image.open(io.BytesIO(converted.data)).tobytes() == Image.open(io.BytesIO(bmp)).tobytes()
    )


def test_chinese_text_wraps_between_characters_never_before_closing_punctuation() -> None:
    text = "催收人员将本人的欠款情况泄露给本人手机通讯录中的第三方，并对他们和本人进行骚扰。" * 3
    lines = wrap(text, 30.0, lambda s: float(len(s)))
    assert "".join(lines) == text
    assert all(len(line) <= 31 for line in lines)
    assert not any(line[0] in "，。" for line in lines)
    spanish = wrap("  Me amenazaron con publicar mis fotos", 12.0, lambda s: float(len(s)))
    assert spanish == ["  Me", "amenazaron", "con publicar", "mis fotos"]


def test_the_font_covers_the_texts_of_the_report() -> None:
    known = font_codepoints()
    for lang in ("es", "zh-Hans", "en"):
        for key, value in CONTENT.texts[lang].items():
            if key.startswith("dossier."):
                assert all(ord(ch) in known or ch == "\n" for ch in value), key


async def test_a_case_without_evidence_still_makes_a_dossier(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        calls.append((done, total))

    dossier = await build_dossier(
        make_case([]),
        lang="es",
        store=EvidenceStore(tmp_path / "store"),
        renderer=Renderer(CONTENT),
        content=CONTENT,
        now=NOW,
        out_dir=tmp_path / "out",
        progress=progress,
    )
    assert dossier.manifest["items"] == []
    assert calls[-1] == (4, 4)
    text = PdfReader(dossier.pdf_path).pages[0].extract_text()
    assert CONTENT.text("dossier.chart_empty", "es") in text.replace("\n", " ")
    assert verify.verify(dossier.zip_paths) == []


async def test_a_limit_too_small_for_the_documents_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PartTooSmall):
        await build_dossier(
            make_case([]),
            lang="en",
            store=EvidenceStore(tmp_path / "store"),
            renderer=Renderer(CONTENT),
            content=CONTENT,
            now=NOW,
            out_dir=tmp_path / "out",
            max_bytes=5_000,
        )
    assert list((tmp_path / "out").iterdir()) == []  # nothing half-written is left


# -- private numbers: redacted in every file, described in the manifest ----------------------

VALID_ID = "11010519491231002X"
BAD_ID = "11010519960715239X"  # its check digit should be 8: still an ID
CARD = "6222 0212 3456 7890 128"
HER_PHONE = "13612345678"  # a friend's, given by the collectors after "她电话"
COLLECTORS_PHONE = "13912345678"


async def private_case(store: EvidenceStore, show: tuple[str, ...] = ()) -> Case:
    """A case told through the dialog whose forwarded texts, captions and typed answers carry
    a valid ID, an ID with a bad check digit, a card and a contact's phone number."""
    from dialogs import EvidenceReceived, StoredFile
    from tests.conftest import Chat, walk_to

    chat = Chat(content=CONTENT.index)
    walk_to(chat, "jurisdiction")
    chat.click("jur:cn")
    chat.click("who:borrower")
    chat.forward(
        f"你的身份证{VALID_ID}我们已经有了。你朋友欠钱不还，她电话{HER_PHONE}，让她赶紧还"
    )
    chat.forward(f"还款账户已冻结，马上联系 {COLLECTORS_PHONE}")
    shot = await store.put_bytes(_encode(_noise_image(5), "PNG"))
    for caption, origin in (
        (f"他们发的我的身份证号{BAD_ID}，卡号 {CARD}", None),
        (f"身份证 {BAD_ID} 已曝光", ForwardOrigin(kind="hidden_user", name="催收员", date=START)),
    ):
        chat.event(EvidenceReceived(
            at=next(chat.clock), kind=EvidenceKind.SCREENSHOT, caption=caption, forward=origin,
            file=StoredFile(sha256=shot.sha256, size=shot.size, mime="image/png"),
        ))  # fmt: skip
    chat.send(f"我的卡号是 {CARD}，他们也知道我的身份证 {BAD_ID}")  # typed in step 1
    if "ev:keep_text" in chat.options:
        chat.click("ev:keep_text")  # "save this as evidence"
    walk_to(chat, "details_story")
    chat.send(f"They posted my ID {VALID_ID}, card {CARD}, ID {BAD_ID}. Friend: {HER_PHONE}")
    walk_to(chat, "details_collectors")
    for answer in (f"col:contact:86{HER_PHONE}", "col:confirm_all"):
        if answer in chat.options:
            chat.click(answer)
    walk_to(chat, "privacy_review")
    for value in show:
        index = [f.value for f in chat.case.privacy.findings].index(value)
        chat.click(f"prv:toggle:{index}")
    walk_to(chat, "report")
    return chat.case


async def test_no_private_number_leaves_in_any_file_of_the_dossier(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "store")
    case = await private_case(store)
    assert len(case.evidence) == 5 and case.evidence[4].forward is None
    dossier = await build_dossier(
        case, lang="zh-Hans", store=store, renderer=Renderer(CONTENT), content=CONTENT,
        now=NOW, out_dir=tmp_path / "out",
    )  # fmt: skip
    files = entries(dossier)
    texts = {name: data.decode("utf-8", "replace") for name, data in files.items()}
    texts["report.pdf (text)"] = "\n".join(
        page.extract_text() for page in PdfReader(dossier.pdf_path).pages
    )
    for name, text in texts.items():
        flat = text.replace(" ", "").replace("\n", "")
        for secret in (VALID_ID, BAD_ID, CARD.replace(" ", ""), HER_PHONE):
            assert secret not in flat, (name, secret)
    exported = {n: t for n, t in texts.items() if "-text-" in n}
    assert any(COLLECTORS_PHONE in t for t in exported.values())  # the collectors' stays
    assert any("**************002X" in t for t in exported.values())
    assert verify.verify(dossier.zip_paths) == []
    assert case.details.collectors == ["+86 139 1234 5678"]


async def test_text_evidence_is_redacted_and_the_manifest_says_where_not_what(
    tmp_path: Path,
) -> None:
    store = EvidenceStore(tmp_path / "store")
    case = await private_case(store)
    dossier = await build_dossier(
        case, lang="en", store=store, renderer=Renderer(CONTENT), content=CONTENT,
        now=NOW, out_dir=tmp_path / "out",
    )  # fmt: skip
    files = entries(dossier)
    manifest = dossier.manifest
    items = by_number(manifest)
    first, second = items[1], items[2]
    original = case.evidence[0].text or ""
    assert first["export"] == "redacted"
    assert first["sha256_original"] == hashlib.sha256(original.encode()).hexdigest()
    assert first["sha256_redacted"] == first["sha256_exported"]
    assert first["sha256_redacted"] == hashlib.sha256(files[first["file"]]).hexdigest()
    assert [(m["kind"], original[m["start"] : m["end"]]) for m in first["masked"]] == [
        ("resident_id", VALID_ID), ("contact_phone", HER_PHONE),
    ]  # fmt: skip
    assert second["export"] == "text"  # nothing private: exported as it came
    assert second["sha256_exported"] == second["sha256_original"]
    assert "masked" not in second
    manifest_text = files["manifest.json"].decode()
    for secret in (VALID_ID, BAD_ID, CARD, HER_PHONE):
        assert secret not in manifest_text
    assert "redacted" in manifest["note"]["en"]
    assert verify.verify(dossier.zip_paths) == []


async def test_a_number_the_user_chose_to_show_is_exported_in_full(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "store")
    case = await private_case(store, show=(VALID_ID, HER_PHONE))
    dossier = await build_dossier(
        case, lang="en", store=store, renderer=Renderer(CONTENT), content=CONTENT,
        now=NOW, out_dir=tmp_path / "out",
    )  # fmt: skip
    first = by_number(dossier.manifest)[1]
    assert first["export"] == "text"  # the unredacted original, as the user chose
    assert entries(dossier)[first["file"]].decode() == case.evidence[0].text
    assert first["sha256_exported"] == first["sha256_original"]
    assert verify.verify(dossier.zip_paths) == []


def test_verify_reports_a_redacted_text_whose_copy_is_not_described(tmp_path: Path) -> None:
    manifest = {
        "format": "harassment-report-bot dossier manifest 2", "parts": 1,
        "documents": [{"file": "README.txt", "sha256": "c" * 64, "part": 1}],
        "items": [{
            "number": 1, "file": "001-text.txt", "part": 1, "export": "redacted",
            "sha256_original": "a" * 64, "sha256_exported": "b" * 64,
        }],
    }  # fmt: skip
    path = tmp_path / "dossier.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("001-text.txt", "x")
    problems = verify.verify([path])
    assert any("redaction not described" in p for p in problems)


async def test_a_confirmed_collectors_pattern_adds_its_hours_chart(tmp_path: Path) -> None:
    from dialogs.case import ReadItem

    moments = ["2025-12-19T23:04", "2025-12-19T23:40", "2025-12-20T07:15", "2025-12-20T08:46"]
    texts = {}
    for confirmed in (True, False):
        case = make_case([])
        case.readings = [ReadItem(item=1, moments=moments)]
        case.details.pattern_confirmed = confirmed
        dossier = await build_dossier(
            case, lang="en", store=EvidenceStore(tmp_path / "store"), renderer=Renderer(CONTENT),
            content=CONTENT, now=NOW, out_dir=tmp_path / f"out-{confirmed}",
        )  # fmt: skip
        pages = PdfReader(dossier.pdf_path).pages
        texts[confirmed] = " ".join(page.extract_text() for page in pages).replace("\n", " ")
    caption = CONTENT.text("dossier.hours_caption", "en")
    assert caption[:40] in texts[True]
    assert caption[:40] not in texts[False]
