"""Building a dossier: the stages, each blocking step in a worker thread.

Stages: the documents (complaints, index, README), then each evidence item (read, clean,
hash, add to the ZIP, thumbnail), the timeline chart, the PDF report, and the manifests,
``manifest.json`` signed with the installation's key (``bot.signing``).
Progress is reported after each item and each stage. Everything is written in a temporary
folder inside ``out_dir`` and moved into place at the end, so a failed or cancelled build
leaves no half-written dossier behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from fpdf import FPDF

from bot import signing
from bot.content import Content
from bot.dossier import chart, files, images, manifest, pdf, redact
from bot.dossier.archive import PartWriter, stamp
from bot.dossier.files import Absent, Exported
from bot.dossier.manifest import Document, Outcome
from bot.dossier.redact import Box
from bot.evidence_store import BlobStore
from bot.ocr import Page
from bot.render import Renderer
from dialogs.case import Case, EvidenceItem, Finding
from dialogs.pattern import pattern
from dialogs.steps.privacy import findings_for
from dialogs.steps.report import case_documents

log = logging.getLogger(__name__)

Progress = Callable[[int, int], Awaitable[None]]
"""Called with (steps done, total steps): one step per evidence item plus four stages."""
REPORT: Final = "report.pdf"
README: Final = "README.txt"
INDEX: Final = "evidence-index.txt"
_STAGES: Final = 4
_THUMBNAIL_WORKERS: Final = 1
"""Thumbnails made at once beside the export: one image in memory at a time."""
_THUMBNAILER: Final = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thumbnails")
"""Every thumbnail is decoded in this one thread. The memory of a decoded image, once freed,
stays in its thread's malloc arena for that thread's next image; spread over the default
pool's threads, each kept its own (peak of four 16-megapixel PNGs: 281 MiB, 234 here)."""
T = TypeVar("T")
_OUTPUT_GLOBS: Final = ("dossier.zip", "dossier-part*.zip", REPORT)


@dataclass(frozen=True, slots=True)
class Dossier:
    zip_paths: list[Path]
    """``dossier.zip``, or ``dossier-part1.zip``, ``dossier-part2.zip``... in order."""
    pdf_path: Path
    manifest: dict[str, Any]


