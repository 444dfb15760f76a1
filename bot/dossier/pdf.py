"""The PDF report of a dossier (fpdf2), in the user's language.

Pages: a cover (the case's facts, masked as the user chose, the fingerprint of the key that
signs the manifest, and the timeline chart), the evidence index as a table, thumbnails of the
images (and which images have none, and why), and the first destination's document. One
font does everything: WenQuanYi Micro Hei (``content/fonts``), which covers Chinese, Latin
with accents and the punctuation the texts use; it is embedded as a subset, so the text
renders and extracts on any machine. Characters the font lacks (emoji...) are replaced by a
white square rather than silently dropped.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, TextEmphasis, XPos, YPos
from fpdf.fonts import FontFace

from bot.content import DEFAULT_DIR
from bot.dossier.images import TOO_LARGE, UNREADABLE

FONT_PATH: Final = DEFAULT_DIR / "fonts" / "wqy-microhei.ttc"
FAMILY: Final = "wqy"
MISSING: Final = "\u25a1"
"""Shown for a character the font has no glyph for."""
_WIDTH: Final = 180.0
"""Usable page width in mm (A4, 15 mm margins)."""
_GREY: Final = (90, 90, 90)
_THUMB_COLUMNS: Final = 4
_THUMB_BOX: Final = (41.0, 70.0)
_MAX_THUMBS: Final = 200
_CJK: Final = (
    "\u2e80-\u2fff\u3000-\u30ff\u3100-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
)
_TOKEN: Final = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+|\s+")
"""A CJK character (a line may break after it), a word, or spaces."""
_NO_LINE_START: Final = frozenset("，。、；：？！）》」』〉】〕”’…,.;:!?)]}%")

Text = Callable[..., str]
"""Returns the content text of a ``dossier.*`` key in the report's language."""


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the report shows, already masked and labelled."""

    lang: str
    context: Mapping[str, Any]
    """The renderer's masked context of the case."""
    complaint: str
    chart: bytes | None
    hours: bytes | None
    """The hour-of-day chart of the collectors' pattern, when the user confirmed it."""
    thumbnails: Sequence[tuple[int, bytes]]
    """(evidence number, JPEG) of the images, in order."""
    images: int
    """How many images the dossier has (thumbnails may be fewer)."""
    files: int
    period: tuple[date, date] | None
    now: datetime
    signer: str = ""
    """The fingerprint of the key that signs the manifest."""
    no_preview: Sequence[tuple[int, str]] = ()
    """(evidence number, thumbnail status) of the images shown without a thumbnail."""


