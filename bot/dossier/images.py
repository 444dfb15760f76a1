"""Metadata removal for exported images, and thumbnails for the PDF report.

JPEG, PNG, WebP and GIF are cleaned at the container level: the segments, chunks or blocks
that carry EXIF (GPS position, camera, times), XMP, IPTC, comments and embedded previews are
dropped and everything else is copied byte for byte, so the decoded pixels are exactly those
of the original and the format is unchanged. The EXIF orientation is the one fact kept (in a
minimal EXIF block of its own) so that a photo still shows the right way up. Other formats
that Pillow can read (TIFF, BMP...) are re-encoded losslessly as PNG; anything else is
copied as it is and reported as such.

Decoding is bounded: Pillow's decompression-bomb limit is set here (``MAX_PIXELS``), an
image is decoded only if that takes at most ``DECODE_BUDGET`` of memory (JPEGs at a reduced
scale with ``draft``), and the process decodes one image at a time. An image over the limits
(a 54-byte BMP can claim 40000×40000 pixels) is still evidence: it is exported as it came,
without a thumbnail, and the report says so.
"""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

ORIENTATION: Final = 0x0112
THUMB_BOX: Final = (360, 640)
"""Largest thumbnail, in pixels (portrait screenshots keep their shape)."""
MAX_PIXELS: Final = 200_000_000
"""Pillow's decompression-bomb limit, set for the whole process: an image claiming more
pixels than twice this is refused when it is opened (``DecompressionBombError``), and more
than this with a warning; here both mean "too large". A 200-megapixel camera JPEG passes
(it is decoded at 1/8 scale for its thumbnail)."""
DECODE_BUDGET: Final = 64 * 1024 * 1024
"""The most memory one decoded image may take, counted at 4 bytes a pixel (Pillow's most):
16 megapixels at full scale. A 13000×13000 PNG would take 676 MB: it gets no thumbnail."""
MADE: Final = "made"
TOO_LARGE: Final = "too_large"
UNREADABLE: Final = "unreadable"

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
_ONE_AT_A_TIME: Final = threading.Lock()
"""Held while an image is decoded: the process holds at most one ``DECODE_BUDGET``."""

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP: Final = frozenset(
    {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD", b"hIST"}
    | {b"cICP", b"mDCv", b"cLLi", b"acTL", b"fcTL", b"fdAT"}
)
"""Ancillary PNG chunks about colour, transparency and animation; critical chunks always stay."""
_WEBP_DROP: Final = frozenset({b"EXIF", b"XMP "})
_GIF_KEEP_APPS: Final = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The exported bytes of an image and how they were obtained."""

    data: bytes
    format: str
    """"jpeg", "png", "webp" or "gif" (the output's format)."""
    method: str
    """"metadata_removed", "converted_to_png" or "copy"."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """The report's preview of an image, or why there is none."""

    jpeg: bytes | None
    status: str
    """``MADE``; ``TOO_LARGE`` (decoding it would take more memory than allowed: a
    decompression bomb, or just huge); or ``UNREADABLE``."""


class TooLarge(Exception):
    """Decoding the image would take more memory than allowed."""


def sniff(head: bytes) -> str | None:
    """Return the image format of a file from its first bytes, or None if not an image."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*") or head[:2] == b"BM":
        return "other"
    return None


def clean_image(data: bytes, kind: str) -> Cleaned:
    """Return ``data`` without metadata, keeping pixels and (where possible) the format."""
    strippers = {"jpeg": strip_jpeg, "png": strip_png, "webp": strip_webp, "gif": strip_gif}
    stripper = strippers.get(kind)
    if stripper is not None:
        try:
            return Cleaned(stripper(data), kind, "metadata_removed")
        except (ValueError, IndexError, struct.error):
            pass  # malformed container: try Pillow below
    converted = _to_png(data)
    if converted is not None:
        return Cleaned(converted, "png", "converted_to_png")
    return Cleaned(data, kind, "copy")


# -- JPEG ---------------------------------------------------------------------------------


def strip_jpeg(data: bytes) -> bytes:
    """Drop APPn (except JFIF, ICC profile, Adobe), comments, and anything after the image."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    out = [b"\xff\xd8"]
    orientation: int | None = None
    pos = 2
    while True:
        pos, marker = _jpeg_marker(data, pos)
        if marker == 0xD9:  # end of image: whatever follows (previews, trailers) is dropped
            out.append(b"\xff\xd9")
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > len(data):
            raise ValueError("truncated JPEG segment")
        segment = data[pos:end]
        if marker == 0xE1 and segment[4:10] == b"Exif\x00\x00":
            orientation = orientation or _orientation(segment[4:])
        if _jpeg_keep(marker, segment[4:]):
            out.append(segment)
        pos = end
        if marker == 0xDA:  # start of scan: copy the entropy-coded data up to the next marker
            scan_end = _jpeg_scan_end(data, pos)
            out.append(data[pos:scan_end])
            pos = scan_end
    exif = _minimal_exif(orientation)
    if exif:
        out.insert(_jpeg_exif_slot(out), _jpeg_segment(0xE1, exif))
    return b"".join(out)


def _jpeg_marker(data: bytes, pos: int) -> tuple[int, int]:
    if data[pos] != 0xFF:
        raise ValueError("JPEG marker expected")
    while data[pos + 1] == 0xFF:  # fill bytes
        pos += 1
    return pos, data[pos + 1]


def _jpeg_keep(marker: int, payload: bytes) -> bool:
    if marker == 0xFE:  # comment
        return False
    if not 0xE0 <= marker <= 0xEF:
        return True
    if marker == 0xE0:
        return payload.startswith(b"JFIF\x00")
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")
    return marker == 0xEE and payload.startswith(b"Adobe")


def _jpeg_scan_end(data: bytes, pos: int) -> int:
    """Return where the entropy-coded data starting at ``pos`` ends (at the next marker)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise ValueError("truncated JPEG scan")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _jpeg_exif_slot(parts: list[bytes]) -> int:
    """Put the EXIF segment after SOI and a JFIF segment if there is one."""
    return 2 if len(parts) > 1 and parts[1][:2] == b"\xff\xe0" else 1


# -- PNG ----------------------------------------------------------------------------------


def strip_png(data: bytes) -> bytes:
    """Keep critical chunks and colour/animation chunks; drop text, time, EXIF and the rest."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    out = [_PNG_SIGNATURE]
    orientation: int | None = None
    pos = len(_PNG_SIGNATURE)
    while True:
        length = int.from_bytes(data[pos : pos + 4], "big")
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        ctype = data[pos + 4 : pos + 8]
        if ctype == b"eXIf":
            orientation = orientation or _orientation(data[pos + 8 : pos + 8 + length])
        elif ctype == b"IDAT" and orientation:
            out.append(_png_chunk(b"eXIf", _minimal_exif(orientation)[6:]))
            orientation = None
        if ctype[0:1].isupper() or ctype in _PNG_KEEP:
            out.append(data[pos:end])
        pos = end
        if ctype == b"IEND":
            return b"".join(out)


def _png_chunk(ctype: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(ctype + payload)
    return len(payload).to_bytes(4, "big") + ctype + payload + crc.to_bytes(4, "big")


# -- WebP ---------------------------------------------------------------------------------


def strip_webp(data: bytes) -> bytes:
    """Drop the EXIF and XMP chunks (keeping a minimal EXIF for the orientation)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    chunks: list[tuple[bytes, bytes]] = []
    orientation: int | None = None
    pos = 12
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        payload = data[pos + 8 : pos + 8 + size]
        if len(payload) != size:
            raise ValueError("truncated WebP chunk")
        if fourcc == b"EXIF":
            orientation = orientation or _orientation(payload)
        if fourcc not in _WEBP_DROP:
            chunks.append((fourcc, payload))
        pos += 8 + size + (size & 1)
    exif = _minimal_exif(orientation)
    return _webp_join(chunks, exif[6:] if exif else None)


def _webp_join(chunks: list[tuple[bytes, bytes]], exif: bytes | None) -> bytes:
    if exif is not None and chunks and chunks[0][0] == b"VP8X":
        chunks.append((b"EXIF", exif))
    body = bytearray(b"WEBP")
    for fourcc, payload in chunks:
        if fourcc == b"VP8X":
            flags = payload[0] & ~0x0C  # clear the EXIF and XMP flags...
            if exif is not None:
                flags |= 0x08  # ...and set EXIF again when a minimal one is kept
            payload = bytes((flags,)) + payload[1:]
        body += fourcc + len(payload).to_bytes(4, "little") + payload
        if len(payload) & 1:
            body += b"\x00"
    return b"RIFF" + len(body).to_bytes(4, "little") + bytes(body)


# -- GIF ----------------------------------------------------------------------------------


def strip_gif(data: bytes) -> bytes:
    """Drop comment and application extensions (except looping); keep frames as they are."""
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("not a GIF")
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    out = [data[:pos]]
    while True:
        introducer = data[pos]
        if introducer == 0x3B:  # trailer
            out.append(b"\x3b")
            return b"".join(out)
        if introducer == 0x21:
            end = _gif_sub_blocks(data, pos + 2)
            if _gif_keep(data[pos + 1], data[pos + 2 : end]):
                out.append(data[pos:end])
        elif introducer == 0x2C:
            end = _gif_image_end(data, pos)
            out.append(data[pos:end])
        else:
            raise ValueError("unknown GIF block")
        pos = end


def _gif_sub_blocks(data: bytes, pos: int) -> int:
    """Return the position after the sub-blocks starting at ``pos`` and their terminator."""
    while (size := data[pos]) != 0:
        pos += 1 + size
    return pos + 1


def _gif_keep(label: int, body: bytes) -> bool:
    if label == 0xFE:  # comment
        return False
    if label == 0xFF:  # application: keep only the looping extensions
        return body[1:12] in _GIF_KEEP_APPS
    return True


def _gif_image_end(data: bytes, pos: int) -> int:
    flags = data[pos + 9]
    pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    return _gif_sub_blocks(data, pos + 1)  # after the LZW minimum code size


# -- EXIF orientation, Pillow fallback, thumbnails -----------------------------------------


def _orientation(exif: bytes) -> int | None:
    """Return the EXIF orientation (2-8) if it is not the default one."""
    parsed = Image.Exif()
    try:
        parsed.load(exif)
        value = parsed.get(ORIENTATION)
    except (ValueError, TypeError, KeyError, struct.error, SyntaxError):
        return None
    return value if isinstance(value, int) and 2 <= value <= 8 else None


def _minimal_exif(orientation: int | None) -> bytes:
    """Return an ``Exif\\0\\0`` block holding only the orientation, or b"" if not needed."""
    if orientation is None:
        return b""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def _to_png(data: bytes) -> bytes | None:
    """Re-encode an image Pillow can read as PNG without metadata; None if it cannot."""
    try:
        with _decodable(data) as image:
            if getattr(image, "n_frames", 1) != 1:
                return None
            image.load()
            if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
                return None
            out = io.BytesIO()
            image.save(out, format="PNG")
    except (TooLarge, UnidentifiedImageError, OSError, ValueError):
        return None
    return out.getvalue()


def thumbnail(data: bytes) -> Thumbnail:
    """Return a small JPEG of the image (turned upright, no metadata), or why there is none."""
    try:
        with _decodable(data, THUMB_BOX) as image:
            # In place, by whole-factor box reduction first; turning it upright is cheaper after.
            image.thumbnail(THUMB_BOX, reducing_gap=1.0)
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            _flatten(upright).save(out, format="JPEG", quality=70)
    except TooLarge:
        return Thumbnail(None, TOO_LARGE)
    except (UnidentifiedImageError, OSError, ValueError):
        return Thumbnail(None, UNREADABLE)
    return Thumbnail(out.getvalue(), MADE)


@contextmanager
def _decodable(data: bytes, box: tuple[int, int] | None = None) -> Iterator[Image.Image]:
    """Open an image to decode it, at a reduced scale for ``box`` where the format allows
    (JPEG), one image at a time in the process; raise TooLarge if it claims too many pixels
    or decoding would take more than ``DECODE_BUDGET``."""
    with _ONE_AT_A_TIME:
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:  # in production Pillow only warned
                    raise TooLarge
                # libjpeg keeps a progressive JPEG's coefficients at full scale whatever the
                # draft: 2 bytes a sample.
                progressive = image.format == "JPEG" and image.info.get("progressive")
                floor = width * height * 2 * len(image.getbands()) if progressive else 0
                if box is not None:
                    image.draft("RGB", box)
                width, height = image.size
                if max(floor, width * height * 4) > DECODE_BUDGET:
                    raise TooLarge
                yield image
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise TooLarge from error


def _flatten(image: Image.Image) -> Image.Image:
    """Return an RGB image, transparent areas on white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