class _Steps:
    def __init__(self, callback: Progress | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0

    async def step(self) -> None:
        self.done += 1
        if self.callback is not None:
            await self.callback(self.done, self.total)


@dataclass
class _Run:
    """The state of one build while it runs."""

    case: Case
    lang: str
    content: Content
    now: datetime
    writer: PartWriter
    outcomes: list[Outcome]
    documents: list[Document]
    thumbnails: list[tuple[int, bytes]]
    findings: list[Finding]
    """The case's private numbers: those the user did not choose to show are masked."""
    boxes: dict[int, list[Box]]
    """Evidence number -> where its picture shows a number to hide (bot/dossier/redact.py)."""
    signer: signing.Signer
    previews: dict[int, str] = field(default_factory=dict)
    """Evidence number -> thumbnail status (``images.MADE``...), for every image."""
    images: int = 0

    def text(self, key: str, **params: Any) -> str:
        return self.content.text(key, self.lang, params)


async def build_dossier(
    case: Case,
    *,
    lang: str,
    store: BlobStore,
    renderer: Renderer,
    content: Content,
    now: datetime,
    out_dir: Path,
    progress: Progress | None = None,
    max_bytes: int = 50 * 1024 * 1024,
    signer: signing.Signer | None = None,
    pages: Mapping[str, Page] | None = None,
) -> Dossier:
    """Build the ZIP(s) and the PDF report of a case in ``out_dir``; see the package doc.

    ``out_dir`` is the case's own folder: a dossier already there is replaced (whatever its
    number of parts). ``now`` is the export time written in the files. ``progress`` is
    awaited with (done, total) after each evidence item and each stage. ``signer`` signs
    the manifest; by default the installation's key in the data directory that holds the
    evidence store (``DATA_DIR/signing-key.pem`` beside ``DATA_DIR/evidence``), made if
    missing. Raises ``PartTooSmall`` if ``max_bytes`` cannot even hold the documents and
    the manifests, ``signing.SigningKeyError`` if the key file is damaged. ``pages``: what
    the case's pictures were read to say, by content (bot/reading.py): private numbers the
    user did not choose to show are painted over in their exported copies.
    """
    started = time.monotonic()
    now = files.utc(now)
    steps = _Steps(progress, len(case.evidence) + _STAGES)
    await asyncio.to_thread(out_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=".dossier-", dir=out_dir))
    background = _Background()
    run: _Run | None = None
    try:
        if signer is None:
            signer = await asyncio.to_thread(signing.load_or_create, store.root.parent)
        texts = await asyncio.to_thread(_render_documents, renderer, content, case, lang, now)
        note = _note(content, lang)
        region = content.jurisdictions[case.jurisdiction or "generic"].phone_region
        found = findings_for(case, region)
        boxes = _boxes(case, pages or {}, found)
        reserve = manifest.reserve_for(
            case, [*texts, REPORT], note=note, findings=found, boxes=boxes
        )
        writer = PartWriter(work, max_bytes, reserve)
        run = _Run(case, lang, content, now, writer, [], [], [], found, boxes, signer)
        # The chart and the report's font do not depend on the files: start them now.
        chart_task = background.spawn(asyncio.to_thread(_chart, run))
        base_task = background.spawn(
            asyncio.to_thread(pdf.new_report, case.number, lang, now, run.text),
            release=pdf.close_report,
        )
        await asyncio.to_thread(_add_documents, run, texts)
        await steps.step()
        await _add_items(run, store, steps)
        chart_png = await chart_task
        await steps.step()
        context = renderer.context(case, lang, now)
        complaint = texts[_first_document(texts)].decode("utf-8")
        report = await asyncio.to_thread(
            _report, run, context, complaint, chart_png, await base_task
        )
        await steps.step()
        result = await asyncio.to_thread(_finish, run, report, note, out_dir)
        await steps.step()
    except BaseException:
        await background.cancel()
        if run is not None:
            run.writer.close()
        raise
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    log.info(
        "dossier of case %d: %d items, %d part(s), %.2f s",
        case.number,
        len(case.evidence),
        len(result.zip_paths),
        time.monotonic() - started,
    )
    return result


def _boxes(case: Case, pages: Mapping[str, Page], found: list[Finding]) -> dict[int, list[Box]]:
    """Where each read picture shows a private number the user did not choose to show."""
    values = redact.hidden_values(found)
    boxes: dict[int, list[Box]] = {}
    for item in case.evidence:
        page = pages.get(item.sha256 or "")
        if page is not None and values:
            found_here = redact.boxes_to_hide(page, values)
            if found_here:
                boxes[item.number] = found_here
    return boxes


class _Background:
    """Tasks running beside the main sequence. They run in threads, which cannot be
    interrupted: if the build fails they are awaited and what they made is released."""

    def __init__(self) -> None:
        self.tasks: list[tuple[asyncio.Task[Any], Callable[[Any], None] | None]] = []

    def spawn(
        self, work: Coroutine[Any, Any, T], release: Callable[[T], None] | None = None
    ) -> asyncio.Task[T]:
        task = asyncio.ensure_future(work)
        self.tasks.append((task, release))
        return task

    async def cancel(self) -> None:
        tasks = [task for task, _ in self.tasks]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for (_, release), result in zip(self.tasks, results, strict=True):
            if release is not None and not isinstance(result, BaseException):
                release(result)


def _render_documents(
    renderer: Renderer, content: Content, case: Case, lang: str, now: datetime
) -> dict[str, bytes]:
    """The case's documents in the destinations' order, each in the language of the bodies
    that read it and in the user's; then the evidence index. Already masked."""
    texts = {README: _readme(content, case, lang, now)}
    templates = case_documents(case, content.index, now.date()) or ["platform_complaint"]
    langs = list(dict.fromkeys([renderer.document_lang(case, lang), lang]))
    for template in templates:
        for doc_lang in langs:
            name = f"{template.replace('_', '-')}-{doc_lang}.txt"
            document = renderer.render(template, case, doc_lang, now, user_lang=lang)
            texts[name] = document.encode("utf-8")
    texts[INDEX] = renderer.render("evidence_index", case, lang, now).encode("utf-8")
    return texts