@functools.cache
def font_codepoints(path: Path = FONT_PATH) -> frozenset[int]:
    """Return the characters the report font can draw."""
    font = TTFont(path, fontNumber=0, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def printable(text: str) -> str:
    """Replace characters the font lacks (keeping line breaks and tabs as spaces)."""
    known = font_codepoints()
    return "".join(
        ch if ord(ch) in known or ch == "\n" else " " if ch == "\t" else MISSING for ch in text
    )


class _Report(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.add_font(FAMILY, "", str(FONT_PATH), collection_font_number=0)
        self.set_draw_color(150, 150, 150)
        self.set_line_width(0.2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.set_text_color(*_GREY)
        text = self.footer_text.replace("{page}", str(self.page_no()))
        self.cell(0, 5, text, align=Align.C)
        self.set_text_color(0, 0, 0)


def new_report(case_number: int, lang: str, now: datetime, text: Text) -> FPDF:
    """Create the document and load its font: the slow, fixed part (start it early)."""
    # "{page}" is filled per page by the footer, "{nb}" by fpdf2 at the end.
    footer = text("dossier.footer", case=case_number, page="{page}", pages="{nb}")
    pdf = _Report(printable(footer))
    pdf.set_title(printable(text("dossier.title")))
    pdf.set_creator("harassment-report-bot")
    pdf.set_lang(lang)
    pdf.set_creation_date(now)
    return pdf


def render_report(data: ReportData, text: Text, pdf: FPDF | None = None) -> bytes:
    """Lay out the report (in ``pdf`` from new_report, if given); return the PDF bytes."""
    if pdf is None:
        pdf = new_report(data.context["case"]["number"], data.lang, data.now, text)
    try:
        _cover(pdf, data, text)
        _index(pdf, data, text)
        _thumbnails(pdf, data, text)
        _complaint(pdf, data, text)
        return bytes(pdf.output())
    finally:
        close_report(pdf)


def close_report(pdf: FPDF) -> None:
    """Close the font files fpdf2 keeps open (it reads them lazily)."""
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()


def _heading(pdf: FPDF, title: str, size: float = 15) -> None:
    pdf.set_font(FAMILY, size=size)
    pdf.multi_cell(0, size * 0.5, printable(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _paragraph(pdf: FPDF, body: str, size: float = 10) -> None:
    pdf.set_font(FAMILY, size=size)
    for line in wrap(printable(body), pdf.epw, pdf.get_string_width):
        pdf.cell(0, size * 0.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Break text into lines that fit ``width``: between Chinese characters, at spaces.

    fpdf2 only breaks at spaces, which leaves Chinese text unbroken or oddly split. Here a
    line may break after any CJK character (closing punctuation never starts a line) and
    between words; a word longer than a line is cut. Leading spaces of a line are kept.
    """
    lines: list[str] = []
    for source in text.split("\n"):
        lines.extend(_wrap_line(source, width, measure) or [""])
    return lines


def _wrap_line(source: str, width: float, measure: Callable[[str], float]) -> list[str]:
    out: list[str] = []
    line, used = "", 0.0
    for token in _TOKEN.findall(source):
        size = measure(token)
        if token.isspace():
            if line or not out:
                line, used = line + token, used + size
            continue
        pieces = [token] if size <= width else list(token)
        for piece in pieces:
            piece_size = size if len(pieces) == 1 else measure(piece)
            if used + piece_size > width and line.strip() and piece not in _NO_LINE_START:
                out.append(line.rstrip())
                line, used = "", 0.0
            line, used = line + piece, used + piece_size
    if line.strip() or not out:
        out.append(line.rstrip())
    return out


def _plain(size: float | None = None, fill: tuple[int, int, int] | None = None) -> FontFace:
    return FontFace(family=FAMILY, emphasis=TextEmphasis(0), size_pt=size, fill_color=fill)


def _cover(pdf: FPDF, data: ReportData, text: Text) -> None:
    pdf.add_page()
    _heading(pdf, text("dossier.title"), size=22)
    case_number = data.context["case"]["number"]
    _heading(pdf, text("dossier.subtitle", case=case_number), size=13)
    pdf.set_font(FAMILY, size=10)
    with pdf.table(
        col_widths=(55, 125),
        width=_WIDTH,
        text_align=(Align.L, Align.L),
        borders_layout="HORIZONTAL_LINES",
        first_row_as_headings=False,
        line_height=5.5,
    ) as table:
        for label, value in _cover_fields(data, text):
            row = table.row()
            row.cell(printable(label), style=_plain(fill=(240, 240, 240)))
            row.cell(printable(value))
    pdf.ln(4)
    _chart(pdf, data, text)
    _paragraph(pdf, text("dossier.intro"))
    _heading(pdf, text("dossier.verify_title"), size=12)
    _paragraph(pdf, text("dossier.verify_text"), size=9)


def _cover_fields(data: ReportData, text: Text) -> list[tuple[str, str]]:
    context = data.context
    withheld = text("dossier.withheld")
    platform = context["platform"]
    fields = [
        (text("dossier.field_case"), f"#{context['case']['number']}"),
        (text("dossier.field_platform"), platform["name"] or withheld),
    ]
    if platform["operator"]:
        fields.append((text("dossier.field_operator"), platform["operator"]))
    fields += [
        (text("dossier.field_jurisdiction"), context["jurisdiction"]["name"] or "-"),
        (text("dossier.field_opened"), context["case"]["opened"]),
        (text("dossier.field_exported"), data.now.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if data.period:
        first, last = (day.isoformat() for day in data.period)
        fields.append(
            (text("dossier.field_period"), text("dossier.period", first=first, last=last))
        )
    count = len(context["evidence"])
    fields += [
        (text("dossier.field_items"), text("dossier.items_count", count=count, files=data.files)),
        (text("dossier.field_victim"), context["victim"]["name"] or withheld),
        (text("dossier.field_contact"), context["victim"]["contact"] or withheld),
    ]
    if data.signer:
        fields.append((text("dossier.field_signer"), data.signer))
    return fields


def _chart(pdf: FPDF, data: ReportData, text: Text) -> None:
    if data.chart is None:
        _paragraph(pdf, text("dossier.chart_empty"), size=9)
        _hours(pdf, data, text)
        return
    pdf.image(io.BytesIO(data.chart), w=_WIDTH)
    pdf.set_text_color(*_GREY)
    _paragraph(pdf, text("dossier.chart_caption"), size=8)
    pdf.set_text_color(0, 0, 0)
    _hours(pdf, data, text)


def _hours(pdf: FPDF, data: ReportData, text: Text) -> None:
    if data.hours is None:
        return
    pdf.image(io.BytesIO(data.hours), w=_WIDTH)
    pdf.set_text_color(*_GREY)
    _paragraph(pdf, text("dossier.hours_caption"), size=8)
    pdf.set_text_color(0, 0, 0)


def _index(pdf: FPDF, data: ReportData, text: Text) -> None:
    pdf.add_page()
    _heading(pdf, text("dossier.index_title"))
    pdf.set_font(FAMILY, size=8)
    headings = ("col_number", "col_kind", "col_received", "col_from", "col_sha256")
    missing = text("dossier.not_downloaded")
    with pdf.table(
        col_widths=(11, 34, 30, 45, 60),
        width=_WIDTH,
        text_align=Align.L,
        line_height=4,
        headings_style=_plain(fill=(225, 225, 225)),
        padding=1,
    ) as table:
        heading = table.row()
        for key in headings:
            heading.cell(printable(text(f"dossier.{key}")))
        for item in data.context["evidence"]:
            row = table.row()
            row.cell(str(item["number"]))
            row.cell(printable(item["kind"]))
            row.cell(item["received"].removesuffix(" UTC"))
            row.cell(printable(_short(item["from"] or "", 60)))
            sha = item["sha256"]
            row.cell(f"{sha[:32]}\n{sha[32:]}" if sha else printable(missing), style=_plain(6.5))


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _thumbnails(pdf: FPDF, data: ReportData, text: Text) -> None:
    if not data.thumbnails and not data.no_preview:
        return
    pdf.add_page()
    _heading(pdf, text("dossier.thumbs_title"))
    shown = data.thumbnails[:_MAX_THUMBS]
    if len(shown) < len(data.thumbnails):
        _paragraph(pdf, text("dossier.thumbs_more", shown=len(shown), total=data.images), 9)
    for status in (TOO_LARGE, UNREADABLE):
        numbers = [f"#{number}" for number, why in data.no_preview if why == status]
        if numbers:
            _paragraph(pdf, text(f"dossier.thumbs_{status}", numbers=", ".join(numbers)), 9)
    column_width = _WIDTH / _THUMB_COLUMNS
    box_w, box_h = _THUMB_BOX
    row_height = box_h + 7
    pdf.set_font(FAMILY, size=8)
    for index, (number, jpeg) in enumerate(shown):
        column = index % _THUMB_COLUMNS
        if column == 0 and index:
            pdf.set_y(pdf.get_y() + row_height)
        if column == 0 and pdf.get_y() + row_height > pdf.page_break_trigger:
            pdf.add_page()
        x = pdf.l_margin + column * column_width
        y = pdf.get_y()
        pdf.image(io.BytesIO(jpeg), x=x, y=y, w=box_w, h=box_h, keep_aspect_ratio=True)
        pdf.set_xy(x, y + box_h + 1)
        pdf.cell(box_w, 4, f"#{number}", align=Align.C)
        pdf.set_xy(pdf.l_margin, y)
    pdf.set_y(pdf.get_y() + row_height)


def _complaint(pdf: FPDF, data: ReportData, text: Text) -> None:
    pdf.add_page()
    _heading(pdf, text("dossier.complaint_title"))
    _paragraph(pdf, data.complaint.strip(), size=9.5)
