"""Private numbers hidden in the exported copies of the pictures.

What the reading of a picture found (bot/ocr.py: its lines, and within each the boxes of its
words or, in Chinese, of its characters) tells where a number stands in it. Every private
number of the case that the user did not choose to show (the privacy step's findings: their
ID, card and account numbers, their own phone, their contacts' phones) is looked for in
each line, by its letters and digits whatever separates them ("6222 0212 3456 7890",
"138-0000-1111", a phone with or without its country code), also when a line break cut it
in two. The words holding it are covered with solid boxes, padded, never blurred; a number
whose words cannot be told apart in its line covers the whole line.

The exported copy is then a new PNG made from the covered pixels (no metadata at all); the
manifest keeps the fingerprint of the untouched original and lists the boxes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Final

import phonenumbers
from PIL import Image, ImageDraw, ImageOps

from bot.ocr import Line, Page
from dialogs.case import Finding

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in the picture's pixels (x1, y1 excluded)."""

PAD: Final = 0.2
"""Padding around a covered word, as a share of its line's height."""
SHORTEST_PART: Final = 6
"""The fewest characters of a number a line must end or start with to count as part of it
(the rest on the next or the previous line)."""


def hidden_values(findings: Iterable[Finding]) -> list[str]:
    """The numbers to hide as they may be written: letters and digits only, upper case; a
    phone also without its country code."""
    values: list[str] = []
    for finding in findings:
        if finding.show:
            continue
        compact = _compact(finding.value)
        forms = [compact]
        if finding.kind.endswith("phone") or finding.value.startswith("+"):
            try:
                number = phonenumbers.parse(finding.value, None)
                forms.append(str(number.national_number))
            except phonenumbers.NumberParseException:
                pass
        values += [form for form in forms if len(form) >= SHORTEST_PART and form not in values]
    return values


def boxes_to_hide(page: Page, values: Sequence[str]) -> list[Box]:
    """The boxes that cover every one of ``values`` in the picture read as ``page``."""
    boxes: list[Box] = []
    for index, line in enumerate(page.lines):
        spans = _spans(line.text, values)
        after = page.lines[index + 1].text if index + 1 < len(page.lines) else ""
        before = page.lines[index - 1].text if index else ""
        spans += _cut_spans(line.text, before, after, values)
        for start, end in spans:
            boxes += _cover(line, start, end, page.width, page.height)
    return _merged(boxes)


def redact_image(data: bytes, boxes: Sequence[Box]) -> bytes:
    """The picture with the boxes painted solid black, as a PNG without metadata, upright."""
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _compact(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())


def _alnum(text: str) -> tuple[str, list[int]]:
    """The line's ASCII letters and digits, upper case, and where each stands in the line."""
    where = [i for i, ch in enumerate(text) if ch.isascii() and ch.isalnum()]
    return "".join(text[i].upper() for i in where), where


def _spans(text: str, values: Sequence[str]) -> list[tuple[int, int]]:
    """Where each value stands whole in the line: (first, last + 1) character indexes."""
    compact, where = _alnum(text)
    spans = []
    for value in values:
        start = compact.find(value)
        while start >= 0:
            spans.append((where[start], where[start + len(value) - 1] + 1))
            start = compact.find(value, start + 1)
    return spans


def _cut_spans(text: str, before: str, after: str, values: Sequence[str]) -> list[tuple[int, int]]:
    """A value the line break cut: its head ending this line (its tail starts the next), or
    its tail starting this line (its head ends the previous one)."""
    compact, where = _alnum(text)
    head_of_next, _ = _alnum(after)
    tail_of_previous, _ = _alnum(before)
    spans = []
    for value in values:
        for cut in range(SHORTEST_PART, len(value) - 1):
            head, tail = value[:cut], value[cut:]
            if compact.endswith(head) and head_of_next.startswith(tail[:SHORTEST_PART]):
                spans.append((where[len(compact) - cut], where[-1] + 1))
            rest = len(value) - cut
            starts = rest >= SHORTEST_PART and compact.startswith(value[-rest:])
            if starts and tail_of_previous.endswith(value[:-rest][-SHORTEST_PART:]):
                spans.append((where[0], where[rest - 1] + 1))
    return spans


def _cover(line: Line, start: int, end: int, width: int, height: int) -> list[Box]:
    """The padded boxes of the line's words that hold characters start..end-1; the whole
    line when its words do not spell it out."""
    x0, y0, x1, y1 = _bounds(line.box)
    pad = max(2, round((y1 - y0) * PAD))
    boxes = []
    placed = _place_words(line)
    if placed is None:
        boxes.append((x0, y0, x1, y1))
    else:
        held = [_bounds(box) for (first, last), box in placed if first < end and last > start]
        if held:  # the words in a row hold the number: one box over them all
            boxes.append((min(b[0] for b in held), min(b[1] for b in held),
                          max(b[2] for b in held), max(b[3] for b in held)))  # fmt: skip
        else:
            boxes.append((x0, y0, x1, y1))
    return [
        (max(0, bx0 - pad), max(0, by0 - pad), min(width, bx1 + pad), min(height, by1 + pad))
        for bx0, by0, bx1, by1 in boxes
    ]


def _place_words(line: Line) -> list[tuple[tuple[int, int], list[list[float]]]] | None:
    """Each word's characters in the line's text, in order; None if they do not match."""
    placed = []
    at = 0
    for word in line.words:
        found = line.text.find(word.text, at) if word.text else -1
        if found < 0 or line.text[at:found].strip():
            return None
        placed.append(((found, found + len(word.text)), word.box))
        at = found + len(word.text)
    if not placed or line.text[at:].strip():
        return None
    return placed


def _bounds(corners: list[list[float]]) -> Box:
    xs = [point[0] for point in corners]
    ys = [point[1] for point in corners]
    return int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1


def _merged(boxes: list[Box]) -> list[Box]:
    unique: list[Box] = []
    for box in boxes:
        if box not in unique:
            unique.append(box)
    return unique