def _zone(run: _Run) -> ZoneInfo:
    jurisdiction = run.content.jurisdictions.get(run.case.jurisdiction or "generic")
    return ZoneInfo(jurisdiction.timezone if jurisdiction else "UTC")


def _first_document(texts: dict[str, bytes]) -> str:
    """The first destination's document, in the language of its readers (for the report)."""
    return next(name for name in texts if name not in (README, INDEX))


def _readme(content: Content, case: Case, lang: str, now: datetime) -> bytes:
    exported = now.strftime("%Y-%m-%d %H:%M UTC")
    body = content.text("dossier.readme", lang, {"case": case.number, "exported": exported})
    return f"{body}\n\n{_note(content, lang)}\n".encode()


def _note(content: Content, lang: str) -> str:
    """What the manifest's fingerprints mean, and how redacted texts are described."""
    return " ".join(
        content.text(key, lang) for key in ("dossier.manifest_note", "dossier.redacted_note")
    )


def _add_documents(run: _Run, texts: dict[str, bytes]) -> None:
    when = stamp(run.now)
    for name, data in texts.items():
        part = run.writer.add_bytes(name, data, when, compress=True)
        run.documents.append(_document(name, data, part))


def _document(name: str, data: bytes, part: int) -> Document:
    return Document(name, hashlib.sha256(data).hexdigest(), len(data), part)


async def _add_items(run: _Run, store: BlobStore, steps: _Steps) -> None:
    """Export every item in order; thumbnails are made beside, a few at a time."""
    width = max(3, len(str(max((i.number for i in run.case.evidence), default=0))))
    slots = asyncio.Semaphore(_THUMBNAIL_WORKERS)
    thumbnails = _Background()
    try:
        for item in run.case.evidence:
            image = await _add_item(run, store, item, width)
            if image is not None:
                await slots.acquire()
                thumbnails.spawn(_thumbnail(run, item.number, image, slots))
            await steps.step()
        await asyncio.gather(*(task for task, _ in thumbnails.tasks))
    except BaseException:
        await thumbnails.cancel()
        raise
    run.thumbnails.sort()


async def _add_item(run: _Run, store: BlobStore, item: EvidenceItem, width: int) -> bytes | None:
    """Export one item into the ZIP; return its cleaned image if it is one (for a thumbnail)."""
    async with _stored_file(store, item) as path:  # a copy from a bucket lasts this long
        result = await asyncio.to_thread(
            files.export_item, path, item, width, run.findings, run.boxes.get(item.number, ())
        )
        if not isinstance(result, Exported):
            run.outcomes.append(Outcome(item, result))
            return None
        part = await asyncio.to_thread(_write_item, run.writer, item, result)
    if part is None:
        run.outcomes.append(Outcome(item, Absent("too_large_for_part")))
        return None
    run.outcomes.append(Outcome(item, result, part))
    if result.image is None:
        return None
    run.images += 1
    return result.image


@asynccontextmanager
async def _stored_file(store: BlobStore, item: EvidenceItem) -> AsyncIterator[Path | None]:
    """The item's stored file while it is exported (None for a text, a file never downloaded,
    or one missing from the store)."""
    text = item.kind in files.TEXT_KINDS and item.text is not None
    if item.sha256 is None or item.too_large or text:
        yield None
        return
    async with store.local_copy(item.sha256) as path:
        yield path


async def _thumbnail(run: _Run, number: int, image: bytes, slots: asyncio.Semaphore) -> None:
    try:
        loop = asyncio.get_running_loop()
        thumb = await loop.run_in_executor(_THUMBNAILER, images.thumbnail, image)
    finally:
        slots.release()
    run.previews[number] = thumb.status
    if thumb.jpeg is not None:
        run.thumbnails.append((number, thumb.jpeg))


def _write_item(writer: PartWriter, item: EvidenceItem, exported: Exported) -> int | None:
    """Add the item's file to the ZIP; None if it is too large for any part."""
    if not writer.fits_alone(exported.name, exported.size, compress=exported.compress):
        return None
    when = stamp(files.utc(item.received_at))
    if exported.data is not None:
        return writer.add_bytes(exported.name, exported.data, when, compress=exported.compress)
    assert exported.path is not None
    return writer.add_file(
        exported.name, exported.path, exported.size, when, compress=exported.compress
    )


def _chart(run: _Run) -> bytes | None:
    timeline = chart.timeline(run.case.evidence, _zone(run))
    if timeline is None:
        return None
    labels = chart.Labels(
        title=run.text("dossier.chart_title"),
        messages=run.text("dossier.chart_messages"),
        calls=run.text("dossier.chart_calls"),
        axis=run.text("dossier.chart_axis"),
    )
    return chart.render_chart(timeline, labels, pdf.FONT_PATH)


def _hours_chart(run: _Run) -> bytes | None:
    """The hours of the collectors' pattern, when the user confirmed it (dialogs/pattern.py)."""
    found = pattern(run.case) if run.case.details.pattern_confirmed else None
    if found is None:
        return None
    labels = chart.HourLabels(
        title=run.text("dossier.hours_title"),
        day=run.text("dossier.hours_day"),
        night=run.text("dossier.hours_night"),
        axis=run.text("dossier.hours_axis"),
    )
    return chart.render_hours(found.hours, labels, pdf.FONT_PATH)


def _report(
    run: _Run,
    context: dict[str, Any],
    complaint: str,
    chart_png: bytes | None,
    base: FPDF,
) -> bytes:
    timeline = chart.timeline(run.case.evidence, _zone(run))
    data = pdf.ReportData(
        lang=run.lang,
        context=context,
        complaint=complaint,
        chart=chart_png,
        hours=_hours_chart(run),
        thumbnails=run.thumbnails,
        images=run.images,
        files=sum(1 for o in run.outcomes if o.part is not None),
        period=(timeline.days[0], timeline.days[-1]) if timeline else None,
        now=run.now,
        signer=run.signer.fingerprint,
        no_preview=sorted(
            (number, status) for number, status in run.previews.items() if status != images.MADE
        ),
    )
    return pdf.render_report(data, run.text, base)


def _finish(run: _Run, report: bytes, note: str, out_dir: Path) -> Dossier:
    """Add the report and the manifests, close the parts, move everything into ``out_dir``."""
    writer = run.writer
    when = stamp(run.now)
    report_part = writer.add_last(REPORT, report, when, compress=True)
    if report_part is not None:  # else too large for a part: it is sent beside the ZIPs
        run.documents.append(_document(REPORT, report, report_part))
    full = manifest.build_manifest(
        run.case,
        lang=run.lang,
        note=note,
        now=run.now,
        outcomes=run.outcomes,
        documents=run.documents,
        parts=len(writer.parts),
        findings=run.findings,
        previews=run.previews,
        signer=run.signer.describe(),
    )
    encoded = manifest.encode(full)
    signature = run.signer.sign(encoded)  # over the exact bytes every part carries
    per_part: dict[int, list[tuple[str, bytes]]] = {}
    for number in range(1, len(writer.parts) + 1):
        entries = [(manifest.MANIFEST, encoded), (signing.SIGNATURE_FILE, signature)]
        if len(writer.parts) > 1:
            subset = manifest.part_manifest(full, number)
            entries.append((manifest.manifest_name(number), manifest.encode(subset)))
        per_part[number] = entries
    paths = writer.finish(per_part, when)
    (writer.work / REPORT).write_bytes(report)
    return Dossier(_move_out(paths, writer.work / REPORT, out_dir), out_dir / REPORT, full)


def _move_out(paths: list[Path], report: Path, out_dir: Path) -> list[Path]:
    """Replace the previous dossier in ``out_dir`` (whatever its number of parts)."""
    for glob in _OUTPUT_GLOBS:
        for old in out_dir.glob(glob):
            old.unlink()
    report.replace(out_dir / REPORT)
    moved = []
    for path in paths:
        target = out_dir / path.name
        path.replace(target)
        moved.append(target)
    return moved
